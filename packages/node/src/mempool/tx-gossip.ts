import { decode, encode } from '@terrane/codec'
import type { P2PNode } from '@terrane/p2p'
import { txBatchSchema } from '../consensus/wire.ts'
import type { AddResult, Mempool } from './mempool.ts'

export const txTopic = 'txs'
/** Transactions per gossip message (gossipsub manages hundreds of messages/s, not thousands). */
export const txBatchTxsMax = 1024
/** Bytes per gossip message, under gossipsub's 1 MiB default. */
export const txBatchBytesMax = 900 * 1024
/** How long a new transaction may wait to join a batch. */
export const txBatchDelayMs = 20
/** Peers' txs pooled between two yields to the event loop. */
export const gossipAddSliceTxsMax = 64

/**
 * Spreads transactions between mempools: local submissions are pooled, then sent in
 * batches over gossipsub (StrictNoSign: each transaction carries its own signature,
 * checked by every receiving mempool). A batch that does not decode costs its sender.
 */
export class TxGossip {
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private timer: NodeJS.Timeout | undefined
  /** Peers' txs not pooled because the pool was full (for metrics and tests). */
  skippedWhileFull = 0

  constructor(
    private readonly p2p: P2PNode,
    private readonly mempool: Mempool,
  ) {}

  start(): void {
    this.p2p.subscribe(
      txTopic,
      (_from, bytes) => {
        void this.addBatch(decode(txBatchSchema, bytes))
      },
      {
        validate: (_from, bytes) => {
          try {
            decode(txBatchSchema, bytes)
            return 'accept'
          } catch {
            return 'reject'
          }
        },
      },
    )
  }

  /**
   * Pools a peer's batch in slices of `gossipAddSliceTxsMax`, yielding to the event loop
   * between slices: each tx costs a signature check, and a 1,024-tx batch checked in one go
   * held consensus messages and timers back by as long (under load, seconds).
   */
  private async addBatch(txs: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < txs.length; i++) {
      if (i > 0 && i % gossipAddSliceTxsMax === 0) await new Promise((resolve) => setImmediate(resolve))
      const tx = txs[i] as Uint8Array
      // A full pool takes peers' txs only as room opens: their origin keeps them (and
      // proposes them in its turn), so skipping costs nothing and spares a decode and a
      // signature check per tx exactly when the node is overloaded (CometBFT refuses
      // before CheckTx when full, too). Local submissions may still outbid by fee.
      if (this.mempool.isFull(tx.length)) {
        this.skippedWhileFull++
        continue
      }
      this.mempool.add(tx)
    }
  }

  /** Adds a local transaction to the mempool and, if accepted, queues it for gossip. */
  submit(tx: Uint8Array): AddResult {
    const result = this.mempool.add(tx)
    if (result.accepted) this.enqueue(tx)
    return result
  }

  private enqueue(tx: Uint8Array): void {
    if (this.pendingBytes + tx.length > txBatchBytesMax || this.pending.length >= txBatchTxsMax) this.flush()
    this.pending.push(tx)
    this.pendingBytes += tx.length
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), txBatchDelayMs)
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.length === 0) return
    const batch = encode(txBatchSchema, this.pending)
    this.pending = []
    this.pendingBytes = 0
    // Delivery is best effort: every validator's mempool also reaches the proposer's blocks.
    void this.p2p.publish(txTopic, batch).catch(() => {})
  }

  stop(): void {
    this.flush()
  }
}
