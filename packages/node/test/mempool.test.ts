import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sha256, toHex } from '@terrane/codec'
import { Mempool, type TxChecker, type RemovalReason } from '../src/mempool/index.ts'

// Test transactions: [sender, nonce (2 bytes), fee, salt...]. The model chain below
// is the application: it knows nonces and balances and applies blocks.
function makeTx(sender: number, nonce: number, fee: number, salt: number, padding = 0): Uint8Array {
  return Uint8Array.from([sender, nonce >> 8, nonce & 0xff, fee, salt, ...new Uint8Array(padding)])
}

class ModelChain implements TxChecker {
  readonly nonces = new Map<number, number>()
  readonly balances = new Map<number, number>()
  /** Full checks (signature and state) so far: what overload admission must not spend. */
  checks = 0
  check(tx: Uint8Array) {
    this.checks++
    const sender = tx[0] as number
    const nonce = ((tx[1] as number) << 8) | (tx[2] as number)
    const fee = tx[3] as number
    if (fee === 0) return { ok: false as const, code: 5, log: 'zero fee' }
    if ((this.balances.get(sender) ?? 1_000_000) < fee) return { ok: false as const, code: 6, log: 'insufficient funds' }
    return { ok: true as const, sender: Uint8Array.of(sender), nonce, fee: BigInt(fee) }
  }
  accountNonce(sender: Uint8Array): number {
    return this.nonces.get(sender[0] as number) ?? 0
  }
  /** Sender, nonce and fee from the bytes alone (the node's cached decode). */
  peek(tx: Uint8Array) {
    return { sender: Uint8Array.of(tx[0] as number), nonce: ((tx[1] as number) << 8) | (tx[2] as number), fee: BigInt(tx[3] as number) }
  }
  /**
   * Prepares and applies a block as the chain does: a tx that cannot pay its fee is
   * left out, with the sender's later txs. Returns the txs that executed. Fails the
   * test if the mempool proposes a nonce gap or a reorder.
   */
  apply(txs: Uint8Array[]): Uint8Array[] {
    const executed: Uint8Array[] = []
    const skipped = new Set<number>()
    for (const tx of txs) {
      const sender = tx[0] as number
      if (skipped.has(sender)) continue
      const nonce = ((tx[1] as number) << 8) | (tx[2] as number)
      const expected = this.nonces.get(sender) ?? 0
      assert.equal(nonce, expected, `mempool proposed sender ${sender} nonce ${nonce}, chain expects ${expected}`)
      const balance = this.balances.get(sender) ?? 1_000_000
      const fee = tx[3] as number
      if (balance < fee) {
        skipped.add(sender)
        continue
      }
      this.balances.set(sender, balance - fee)
      this.nonces.set(sender, expected + 1)
      executed.push(tx)
    }
    return executed
  }
}

type Command =
  | { kind: 'add'; sender: number; nonceOffset: number; fee: number; salt: number; padding: number }
  | { kind: 'block'; txsMax: number; bytesMax: number }
  | { kind: 'drain'; sender: number }

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      sender: fc.nat(5),
      nonceOffset: fc.integer({ min: -2, max: 6 }),
      fee: fc.nat(40),
      salt: fc.nat(3),
      padding: fc.nat(40),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('block' as const),
      txsMax: fc.integer({ min: 0, max: 12 }),
      bytesMax: fc.integer({ min: 0, max: 400 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), sender: fc.nat(5) }) },
)

test('model-based: no tx lost, none applied twice, no nonce gaps or reorders, limits respected', () => {
  fc.assert(
    fc.property(
      fc.array(command, { maxLength: 120 }),
      fc.integer({ min: 3, max: 20 }),
      fc.integer({ min: 0, max: 8 }),
      fc.boolean(),
      (commands, txsMax, recheckTxsMax, isPeeking) => {
        const chain = new ModelChain()
        // Without peek the pool falls back to full checks (both paths are exercised).
        const checker: TxChecker = isPeeking ? chain : { check: (tx) => chain.check(tx), accountNonce: (s) => chain.accountNonce(s) }
        const removed = new Map<string, RemovalReason>()
        const pool = new Mempool(checker, {
          txsMax,
          bytesMax: 600,
          perSenderMax: 6,
          recheckTxsMax,
          onRemoved: (h, r) => removed.set(toHex(h), r),
        })
        const accepted = new Set<string>()
        const committed = new Set<string>()
        for (const c of commands) {
          if (c.kind === 'add') {
            const nonce = Math.max(0, chain.accountNonce(Uint8Array.of(c.sender)) + c.nonceOffset)
            const result = pool.add(makeTx(c.sender, nonce, c.fee, c.salt, c.padding))
            if (result.accepted) {
              accepted.add(toHex(result.hash))
              for (const h of result.evicted) assert.equal(removed.get(toHex(h)), 'evicted')
              if (result.replaced !== undefined) assert.equal(removed.get(toHex(result.replaced)), 'replaced')
            }
          } else if (c.kind === 'block') {
            const txs = pool.reap(c.bytesMax, c.txsMax)
            assert.ok(txs.length <= c.txsMax)
            assert.ok(txs.reduce((n, tx) => n + tx.length, 0) <= c.bytesMax)
            const executed = chain.apply(txs)
            for (const tx of executed) {
              const key = toHex(sha256(tx))
              assert.equal(committed.has(key), false, 'a tx was applied twice')
              committed.add(key)
            }
            pool.update(executed)
          } else {
            // Another account's block drains this sender's balance.
            chain.balances.set(c.sender, Math.min(chain.balances.get(c.sender) ?? 1_000_000, 30))
            pool.update([])
          }
          // Every accepted tx is in exactly one place: the pool, a block, or removed with a reason.
          for (const key of accepted) {
            const places = [pool.has(Uint8Array.from(Buffer.from(key, 'hex'))), committed.has(key), removed.has(key)].filter(Boolean).length
            assert.equal(places, 1, `tx ${key.slice(0, 8)} is in ${places} places`)
          }
          assert.ok(pool.size <= txsMax)
          assert.ok(pool.sizeBytes <= 600)
          for (const e of pool.entries()) assert.ok(e.nonce >= chain.accountNonce(e.sender), 'a stale tx stayed in the pool')
        }
      },
    ),
    { numRuns: 400 },
  )
})

test('a tx after a nonce gap waits until the gap is filled', () => {
  const chain = new ModelChain()
  const pool = new Mempool(chain)
  assert.equal(pool.add(makeTx(1, 1, 5, 0)).accepted, true)
  assert.deepEqual(pool.reap(1000), [])
  assert.equal(pool.add(makeTx(1, 0, 5, 0)).accepted, true)
  assert.deepEqual(pool.reap(1000), [makeTx(1, 0, 5, 0), makeTx(1, 1, 5, 0)])
})

test('higher fee per byte goes first across senders, nonce order within a sender', () => {
  const chain = new ModelChain()
  const pool = new Mempool(chain)
  pool.add(makeTx(1, 0, 2, 0))
  pool.add(makeTx(1, 1, 40, 0))
  pool.add(makeTx(2, 0, 10, 0))
  assert.deepEqual(pool.reap(1000), [makeTx(2, 0, 10, 0), makeTx(1, 0, 2, 0), makeTx(1, 1, 40, 0)])
})

test('rejections carry their reason', () => {
  const chain = new ModelChain()
  chain.nonces.set(1, 3)
  const pool = new Mempool(chain, { txBytesMax: 10, perSenderMax: 1 })
  assert.deepEqual(pool.add(makeTx(1, 2, 5, 0)), { accepted: false, reason: 'stale_nonce' })
  assert.equal(pool.add(makeTx(1, 3, 5, 0)).accepted, true)
  assert.deepEqual(pool.add(makeTx(1, 3, 5, 0)), { accepted: false, reason: 'duplicate' })
  assert.deepEqual(pool.add(makeTx(1, 3, 5, 1)), { accepted: false, reason: 'nonce_taken' })
  assert.equal(pool.add(makeTx(1, 3, 6, 1)).accepted, true, 'a 20% higher fee replaces')
  assert.deepEqual(pool.add(makeTx(1, 4, 5, 0)), { accepted: false, reason: 'sender_full' })
  assert.deepEqual(pool.add(makeTx(2, 0, 0, 0)), { accepted: false, reason: 'invalid', code: 5, log: 'zero fee' })
  assert.deepEqual(pool.add(makeTx(2, 0, 5, 0, 10)), { accepted: false, reason: 'too_large' })
})

test('a full pool evicts the cheapest tail, and refuses a tx cheaper than everything', () => {
  const chain = new ModelChain()
  const removed: RemovalReason[] = []
  const pool = new Mempool(chain, { txsMax: 2, onRemoved: (_h, r) => removed.push(r) })
  pool.add(makeTx(1, 0, 10, 0))
  pool.add(makeTx(2, 0, 5, 0))
  assert.deepEqual(pool.add(makeTx(3, 0, 1, 0)), { accepted: false, reason: 'pool_full' })
  assert.deepEqual(pool.add(makeTx(3, 0, 5, 0)), { accepted: false, reason: 'pool_full' }, 'an equal fee evicts nothing')
  const result = pool.add(makeTx(3, 0, 20, 0))
  assert.equal(result.accepted, true)
  assert.deepEqual(removed, ['evicted'])
  assert.equal(pool.has(sha256(makeTx(2, 0, 5, 0))), false)
})

test('committed txs cannot be re-submitted', () => {
  const chain = new ModelChain()
  const pool = new Mempool(chain)
  const tx = makeTx(1, 0, 5, 0)
  pool.add(tx)
  pool.update(chain.apply(pool.reap(1000)))
  assert.deepEqual(pool.add(tx), { accepted: false, reason: 'duplicate' })
})

test('a full pool refuses a tx that cannot evict anything before its full check (overload costs a decode, not a signature)', () => {
  const chain = new ModelChain()
  const pool = new Mempool(chain, { txsMax: 3 })
  for (let sender = 1; sender <= 3; sender++) assert.equal(pool.add(makeTx(sender, 0, 10, 0)).accepted, true)
  assert.equal(pool.isFull(), true)
  const checksBefore = chain.checks
  for (let sender = 4; sender < 54; sender++) assert.deepEqual(pool.add(makeTx(sender, 0, 10, 0)), { accepted: false, reason: 'pool_full' })
  assert.equal(chain.checks, checksBefore, 'no full check for refused txs')
  // A higher fee still gets in (it evicts the cheapest tail), after its full check.
  assert.equal(pool.add(makeTx(60, 0, 11, 0)).accepted, true)
  assert.equal(chain.checks, checksBefore + 1)
  // A fee-bumped replacement of a pooled nonce needs no room: it is not refused as pool_full.
  assert.equal(pool.add(makeTx(2, 0, 12, 1)).accepted, true)
})

test('after a block, the re-check covers the block senders and a bounded rotating slice of the rest', () => {
  const chain = new ModelChain()
  const removed: RemovalReason[] = []
  const pool = new Mempool(chain, { recheckTxsMax: 4, onRemoved: (_h, r) => removed.push(r) })
  for (let sender = 1; sender <= 20; sender++) pool.add(makeTx(sender, 0, 10, 0))
  // A tx pooled elsewhere commits sender 1's nonce 0 with other bytes: its pooled tx is stale now.
  const elsewhere = makeTx(1, 0, 30, 9)
  chain.apply([elsewhere])
  chain.checks = 0
  pool.update([elsewhere])
  assert.deepEqual(removed, ['stale'])
  assert.equal(chain.checks, 4, 'the other 19 senders: only 4 re-checked this block')
  // Every sender's balance drains: within ceil(19 / 4) = 5 blocks every tx has been re-checked once.
  for (let sender = 2; sender <= 20; sender++) chain.balances.set(sender, 1)
  for (let block = 0; block < 5; block++) pool.update([])
  assert.equal(pool.size, 0)
  assert.equal(removed.filter((r) => r === 'invalid_on_recheck').length, 19)
})

test('eviction needs the replacement bump: a marginally better fee does not drop an admitted tx', () => {
  const chain = new ModelChain()
  const removed: RemovalReason[] = []
  const pool = new Mempool(chain, { txsMax: 2, onRemoved: (_h, r) => removed.push(r) })
  pool.add(makeTx(1, 0, 20, 0))
  pool.add(makeTx(2, 0, 20, 0))
  assert.deepEqual(pool.add(makeTx(3, 0, 21, 0)), { accepted: false, reason: 'pool_full' }, '5% more: refused')
  assert.deepEqual(removed, [])
  assert.equal(pool.add(makeTx(3, 0, 22, 0)).accepted, true, '10% more: evicts')
  assert.deepEqual(removed, ['evicted'])
})

test('txs behind a nonce gap take at most their share, so the tx that fills a gap always finds room (no stall)', () => {
  const chain = new ModelChain()
  const pool = new Mempool(chain, { txsMax: 8, queuedTxsMax: 2 })
  // Sender 1's nonce 0 was refused somewhere: its nonces 1.. queue behind the gap, two at most.
  assert.equal(pool.add(makeTx(1, 1, 10, 0)).accepted, true)
  assert.equal(pool.add(makeTx(1, 2, 10, 0)).accepted, true)
  assert.deepEqual(pool.add(makeTx(1, 3, 10, 0)), { accepted: false, reason: 'queue_full' })
  assert.deepEqual(pool.add(makeTx(2, 5, 10, 0)), { accepted: false, reason: 'queue_full' })
  assert.equal(pool.queued(), 2)
  // Ready txs fill the rest of the pool...
  for (let sender = 3; sender <= 7; sender++) assert.equal(pool.add(makeTx(sender, 0, 10, 0)).accepted, true)
  assert.equal(pool.size, 7)
  // ...and there is still room for the gap filler, which makes both queued txs ready.
  assert.equal(pool.add(makeTx(1, 0, 10, 0)).accepted, true)
  assert.equal(pool.queued(), 0)
  const reaped = pool.reap(10_000)
  assert.deepEqual(
    reaped.filter((tx) => tx[0] === 1).map((tx) => tx[2]),
    [0, 1, 2],
  )
})
