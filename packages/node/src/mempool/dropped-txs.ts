import { sha256, toHex } from '@terrane/codec'
import type { MempoolInit, RemovalReason } from './mempool.ts'

/**
 * Dropped transactions a node remembers for `GET /v1/txs/:hash/status`. About 180 bytes each
 * (measured on Node 20: 93 B of heap per entry and map slot, plus ~88 B for its 64-character
 * hex key), so under 2 MB at the bound. At the devnet's ~450 tx/s saturation, 10,000 drops
 * cover at least 20 s of a pool dropping everything it admits; a `--wait` poller asks every 200 ms.
 */
export const droppedTxsMax = 10_000

/** Why and when a transaction left this node's mempool without being committed. */
export interface DroppedTx {
  reason: RemovalReason
  /** Milliseconds since the Unix epoch, from the node's clock. */
  droppedAtMs: number
}

export interface DroppedTxsInit {
  /** @default droppedTxsMax (10,000) */
  entriesMax?: number
  /**
   * Called once per recorded drop, with the reason the status reports (the node counts them in
   * `terrane_node_mempool_dropped_total{reason}`). Called even when the bound forgets an older entry.
   */
  onRecorded?: (reason: RemovalReason) => void
}

/**
 * A bounded record of dropped transactions, keyed by hex hash: the oldest drop is forgotten
 * first, and an entry goes when the same transaction is later committed or re-admitted, so
 * it never contradicts the block store or the mempool. In memory only: a restart forgets it.
 */
export class DroppedTxs {
  /** Insertion order is drop order: the first key is the oldest. */
  private readonly entries = new Map<string, DroppedTx>()
  readonly entriesMax: number
  private readonly onRecorded: ((reason: RemovalReason) => void) | undefined

  constructor(init: DroppedTxsInit = {}) {
    this.entriesMax = init.entriesMax ?? droppedTxsMax
    this.onRecorded = init.onRecorded
    if (!Number.isSafeInteger(this.entriesMax) || this.entriesMax < 1)
      throw new RangeError(`entriesMax must be >= 1, got ${this.entriesMax}`)
  }

  get size(): number {
    return this.entries.size
  }

  /** Records a drop (a repeated drop of the same hash counts as the newest), forgetting the oldest beyond the bound. */
  record(hash: string, reason: RemovalReason, droppedAtMs: number): void {
    this.entries.delete(hash)
    this.entries.set(hash, { reason, droppedAtMs })
    if (this.entries.size > this.entriesMax) this.entries.delete(this.entries.keys().next().value as string)
    this.onRecorded?.(reason)
  }

  /** Forgets a drop (the tx was committed or admitted again); returns whether there was one. */
  forget(hash: string): boolean {
    return this.entries.delete(hash)
  }

  get(hash: string): DroppedTx | undefined {
    return this.entries.get(hash)
  }

  /** Forgets the drops of a committed block's txs (a tx dropped here may commit from another validator's pool). */
  forgetCommitted(txs: readonly Uint8Array[]): void {
    if (this.entries.size === 0) return // the usual case: no hashing per block
    for (const tx of txs) this.entries.delete(toHex(sha256(tx)))
  }

  /** The mempool callbacks that keep this record: every drop in, every (re-)admission out. */
  mempoolHooks(nowMs: () => number): Required<Pick<MempoolInit, 'onRemoved' | 'onAdded'>> {
    return {
      onRemoved: (hash, reason) => this.record(toHex(hash), reason, nowMs()),
      onAdded: (hash) => {
        if (this.entries.size > 0) this.entries.delete(toHex(hash))
      },
    }
  }
}
