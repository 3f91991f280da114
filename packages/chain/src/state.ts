import assert from 'node:assert/strict'
import { decode, encode, type Schema } from '@terrane/codec'
import type { ChainStore, StoreWrite } from './store.ts'

/** Keys inside the chain are latin1 strings (one char per byte): cheap to build, hash and compare. */
export type Key = string

export function keyOf(...parts: Array<Uint8Array | string | number>): Key {
  let out = ''
  for (const p of parts) {
    if (typeof p === 'string') out += p
    else if (typeof p === 'number') out += String.fromCharCode(p)
    else if (p.length <= 64) out += String.fromCharCode.apply(null, p as unknown as number[])
    else out += Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')
  }
  return out
}

export function keyBytes(key: Key): Uint8Array {
  const b = Buffer.from(key, 'latin1')
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** Big-endian 8-byte height, so that keys sort by height. */
export function heightKey(height: number): Key {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(height))
  return b.toString('latin1')
}

interface Entry {
  schema: Schema<unknown>
  /** Decoded value; null = deleted. Values are never mutated in place: writers store fresh objects. */
  value: unknown
}

/** Bound on decoded committed values kept in memory. */
export const readCacheEntriesMax = 200_000

/**
 * The state of the block being executed: a write set over a cache of decoded
 * committed values over the store. A journal makes message execution
 * all-or-nothing: `mark()` then `rollback(mark)` undoes every write since.
 */
export class BlockState {
  private readonly dirty = new Map<Key, Entry>()
  private readonly clean = new Map<Key, unknown>()
  private readonly journal: Array<[Key, Entry | undefined]> = []
  private isJournaling = false

  constructor(private readonly store: ChainStore) {}

  /** Reads through the block's writes. */
  get<T>(schema: Schema<T>, key: Key): T | undefined {
    const d = this.dirty.get(key)
    if (d !== undefined) return d.value === null ? undefined : (d.value as T)
    return this.getCommitted(schema, key)
  }

  /** Reads the committed state only (mempool checks, queries). */
  getCommitted<T>(schema: Schema<T>, key: Key): T | undefined {
    if (this.clean.has(key)) {
      const v = this.clean.get(key)
      return v === null ? undefined : (v as T)
    }
    const bytes = this.store.get(keyBytes(key))
    const value = bytes === undefined ? null : decode(schema, bytes)
    if (this.clean.size >= readCacheEntriesMax) this.clean.clear()
    this.clean.set(key, value)
    return value === null ? undefined : value
  }

  set<T>(schema: Schema<T>, key: Key, value: T): void {
    this.record(key)
    this.dirty.set(key, { schema: schema as Schema<unknown>, value })
  }

  delete(key: Key): void {
    this.record(key)
    this.dirty.set(key, { schema: noSchema, value: null })
  }

  /** Entries under `prefix` (block writes merged over the committed state), in key order. */
  scan<T>(schema: Schema<T>, prefix: Key): Array<[Key, T]> {
    const merged = new Map<Key, T>()
    for (const [k, v] of this.store.iterate(keyBytes(prefix))) {
      const key = keyOf(k)
      if (!this.dirty.has(key)) merged.set(key, (this.clean.get(key) as T | undefined) ?? decode(schema, v))
    }
    for (const [key, entry] of this.dirty) if (key.startsWith(prefix) && entry.value !== null) merged.set(key, entry.value as T)
    return [...merged.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  /** Starts journaling writes (one transaction's messages); returns a mark for rollback. */
  mark(): number {
    this.isJournaling = true
    return this.journal.length
  }

  rollback(mark: number): void {
    while (this.journal.length > mark) {
      const [key, previous] = this.journal.pop() as [Key, Entry | undefined]
      if (previous === undefined) this.dirty.delete(key)
      else this.dirty.set(key, previous)
    }
  }

  /** Ends journaling (the transaction is kept). */
  release(): void {
    this.isJournaling = false
    this.journal.length = 0
  }

  private record(key: Key): void {
    if (this.isJournaling) this.journal.push([key, this.dirty.get(key)])
  }

  /** The block's writes, encoded, in key order. */
  writes(): StoreWrite[] {
    assert.equal(this.isJournaling, false, 'writes() inside a transaction')
    const keys = [...this.dirty.keys()].sort()
    return keys.map((k) => {
      const e = this.dirty.get(k) as Entry
      return [keyBytes(k), e.value === null ? null : encode(e.schema, e.value)] as const
    })
  }

  /** After the store committed: the block's writes become the clean cache. */
  committed(): void {
    if (this.clean.size + this.dirty.size >= readCacheEntriesMax) this.clean.clear()
    for (const [k, e] of this.dirty) this.clean.set(k, e.value)
    this.dirty.clear()
  }

  /** Drops the block's writes (a block that was finalized but will not be committed). */
  discard(): void {
    this.dirty.clear()
    this.journal.length = 0
    this.isJournaling = false
  }

  get dirtySize(): number {
    return this.dirty.size
  }
}

const noSchema: Schema<unknown> = {
  description: 'deleted',
  parse: () => {
    throw new Error('a deleted entry has no value')
  },
}
