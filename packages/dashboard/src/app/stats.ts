/** Chain health figures from recent block headers (newest first). Pure, tested in node. */
import type { BlockHeaderDto } from '@terrane/sdk'

export interface ChainStats {
  /** Mean time between consecutive blocks, or null with fewer than two. */
  blockIntervalMs: number | null
  /** Transactions per second over the span of the headers. */
  txsPerSecond: number | null
  /** Blocks each proposer made among the headers. */
  proposedByAddress: Map<string, number>
}

export function chainStats(headersNewestFirst: readonly BlockHeaderDto[]): ChainStats {
  const proposedByAddress = new Map<string, number>()
  for (const h of headersNewestFirst) proposedByAddress.set(h.proposer, (proposedByAddress.get(h.proposer) ?? 0) + 1)
  const newest = headersNewestFirst[0]
  const oldest = headersNewestFirst[headersNewestFirst.length - 1]
  if (newest === undefined || oldest === undefined || newest.height === oldest.height)
    return { blockIntervalMs: null, txsPerSecond: null, proposedByAddress }
  const spanMs = newest.timeMs - oldest.timeMs
  const intervals = newest.height - oldest.height
  // Transactions of the blocks after the oldest one fall inside the span.
  const txs = headersNewestFirst.slice(0, -1).reduce((sum, h) => sum + h.txCount, 0)
  return {
    blockIntervalMs: spanMs / intervals,
    txsPerSecond: spanMs > 0 ? (txs * 1000) / spanMs : null,
    proposedByAddress,
  }
}

/** Mean of the latest `count` samples, or null. */
export function meanOfLatest(samples: readonly number[], count: number): number | null {
  const recent = samples.slice(-count)
  return recent.length === 0 ? null : recent.reduce((a, b) => a + b, 0) / recent.length
}
