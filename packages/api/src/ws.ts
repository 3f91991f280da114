/**
 * WebSocket event streams at /v1/ws. A client sends `subscribe` messages with a
 * topic filter (and optionally a height to resume from) and receives `event`
 * messages tagged with its subscription id. Bounds: 1 MiB per message (ws's own
 * default is 100 MiB), at most 100 clients (checked at the upgrade), 5
 * subscriptions per client, and a bounded per-client send queue: a client that
 * lets it overflow is closed with code 4008 (API_WS_SLOW_CONSUMER) and resumes
 * from the last height it saw.
 */
import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { EventSubscription, NodeBackend } from './backend.ts'
import { ApiError, errorCodes } from './errors.ts'
import type { ApiMetrics } from './metrics.ts'
import { WsClientMessage, type EventDto, type WsServerMessageDto } from './schemas.ts'

export interface WsLimits {
  /** CometBFT's default. @default 100 */
  clientsMax: number
  /** CometBFT's default. @default 5 */
  subscriptionsPerClientMax: number
  /** Largest message either way (ws `maxPayload`). @default 1_048_576 */
  messageBytesMax: number
  /** Messages sent to one client and not yet flushed before it is dropped as slow. @default 4096 */
  queueMessagesMax: number
}

export const wsLimitsDefault: WsLimits = {
  clientsMax: 100,
  subscriptionsPerClientMax: 5,
  messageBytesMax: 1024 * 1024,
  queueMessagesMax: 4096,
}

const checkClientMessage = TypeCompiler.Compile(WsClientMessage)

export interface WsComponents {
  backend: NodeBackend
  metrics?: ApiMetrics
}

export function registerEventStream(app: FastifyInstance, components: WsComponents, limits: WsLimits): void {
  const { backend, metrics } = components
  app.get('/v1/ws', { websocket: true, schema: { hide: true } }, (socket: WebSocket) => {
    const subscriptions = new Map<string, EventSubscription>()
    let pending = 0
    let isClosed = false

    const closeAll = (): void => {
      isClosed = true
      for (const s of subscriptions.values()) s.close()
      metrics?.wsSubscriptions.dec(subscriptions.size)
      subscriptions.clear()
    }

    const send = (message: WsServerMessageDto): void => {
      if (isClosed) return
      if (pending >= limits.queueMessagesMax) {
        metrics?.wsDroppedClientsTotal.inc({ reason: 'slow_consumer' })
        closeAll()
        socket.close(errorCodes.API_WS_SLOW_CONSUMER.wsCloseCode, 'API_WS_SLOW_CONSUMER')
        return
      }
      pending++
      socket.send(JSON.stringify(message), () => {
        pending--
      })
    }

    const sendError = (err: ApiError, id?: string): void => {
      const body = err.toBody().error
      send(id === undefined ? { type: 'error', error: body } : { type: 'error', id, error: body })
    }

    socket.on('message', (data, isBinary) => {
      if (isClosed) return
      let message: unknown
      try {
        message = isBinary ? undefined : JSON.parse(data.toString())
      } catch {
        message = undefined
      }
      if (!checkClientMessage.Check(message)) {
        const first = message === undefined ? null : checkClientMessage.Errors(message).First()
        sendError(
          new ApiError(
            'API_WS_BAD_MESSAGE',
            'expected {"op":"subscribe","id","filter",fromHeight?} or {"op":"unsubscribe","id"}',
            first === null || first === undefined ? undefined : { path: first.path, message: first.message },
          ),
        )
        return
      }
      if (message.op === 'unsubscribe') {
        const s = subscriptions.get(message.id)
        if (s !== undefined) {
          s.close()
          subscriptions.delete(message.id)
          metrics?.wsSubscriptions.dec()
        }
        send({ type: 'unsubscribed', id: message.id })
        return
      }
      const { id, filter, fromHeight } = message
      if (subscriptions.has(id)) return sendError(new ApiError('API_WS_BAD_MESSAGE', `subscription ${id} exists already`), id)
      if (subscriptions.size >= limits.subscriptionsPerClientMax)
        return sendError(
          new ApiError('API_WS_TOO_MANY_SUBSCRIPTIONS', `at most ${limits.subscriptionsPerClientMax} subscriptions per client`),
          id,
        )
      // Acknowledge first, so that replayed events follow the acknowledgement.
      send({ type: 'subscribed', id })
      const onEvent = (event: EventDto): void => {
        metrics?.wsEventsSentTotal.inc()
        send({ type: 'event', id, event })
      }
      try {
        const subscription = backend.subscribe(filter, onEvent, fromHeight === undefined ? {} : { fromHeight })
        if (isClosed) subscription.close()
        else {
          subscriptions.set(id, subscription)
          metrics?.wsSubscriptions.inc()
        }
      } catch (err) {
        if (err instanceof ApiError) sendError(err, id)
        else {
          app.log.error({ err }, 'Failed to subscribe')
          sendError(new ApiError('API_INTERNAL', 'subscription failed'), id)
        }
      }
    })
    socket.on('close', closeAll)
    socket.on('error', closeAll)
  })
}
