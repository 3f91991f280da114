import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryStateStore, verifyProof } from '@terrane/state'
import type { Signer } from '@terrane/crypto'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { createChainApp, keys, parseGenesis, stateStoreAdapter, ChainError, MemoryChainStore, type ChainStore } from '../src/index.ts'
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

  it('executes blocks (undelegation, redelegation, double-sign slashing, maturity) without prefix iteration', async () => {
    const inner = new MemoryChainStore()
    const noScan: ChainStore = {
      get: (k) => inner.get(k),
      iterate: () => {
        throw new Error('execution must not iterate')
      },
      root: () => inner.root(),
      stage: (w) => inner.stage(w),
      commit: () => inner.commit(),
    }
    const fx = fixture()
    const h = new Harness(fx, { store: noScan })
    const [alice] = fx.users as [Signer]
    const [v0, v1, v2] = fx.operators.map(addressOf) as [Uint8Array, Uint8Array, Uint8Array]
    await h.block([h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 30n * TRN }])])
    await h.block([
      h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: 5n * TRN }]),
      h.tx(alice, [{ type: 'staking/redelegate', source: v0, destination: v1, amountMicro: 5n * TRN }]),
    ])
    const transitive = await h.block([h.tx(alice, [{ type: 'staking/redelegate', source: v1, destination: v2, amountMicro: TRN }])])
    assert.equal(transitive.txResults[0]?.code, 20)
    const cons0 = accountIdOfPublicKey((fx.consensus[0] as Signer).publicKey)
    await h.block([], {
      misbehavior: [{ kind: 'duplicate-vote', validator: cons0, height: 2, timeMs: 0, validatorPower: 1, totalPower: 4 }],
    })
    assert.equal(h.app.validator(v1)?.tokensMicro, 100n * TRN + 4_750_000n)
    await h.blocks(20)
    const after = await h.block([h.tx(alice, [{ type: 'staking/redelegate', source: v1, destination: v2, amountMicro: TRN }])])
    assert.equal(after.txResults[0]?.code, 0, after.txResults[0]?.log)
  })
})
