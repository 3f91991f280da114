import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { pino } from 'pino'
import { buildTransfer } from '@terrane/chain'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { startNode, type TerraneNode } from '../src/index.ts'
import { oneValidatorDevnet, waitFor } from './helpers.ts'

test('a one-validator node commits blocks and a transfer, and resumes after a restart', async () => {
  const { dir, layout, config } = await oneValidatorDevnet('terrane-node-')
  let node: TerraneNode | undefined
  try {
    node = await startNode({ config, logger: pino({ level: 'silent' }) })
    await waitFor(() => node!.blockStore.height >= 3, 20_000, 'three blocks')

    const faucet = layout.faucets[0]!
    const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(42)).publicKey)
    const tx = buildTransfer({ chainId: layout.chainId, signer: faucet, to, amountMicro: 12_345n, nonce: 0 }, node.app.txBodySchema)
    const result = node.submitTx(tx)
    assert.equal(result.accepted, true)
    await waitFor(() => node!.app.account(to).balanceMicro === 12_345n, 20_000, 'the transfer to commit')

    // The same facts over the HTTP API.
    const api = node.apiUrl
    const status = (await (await fetch(`${api}/v1/status`)).json()) as { chainId: string; height: number }
    assert.equal(status.chainId, layout.chainId)
    assert.ok(status.height >= 3)
    const { encodeAddress } = await import('@terrane/crypto')
    const account = (await (await fetch(`${api}/v1/accounts/${encodeAddress(to)}`)).json()) as { balance: string }
    assert.equal(account.balance, '12345')
    const { sha256, toHex, verifyMerkleProof, fromHex } = await import('@terrane/codec')
    const txHash = toHex(sha256(tx))
    const found = (await (await fetch(`${api}/v1/txs/${txHash}`)).json()) as {
      code: number
      proof: { txRoot: string; index: number; count: number; siblings: string[] }
    }
    assert.equal(found.code, 0)
    assert.equal(
      verifyMerkleProof(fromHex(found.proof.txRoot), tx, {
        index: found.proof.index,
        count: found.proof.count,
        siblings: found.proof.siblings.map(fromHex),
      }),
      true,
    )
    const bad = await fetch(`${api}/v1/txs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: 'ff00' }),
    })
    assert.equal(bad.status, 400)
    const metrics = await (await fetch(`${api}/metrics`)).text()
    assert.match(metrics, /terrane_node_height \d+/)
    await node.stop()
    const heightBefore = node.blockStore.height
    const { height: appHeightBefore, stateRoot: rootBefore } = node.app.info()
    node = undefined

    node = await startNode({ config, logger: pino({ level: 'silent' }) })
    assert.ok(node.blockStore.height >= heightBefore)
    assert.equal(node.app.account(to).balanceMicro, 12_345n)
    // The state committed before the stop is the state the restarted node built on.
    assert.deepEqual((await node.blockStore.results(appHeightBefore))?.stateRoot, rootBefore)
    await waitFor(() => node!.blockStore.height >= heightBefore + 2, 20_000, 'blocks after the restart')
  } finally {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
