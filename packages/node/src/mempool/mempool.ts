import { sha256, toHex } from '@terrane/codec'

/**
 * How long a client refused for a full pool is told to wait (HTTP Retry-After): about one
 * block, after which a block's worth of room has opened.
 */
export const mempoolFullRetryAfterMs = 1000

/** What the application says about a transaction, against committed state. */
export type TxCheck = { ok: true; sender: Uint8Array; nonce: number; fee: bigint } | { ok: false; code: number; log: string }

/**
 * Checks a transaction against the last committed state (the chain's `checkTx`).
 * `accountNonce` is the sender's next nonce in that state.
 */
export interface TxChecker {
  check(tx: Uint8Array): TxCheck
  accountNonce(sender: Uint8Array): number
  /**
   * Sender and fee from the bytes alone, without checking signatures or state (a cached
   * decode), or undefined if they do not decode. Lets a full pool refuse a tx before the
   * signature check, and a block's txs that were never pooled here mark their sender for
   * re-check. Without it, both fall back to `check`.
   */
  peek?(tx: Uint8Array): { sender: Uint8Array; nonce: number; fee: bigint } | undefined
}

export type MempoolRejection =
  | 'invalid' // the application refused it (bad signature, balance, ...)
  | 'duplicate' // the same bytes are already pooled or were committed recently
  | 'stale_nonce' // nonce below the sender's next nonce
  | 'nonce_taken' // another tx holds this nonce and the fee is not high enough to replace it
  | 'sender_full' // too many txs from one sender
  | 'queue_full' // behind a nonce gap, and the share of the pool for such txs is taken
  | 'too_large' // over the per-transaction byte limit
  | 'pool_full' // full, and the fee does not beat the cheapest evictable tx

export type AddResult =
  | { accepted: true; hash: Uint8Array; replaced?: Uint8Array; evicted: Uint8Array[] }
  | { accepted: false; reason: MempoolRejection; code?: number; log?: string }

/**
 * Why a pooled transaction left the pool without being committed: a same-nonce tx paid the
 * fee bump (`replaced`), a higher-fee tx took its room in a full pool (`evicted`), its nonce
 * was committed by another tx (`stale`), it failed the re-check after a block
 * (`invalid_on_recheck`), or an operator flushed the pool (`flushed`).
 */
export type RemovalReason = 'replaced' | 'evicted' | 'stale' | 'invalid_on_recheck' | 'flushed'

export interface MempoolInit {
  /** @default 50_000 */
  txsMax?: number
  /** @default 64 MiB */
  bytesMax?: number
  /** @default 1 MiB, CometBFT's max_tx_bytes */
  txBytesMax?: number
  /** Pending txs per sender, ready and queued together. @default 256 */
  perSenderMax?: number
  /**
   * Txs behind a nonce gap (queued: not executable until the gap fills) the pool holds at
   * most, as Ethereum pools bound their queued txs apart from pending ones. Without it a
   * pool can fill with txs that cannot execute, refuse the very tx that would fill a gap as
   * `pool_full`, and stall for good (every refused sender's later txs are queued). @default txsMax / 4
   */
  queuedTxsMax?: number
  /** Recently committed hashes remembered to refuse re-submission. @default 100_000 */
  committedCacheMax?: number
  /** A replacement must pay at least this much more fee, in percent (as Ethereum's tx pools). @default 10 */
  replaceFeeBumpPercent?: number
  /**
   * Pooled txs re-checked after a block beyond those of the block's senders (whose nonce
   * and balance the block changed, always re-checked): a rotating slice, so the cost of a
   * block stays bounded however full the pool is, and every tx is re-checked within
   * `txsMax / recheckTxsMax` blocks. A tx that went invalid meanwhile only fails in
   * `prepareProposal` or execution, never in consensus. @default 1_000
   */
  recheckTxsMax?: number
  /** Told about every tx that leaves without being committed (so nothing is lost silently). */
  onRemoved?: (hash: Uint8Array, reason: RemovalReason) => void
  /** Told about every tx admitted (local or a peer's), so a record of its earlier drop can be cleared. */
  onAdded?: (hash: Uint8Array) => void
}

interface Entry {
  tx: Uint8Array
  hash: Uint8Array
  key: string
  sender: string
  senderBytes: Uint8Array
  nonce: number
  fee: bigint
  /** Fee per byte, scaled, for ordering. */
  priority: bigint
  /** Arrival order breaks priority ties deterministically. */
  arrival: number
}

interface SenderQueue {
  bytes: Uint8Array
  /** Next nonce of the sender in committed state. */
  baseNonce: number
  byNonce: Map<number, Entry>
}

/** The sender's first nonce missing from the pool from `baseNonce` on (txs below it are ready). */
function readyEndOf(queue: SenderQueue | undefined, baseNonce: number): number {
  let nonce = baseNonce
  if (queue !== undefined) while (queue.byNonce.has(nonce)) nonce++
  return nonce
}

function priorityOf(fee: bigint, size: number): bigint {
  return (fee * 1_000_000n) / BigInt(Math.max(1, size))
}

/**
 * The transaction pool: priority by fee per byte, nonce-ordered per sender with
 * gaps held back (a tx after a gap is queued until the gap fills), bounded by count
 * and bytes with eviction from the tails of sender queues (so eviction never opens
 * a gap), and a re-check of everything after each block.
 */
export class Mempool {
  private readonly senders = new Map<string, SenderQueue>()
  private readonly byHash = new Map<string, Entry>()
  private readonly committed = new Map<string, true>()
  private bytes = 0
  private arrivals = 0
  private readonly txsMax: number
  private readonly bytesMax: number
  private readonly txBytesMax: number
  private readonly perSenderMax: number
  private readonly queuedTxsMax: number
  /** Txs behind a nonce gap, counted lazily (undefined: recount). */
  private queuedCount: number | undefined = 0
  private readonly committedCacheMax: number
  private readonly bumpPercent: bigint
  private readonly recheckTxsMax: number
  /** Where the next block's rotating re-check starts, as an index into the senders. */
  private recheckCursor = 0
  /**
   * A lower bound on the priority of every pooled tx (undefined: recompute). When the pool
   * is full, a tx at or below it cannot evict anything: refused without a signature check.
   */
  private priorityFloor: bigint | undefined
  private readonly onRemoved: (hash: Uint8Array, reason: RemovalReason) => void
  private readonly onAdded: (hash: Uint8Array) => void

  constructor(
    private readonly checker: TxChecker,
    init: MempoolInit = {},
  ) {
    this.txsMax = init.txsMax ?? 50_000
    this.bytesMax = init.bytesMax ?? 64 * 1024 * 1024
    this.txBytesMax = init.txBytesMax ?? 1024 * 1024
    this.perSenderMax = init.perSenderMax ?? 256
    this.queuedTxsMax = init.queuedTxsMax ?? Math.floor(this.txsMax / 4)
    this.committedCacheMax = init.committedCacheMax ?? 100_000
    this.bumpPercent = BigInt(init.replaceFeeBumpPercent ?? 10)
    this.recheckTxsMax = init.recheckTxsMax ?? 1_000
    this.onRemoved = init.onRemoved ?? (() => {})
    this.onAdded = init.onAdded ?? (() => {})
  }

  get size(): number {
    return this.byHash.size
  }

  get sizeBytes(): number {
    return this.bytes
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHex(hash))
  }

  /** Whether a tx of `txBytes` bytes could only enter by evicting another (the pool is at its count or byte bound). */
  isFull(txBytes = 0): boolean {
    return this.byHash.size >= this.txsMax || this.bytes + txBytes > this.bytesMax
  }

  /**
   * Whether a tx at `priority` may evict one at `victim`: only with the replacement bump
   * (10% more fee per byte by default), so a pooled tx a client was told is admitted is
   * not dropped for a rounding difference (transfers' sizes differ by a byte or two).
   */
  private outbids(priority: bigint, victim: bigint): boolean {
    return priority * 100n >= victim * (100n + this.bumpPercent) && priority > victim
  }

  /** How many pooled txs sit behind a nonce gap (recounted after a change, when asked). */
  queued(): number {
    if (this.queuedCount === undefined) {
      let count = 0
      for (const queue of this.senders.values()) {
        const end = readyEndOf(queue, queue.baseNonce)
        for (const nonce of queue.byNonce.keys()) if (nonce > end) count++
      }
      this.queuedCount = count
    }
    return this.queuedCount
  }

  /** The lowest priority in the pool (cached until a tx at that priority leaves). */
  private floor(): bigint | undefined {
    if (this.priorityFloor === undefined)
      for (const e of this.byHash.values())
        if (this.priorityFloor === undefined || e.priority < this.priorityFloor) this.priorityFloor = e.priority
    return this.priorityFloor
  }

  add(tx: Uint8Array): AddResult {
    if (tx.length > this.txBytesMax) return { accepted: false, reason: 'too_large' }
    const hash = sha256(tx)
    const key = toHex(hash)
    if (this.byHash.has(key) || this.committed.has(key)) return { accepted: false, reason: 'duplicate' }
    if (this.isFull(tx.length) && this.checker.peek !== undefined) {
      // Overload: refuse what could not evict anything before paying for its signature check.
      const peeked = this.checker.peek(tx)
      const floor = this.floor()
      const isReplacing = peeked !== undefined && this.senders.get(toHex(peeked.sender))?.byNonce.has(peeked.nonce) === true
      if (peeked !== undefined && !isReplacing && floor !== undefined && !this.outbids(priorityOf(peeked.fee, tx.length), floor))
        return { accepted: false, reason: 'pool_full' }
    }
    const check = this.checker.check(tx)
    if (!check.ok) return { accepted: false, reason: 'invalid', code: check.code, log: check.log }
    const sender = toHex(check.sender)
    let queue = this.senders.get(sender)
    const baseNonce = queue?.baseNonce ?? this.checker.accountNonce(check.sender)
    if (check.nonce < baseNonce) return { accepted: false, reason: 'stale_nonce' }
    const entry: Entry = {
      tx,
      hash,
      key,
      sender,
      senderBytes: check.sender,
      nonce: check.nonce,
      fee: check.fee,
      priority: priorityOf(check.fee, tx.length),
      arrival: this.arrivals++,
    }
    const existing = queue?.byNonce.get(check.nonce)
    // Behind a gap (not the sender's next executable nonce): only within the queued share.
    if (existing === undefined && check.nonce > readyEndOf(queue, baseNonce) && this.queued() >= this.queuedTxsMax)
      return { accepted: false, reason: 'queue_full' }
    if (existing !== undefined) {
      if (check.fee * 100n < existing.fee * (100n + this.bumpPercent)) return { accepted: false, reason: 'nonce_taken' }
    } else if (queue !== undefined && queue.byNonce.size >= this.perSenderMax) {
      return { accepted: false, reason: 'sender_full' }
    }
    // Make room: evict the cheapest tails until the new tx fits, or refuse it.
    const freedBytes = existing?.tx.length ?? 0
    const freedTxs = existing === undefined ? 0 : 1
    const evicted: Entry[] = []
    let count = this.byHash.size - freedTxs
    let bytes = this.bytes - freedBytes
    const excluded = new Set<string>(existing === undefined ? [] : [existing.key])
    while (count + 1 > this.txsMax || bytes + tx.length > this.bytesMax) {
      const victim = this.cheapestTail(excluded, entry)
      if (victim === undefined) return { accepted: false, reason: 'pool_full' }
      excluded.add(victim.key)
      evicted.push(victim)
      count--
      bytes -= victim.tx.length
    }
    for (const victim of evicted) this.remove(victim, 'evicted')
    if (existing !== undefined) this.remove(existing, 'replaced')
    queue = this.senders.get(sender)
    if (queue === undefined) {
      queue = { bytes: check.sender, baseNonce, byNonce: new Map() }
      this.senders.set(sender, queue)
    }
    queue.byNonce.set(entry.nonce, entry)
    this.byHash.set(key, entry)
    this.bytes += tx.length
    this.queuedCount = undefined
    if (this.priorityFloor !== undefined && entry.priority < this.priorityFloor) this.priorityFloor = entry.priority
    this.onAdded(hash)
    return existing === undefined
      ? { accepted: true, hash, evicted: evicted.map((e) => e.hash) }
      : { accepted: true, hash, replaced: existing.hash, evicted: evicted.map((e) => e.hash) }
  }

  /** The highest-nonce entry of some sender with the lowest priority, if `incoming` outbids it. */
  private cheapestTail(excluded: Set<string>, incoming: Entry): Entry | undefined {
    let best: Entry | undefined
    for (const queue of this.senders.values()) {
      let tail: Entry | undefined
      for (const e of queue.byNonce.values()) if (!excluded.has(e.key) && (tail === undefined || e.nonce > tail.nonce)) tail = e
      if (tail === undefined || tail.sender === incoming.sender) continue
      if (best === undefined || tail.priority < best.priority || (tail.priority === best.priority && tail.arrival > best.arrival))
        best = tail
    }
    if (best === undefined || !this.outbids(incoming.priority, best.priority)) return undefined
    return best
  }

  private remove(entry: Entry, reason: RemovalReason | 'committed'): void {
    const queue = this.senders.get(entry.sender)
    if (queue?.byNonce.get(entry.nonce) === entry) queue.byNonce.delete(entry.nonce)
    if (queue !== undefined && queue.byNonce.size === 0) this.senders.delete(entry.sender)
    if (this.byHash.delete(entry.key)) this.bytes -= entry.tx.length
    this.queuedCount = undefined
    if (entry.priority === this.priorityFloor) this.priorityFloor = undefined
    if (reason !== 'committed') this.onRemoved(entry.hash, reason)
  }

  /** Txs a proposer should include: by priority across senders, in nonce order within each, no gaps. */
  reap(bytesMax: number, txsMax = Number.MAX_SAFE_INTEGER): Uint8Array[] {
    // A heap of each sender's next ready tx (base nonce, base + 1, ... until a gap).
    const heap = new EntryHeap()
    for (const queue of this.senders.values()) {
      const head = queue.byNonce.get(queue.baseNonce)
      if (head !== undefined) heap.push(head)
    }
    const out: Uint8Array[] = []
    let bytes = 0
    while (out.length < txsMax) {
      const entry = heap.pop()
      if (entry === undefined) break
      // If this tx does not fit, the sender's later txs cannot go first: drop the sender.
      if (bytes + entry.tx.length > bytesMax) continue
      out.push(entry.tx)
      bytes += entry.tx.length
      const next = this.senders.get(entry.sender)?.byNonce.get(entry.nonce + 1)
      if (next !== undefined) heap.push(next)
    }
    return out
  }

  /**
   * After a block commits: forget its txs, then re-check against the new state the txs of
   * the block's senders (nonces moved, balances paid fees: stale and unaffordable txs
   * leave) and a rotating slice of up to `recheckTxsMax` others (balances may change
   * by other accounts' txs, rarely). Bounded: the cost follows the block, not the pool.
   */
  update(committedTxs: readonly Uint8Array[]): void {
    const touched = new Set<string>()
    for (const tx of committedTxs) {
      const key = toHex(sha256(tx))
      this.committed.set(key, true)
      if (this.committed.size > this.committedCacheMax) this.committed.delete(this.committed.keys().next().value as string)
      const entry = this.byHash.get(key)
      if (entry !== undefined) {
        touched.add(entry.sender)
        this.remove(entry, 'committed')
        continue
      }
      // Not pooled here (another proposer's, or replaced): its sender's nonce moved all the same.
      const sender = this.senderOf(tx)
      if (sender !== undefined) touched.add(toHex(sender))
    }
    for (const sender of touched) this.recheckSender(sender, Number.MAX_SAFE_INTEGER)
    const others = [...this.senders.keys()].filter((s) => !touched.has(s))
    let budget = this.recheckTxsMax
    const start = others.length === 0 ? 0 : this.recheckCursor % others.length
    let i = 0
    for (; i < others.length && budget > 0; i++) budget -= this.recheckSender(others[(start + i) % others.length] as string, budget)
    this.recheckCursor = start + i
  }

  private senderOf(tx: Uint8Array): Uint8Array | undefined {
    if (this.checker.peek !== undefined) return this.checker.peek(tx)?.sender
    const check = this.checker.check(tx)
    return check.ok ? check.sender : undefined
  }

  /** Re-checks up to `txsMax` of a sender's txs in nonce order; returns how many it checked. */
  private recheckSender(sender: string, txsMax: number): number {
    const queue = this.senders.get(sender)
    if (queue === undefined) return 0
    queue.baseNonce = this.checker.accountNonce(queue.bytes)
    this.queuedCount = undefined // a nonce committed from elsewhere may have made queued txs ready
    const ordered = [...queue.byNonce.values()].sort((a, b) => a.nonce - b.nonce)
    let checked = 0
    for (const entry of ordered) {
      if (checked >= txsMax) break
      checked++
      if (entry.nonce < queue.baseNonce) {
        this.remove(entry, 'stale')
        continue
      }
      const check = this.checker.check(entry.tx)
      if (!check.ok) this.remove(entry, 'invalid_on_recheck')
    }
    if (queue.byNonce.size === 0) this.senders.delete(sender)
    return checked
  }

  /** Drops every pooled tx (an operator's unsafe action); returns how many were dropped. */
  clear(): number {
    const count = this.byHash.size
    for (const entry of [...this.byHash.values()]) this.remove(entry, 'flushed')
    return count
  }

  /** Every pooled tx, for gossip to a new peer or an inspection API. */
  entries(): Array<{ hash: Uint8Array; sender: Uint8Array; nonce: number; fee: bigint; tx: Uint8Array; ready: boolean }> {
    const out = []
    for (const queue of this.senders.values()) {
      let ready = queue.baseNonce
      while (queue.byNonce.has(ready)) ready++
      for (const e of queue.byNonce.values())
        out.push({ hash: e.hash, sender: e.senderBytes, nonce: e.nonce, fee: e.fee, tx: e.tx, ready: e.nonce < ready })
    }
    return out
  }
}

/** Max-heap by priority, then earliest arrival. */
class EntryHeap {
  private readonly items: Entry[] = []

  private before(a: Entry, b: Entry): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.arrival < b.arrival)
  }

  push(entry: Entry): void {
    const items = this.items
    items.push(entry)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(items[i] as Entry, items[parent] as Entry)) break
      ;[items[i], items[parent]] = [items[parent] as Entry, items[i] as Entry]
      i = parent
    }
  }

  pop(): Entry | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let best = i
      if (left < items.length && this.before(items[left] as Entry, items[best] as Entry)) best = left
      if (right < items.length && this.before(items[right] as Entry, items[best] as Entry)) best = right
      if (best === i) break
      ;[items[i], items[best]] = [items[best] as Entry, items[i] as Entry]
      i = best
    }
    return top
  }
}
