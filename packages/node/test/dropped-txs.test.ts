import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256, toHex } from '@terrane/codec'
import { DroppedTxs, droppedTxsMax } from '../src/mempool/dropped-txs.ts'
import { Mempool, type TxChecker } from '../src/mempool/index.ts'

const hashOf = (tx: Uint8Array) => toHex(sha256(tx))

/** [sender, nonce, fee, salt]: every tx valid, nonces from 0. */
const checker: TxChecker = {
  check: (tx) => ({ ok: true, sender: Uint8Array.of(tx[0] as number), nonce: tx[1] as number, fee: BigInt(tx[2] as number) }),
  accountNonce: () => 0,
}

test('the record is bounded: the oldest drop is forgotten first, a repeated drop counts as the newest', () => {
  const dropped = new DroppedTxs({ entriesMax: 3 })
  dropped.record('a', 'evicted', 1)
  dropped.record('b', 'replaced', 2)
  dropped.record('c', 'stale', 3)
  dropped.record('a', 'invalid_on_recheck', 4) // a again: now the newest
  dropped.record('d', 'evicted', 5)
  assert.equal(dropped.size, 3)
  assert.equal(dropped.get('b'), undefined, 'b was the oldest')
  assert.deepEqual(dropped.get('a'), { reason: 'invalid_on_recheck', droppedAtMs: 4 })
  assert.deepEqual(dropped.get('c'), { reason: 'stale', droppedAtMs: 3 })
  dropped.record('e', 'flushed', 6)
  assert.equal(dropped.get('c'), undefined)
  assert.deepEqual(
    [...['a', 'd', 'e']].map((h) => dropped.get(h)?.droppedAtMs),
    [4, 5, 6],
  )
  assert.equal(new DroppedTxs().entriesMax, droppedTxsMax)
  assert.throws(() => new DroppedTxs({ entriesMax: 0 }), RangeError)
})

test('a mempool wired to the record: replaced and evicted txs are recorded, re-admission and commit clear them', () => {
  const dropped = new DroppedTxs()
  let nowMs = 1000
  const pool = new Mempool(checker, { txsMax: 2, ...dropped.mempoolHooks(() => nowMs) })
  const a = Uint8Array.of(1, 0, 10, 0)
  const aBumped = Uint8Array.of(1, 0, 11, 1) // same sender and nonce, +10% fee (replaceFeeBumpPercent)
  assert.equal(pool.add(a).accepted, true)
  assert.equal(pool.add(aBumped).accepted, true)
  assert.deepEqual(dropped.get(hashOf(a)), { reason: 'replaced', droppedAtMs: 1000 })

  nowMs = 2000
  const b = Uint8Array.of(2, 0, 5, 0)
  const c = Uint8Array.of(3, 0, 50, 0)
  assert.equal(pool.add(b).accepted, true)
  assert.equal(pool.add(c).accepted, true) // full: evicts b, the cheapest tail
  assert.deepEqual(dropped.get(hashOf(b)), { reason: 'evicted', droppedAtMs: 2000 })
  assert.equal(dropped.size, 2)

  // b comes back once there is room: its drop is forgotten.
  pool.update([aBumped])
  assert.equal(pool.add(b).accepted, true)
  assert.equal(dropped.get(hashOf(b)), undefined)

  // a was dropped here but another validator's pool included it: the commit clears the drop.
  dropped.forgetCommitted([a, c])
  assert.equal(dropped.get(hashOf(a)), undefined)
  assert.equal(dropped.size, 0)

  // An operator's flush is recorded as such, not as an eviction.
  pool.clear()
  assert.equal(dropped.get(hashOf(b))?.reason, 'flushed')
})

test('onRecorded is called once per drop with the recorded reason, also past the bound, never on re-admission or commit', () => {
  const counts = new Map<string, number>()
  const dropped = new DroppedTxs({ entriesMax: 1, onRecorded: (reason) => counts.set(reason, (counts.get(reason) ?? 0) + 1) })
  const pool = new Mempool(checker, { txsMax: 2, ...dropped.mempoolHooks(() => 0) })
  const a = Uint8Array.of(1, 0, 10, 0)
  const aBumped = Uint8Array.of(1, 0, 11, 1)
  assert.equal(pool.add(a).accepted, true)
  assert.equal(pool.add(aBumped).accepted, true) // a replaced
  assert.equal(pool.add(Uint8Array.of(2, 0, 5, 0)).accepted, true)
  assert.equal(pool.add(Uint8Array.of(3, 0, 50, 0)).accepted, true) // evicts sender 2; the bound forgets a's entry
  assert.equal(dropped.size, 1)
  assert.deepEqual(Object.fromEntries(counts), { replaced: 1, evicted: 1 })
  pool.update([aBumped]) // a commit: no drop
  dropped.forgetCommitted([a])
  assert.equal(pool.add(Uint8Array.of(2, 0, 5, 0)).accepted, true) // re-admitted: no drop
  assert.deepEqual(Object.fromEntries(counts), { replaced: 1, evicted: 1 })
  pool.clear()
  assert.deepEqual(Object.fromEntries(counts), { replaced: 1, evicted: 1, flushed: 2 })
})
