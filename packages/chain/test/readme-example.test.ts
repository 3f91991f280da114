// The README's example, kept compiling and running.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryStateStore } from '@terrane/state'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { buildTransfer, createChainApp, parseGenesis, stateStoreAdapter } from '../src/index.ts'
import { addressOf, fixture } from './helpers.ts'

describe('README example', () => {
  it('runs', async () => {
    const fx = fixture()
    const genesisJsonText = JSON.stringify(fx.genesisJson)
    const signer = fx.users[0]
    assert.ok(signer !== undefined)
    const to = addressOf(fx.users[1] ?? signer)
    const timeMs = 1_700_000_000_000

    const app = createChainApp({
      genesis: parseGenesis(genesisJsonText),
      store: stateStoreAdapter(createMemoryStateStore()),
    })
    const { validators, stateRoot } = app.initChain()
    const proposer = validators[0]?.address ?? accountIdOfPublicKey(signer.publicKey)
    const tx = buildTransfer({ chainId: app.chainId, signer, to, amountMicro: 5_000_000n, nonce: 0 }, app.txBodySchema)
    assert.equal(app.checkTx(tx).code, 0)
    const res = await app.finalizeBlock({ height: 1, timeMs, proposer, txs: [tx], lastCommitVotes: [], misbehavior: [] })
    await app.commit()
    assert.equal(res.txResults[0]?.code, 0)
    assert.equal(stateRoot.length, 32)
    assert.deepEqual(app.info().stateRoot, res.stateRoot)
  })
})
