import { createHash } from 'node:crypto'
import { merkleRoot } from '@terrane/codec'

/** One write of a block: a value, or null to delete the key. */
export type StoreWrite = readonly [key: Uint8Array, value: Uint8Array | null]

/**
 * The minimal store the state machine needs. Reads are synchronous (the chain
 * keeps a decoded cache in front of them); the root of a block's writes is
 * computed before they are durable, because it goes into the next header
 * before `commit` (CometBFT's app hash).
 */
export interface ChainStore {
  /** The committed value of a key. */
  get(key: Uint8Array): Uint8Array | undefined
  /** Committed entries whose key starts with `prefix`, in ascending byte order. */
  iterate(prefix: Uint8Array): Iterable<readonly [Uint8Array, Uint8Array]>
  /** The committed state root (the root of the empty state if nothing was committed). */
  root(): Uint8Array
  /**
   * Stages `writes` on top of the committed state, replacing any earlier staged
   * writes, and returns the root the state would have. Nothing is durable yet.
   */
  stage(writes: readonly StoreWrite[]): Uint8Array
  /** Makes the staged writes durable; returns the new root. */
  commit(): Promise<{ version: number; root: Uint8Array }>
}

/** Number of hash buckets of the in-memory store (2^8). */
export const memoryStoreBucketCount = 256

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

function bucketOf(key: string): number {
  const h = createHash('sha256').update(key, 'latin1').digest()
  return (h[0] as number) & (memoryStoreBucketCount - 1)
}

/**
 * An in-memory ChainStore for tests, benchmarks and the simulator. Its root is a
 * Merkle list (RFC 6962, @terrane/codec merkleRoot) over 256 buckets; a bucket
 * hashes its entries in key order, each as len(key) || key || len(value) || value,
 * so a block re-hashes only the buckets it touched. Not provable per key: the
 * authenticated store of @terrane/state is the production one.
 */
export class MemoryChainStore implements ChainStore {
  private readonly entries = new Map<string, Uint8Array>()
  private readonly buckets: Array<Map<string, Uint8Array>> = Array.from({ length: memoryStoreBucketCount }, () => new Map())
  private readonly bucketHashes: Uint8Array[]
  private committedRoot: Uint8Array
  private staged: { writes: readonly StoreWrite[]; hashes: Map<number, Uint8Array>; root: Uint8Array } | undefined
  private version = 0
  private sortedKeys: string[] | undefined

  constructor() {
    const empty = hashBucket(new Map())
    this.bucketHashes = Array.from({ length: memoryStoreBucketCount }, () => empty)
    this.committedRoot = merkleRoot(this.bucketHashes)
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(keyString(key))
  }

  *iterate(prefix: Uint8Array): Iterable<readonly [Uint8Array, Uint8Array]> {
    if (this.sortedKeys === undefined) this.sortedKeys = [...this.entries.keys()].sort()
    const p = keyString(prefix)
    let lo = 0
    let hi = this.sortedKeys.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.sortedKeys[mid] as string) < p) lo = mid + 1
      else hi = mid
    }
    const keys = this.sortedKeys
    for (let i = lo; i < keys.length; i++) {
      const k = keys[i] as string
      if (!k.startsWith(p)) break
      const v = this.entries.get(k)
      if (v !== undefined) yield [Buffer.from(k, 'latin1'), v]
    }
  }

  root(): Uint8Array {
    return this.committedRoot
  }

  stage(writes: readonly StoreWrite[]): Uint8Array {
    const touched = new Map<number, Map<string, Uint8Array>>()
    for (const [key, value] of writes) {
      const k = keyString(key)
      const b = bucketOf(k)
      let bucket = touched.get(b)
      if (bucket === undefined) {
        bucket = new Map(this.buckets[b])
        touched.set(b, bucket)
      }
      if (value === null) bucket.delete(k)
      else bucket.set(k, value)
    }
    const hashes = new Map<number, Uint8Array>()
    for (const [b, bucket] of touched) hashes.set(b, hashBucket(bucket))
    const leaves = this.bucketHashes.map((h, i) => hashes.get(i) ?? h)
    const root = merkleRoot(leaves)
    this.staged = { writes, hashes, root }
    return root
  }

  async commit(): Promise<{ version: number; root: Uint8Array }> {
    const staged = this.staged
    if (staged !== undefined) {
      for (const [key, value] of staged.writes) {
        const k = keyString(key)
        const bucket = this.buckets[bucketOf(k)] as Map<string, Uint8Array>
        if (value === null) {
          this.entries.delete(k)
          bucket.delete(k)
        } else {
          this.entries.set(k, value)
          bucket.set(k, value)
        }
      }
      for (const [b, h] of staged.hashes) this.bucketHashes[b] = h
      this.committedRoot = staged.root
      this.staged = undefined
      this.sortedKeys = undefined
    }
    this.version++
    return { version: this.version, root: this.committedRoot }
  }

  /** Number of committed keys. */
  get size(): number {
    return this.entries.size
  }
}

const lengthBytes = new Uint8Array(4)
const lengthView = new DataView(lengthBytes.buffer)

function hashBucket(bucket: Map<string, Uint8Array>): Uint8Array {
  const h = createHash('sha256')
  for (const k of [...bucket.keys()].sort()) {
    const v = bucket.get(k) as Uint8Array
    lengthView.setUint32(0, k.length)
    h.update(lengthBytes)
    h.update(k, 'latin1')
    lengthView.setUint32(0, v.length)
    h.update(lengthBytes)
    h.update(v)
  }
  const d = h.digest()
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
}
