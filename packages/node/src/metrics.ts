import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The node's Prometheus metrics (STYLE.md: terrane_<package>_<thing>_<unit>), in one registry the API serves. */
export function createNodeMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'terrane_node_process_' })
  return {
    registry,
    height: new Gauge({ name: 'terrane_node_height', help: 'Height of the last committed block', registers: [registry] }),
    round: new Gauge({ name: 'terrane_node_consensus_round', help: 'Consensus round of the current height', registers: [registry] }),
    blockIntervalSeconds: new Histogram({
      name: 'terrane_node_block_interval_seconds',
      help: 'Time between consecutive block headers',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    txsTotal: new Counter({ name: 'terrane_node_txs_committed_total', help: 'Transactions committed in blocks', registers: [registry] }),
    mempoolTxs: new Gauge({ name: 'terrane_node_mempool_txs', help: 'Transactions waiting in the mempool', registers: [registry] }),
    /** One per drop `GET /v1/txs/:hash/status` reports, with the same reason (src/mempool/dropped-txs.ts). */
    mempoolDroppedTotal: new Counter({
      name: 'terrane_node_mempool_dropped_total',
      help: 'Transactions that left the mempool without being committed, by reason (replaced, evicted, stale, invalid_on_recheck, flushed)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    peers: new Gauge({ name: 'terrane_node_peers', help: 'Connected peers', registers: [registry] }),
    consensusRejectedTotal: new Counter({
      name: 'terrane_node_consensus_rejected_total',
      help: 'Consensus inputs ignored, by reason',
      labelNames: ['reason', 'event'],
      registers: [registry],
    }),
  }
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>
