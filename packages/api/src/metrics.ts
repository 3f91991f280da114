import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/**
 * The API's metrics, declared in one place (`terrane_api_*`). The node passes
 * its own registry so that one /metrics serves every package's metrics.
 */
export interface ApiMetrics {
  requestDurationSeconds: Histogram<'method' | 'route' | 'status_code'>
  wsClients: Gauge
  wsSubscriptions: Gauge
  wsDroppedClientsTotal: Counter<'reason'>
  wsEventsSentTotal: Counter
  graphqlRejectedTotal: Counter<'code'>
  eventLoopLagSeconds: Gauge<'quantile'>
  /** Stops the event-loop sampler. */
  close(): void
}

/** Event-loop delay sampling resolution (perf_hooks default is 10 ms). */
const eventLoopResolutionMs = 10

export function createApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry]
  const lag: IntervalHistogram = monitorEventLoopDelay({ resolution: eventLoopResolutionMs })
  lag.enable()
  const eventLoopLagSeconds = new Gauge({
    name: 'terrane_api_event_loop_lag_seconds',
    help: 'Event-loop delay of the API process since the last scrape, by quantile',
    labelNames: ['quantile'],
    registers,
    collect() {
      // perf_hooks reports nanoseconds.
      this.set({ quantile: '0.5' }, lag.percentile(50) / 1e9)
      this.set({ quantile: '0.99' }, lag.percentile(99) / 1e9)
      this.set({ quantile: '1' }, lag.max / 1e9)
      lag.reset()
    },
  })
  return {
    requestDurationSeconds: new Histogram({
      name: 'terrane_api_request_duration_seconds',
      help: 'API request latency by route (the route pattern, not the URL), method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    wsClients: new Gauge({ name: 'terrane_api_ws_clients', help: 'Connected WebSocket clients (event streams and GraphQL)', registers }),
    wsSubscriptions: new Gauge({ name: 'terrane_api_ws_subscriptions', help: 'Active event-stream subscriptions', registers }),
    wsDroppedClientsTotal: new Counter({
      name: 'terrane_api_ws_dropped_clients_total',
      help: 'WebSocket clients closed by the server, by reason',
      labelNames: ['reason'],
      registers,
    }),
    wsEventsSentTotal: new Counter({ name: 'terrane_api_ws_events_sent_total', help: 'Events sent on event streams', registers }),
    graphqlRejectedTotal: new Counter({
      name: 'terrane_api_graphql_rejected_total',
      help: 'GraphQL documents refused by the limits, by error code',
      labelNames: ['code'],
      registers,
    }),
    eventLoopLagSeconds,
    close: () => lag.disable(),
  }
}
