import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryStateStore, verifyProof } from '@terrane/state'
import type { Signer } from '@terrane/crypto'
import { createChainApp, keys, parseGenesis, stateStoreAdapter, ChainError } from '../src/index.ts'
import { keyBytes } from '../src/state.ts'
import { addressOf, fixture, Harness, TRN } from './helpers.ts'

describe('over the @terrane/state StateStore', () => {
  it('runs blocks whose state roots are the sparse-Merkle roots, with provable accounts', async () => {
    const fx = fixture()
    const stateStore = createMemoryStateStore()
    const h = new Harness(fx, { store: stateStoreAdapter(stateStore) })
    const [alice, bob] = fx.users as [Signer, Signer]
    const v0 = addressOf(fx.operators[0] as Signer)
    const res = await h.block([
      h.send(alice, addressOf(bob), 5n * TRN),
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 10n * TRN }]),
    ])
    assert.deepEqual(
      res.txResults.map((r) => r.code),
      [0, 0],
    )
    assert.deepEqual(res.stateRoot, stateStore.root)
    await h.block([h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: TRN }])])
    assert.ok(h.app.checkInvariants().isOk)
    assert.equal(h.app.unbondings(addressOf(alice)).length, 1)
    // An account proven against the committed root.
    const key = keyBytes(keys.account(addressOf(bob)))
    const proof = await stateStore.prove(key)
    const value = await stateStore.get(key)
    assert.ok(value !== undefined)
    assert.equal(verifyProof(h.app.info().stateRoot, key, value, proof), true)
  })

  it('agrees with a second app over another StateStore on every root', async () => {
    const fx = fixture()
    const a = new Harness(fx, { store: stateStoreAdapter(createMemoryStateStore()) })
    const b = createChainApp({ genesis: parseGenesis(fx.genesisJson), store: stateStoreAdapter(createMemoryStateStore()) })
    assert.deepEqual(b.initChain().stateRoot, a.genesisRoot)
    const [alice, bob] = fx.users as [Signer, Signer]
    for (let height = 1; height <= 3; height++) {
      const req = {
        height,
        timeMs: height * 1000,
        proposer: new Uint8Array(20),
        txs: [a.send(alice, addressOf(bob), BigInt(height))],
        lastCommitVotes: [],
        misbehavior: [],
      }
      const ra = await a.app.finalizeBlock(req)
      const rb = await b.finalizeBlock(req)
      await a.app.commit()
      await b.commit()
      assert.equal(rb.txResults[0]?.code, 0)
      assert.deepEqual(rb.stateRoot, ra.stateRoot)
    }
    assert.equal(b.account(addressOf(bob)).balanceMicro, 1000n * TRN + 6n)
  })

  it('refuses to reopen a non-empty StateStore without a synchronous get', async () => {
    const stateStore = createMemoryStateStore()
    await stateStore.batch().put(Uint8Array.of(1), Uint8Array.of(2)).commit()
    assert.throws(
      () => stateStoreAdapter(stateStore),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_STATE',
    )
  })
})
