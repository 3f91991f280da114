import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { pino } from 'pino'
import { buildTransfer } from '@terrane/chain'
import { sha256, toHex } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { startNode, type TerraneNode } from '../src/index.ts'
import { oneValidatorDevnet, waitFor } from './helpers.ts'

test('GET /v1/txs/:hash/status: a tx replaced by a higher-fee same-nonce tx reads dropped/replaced (and counts once in terrane_node_mempool_dropped_total); the replacement reads committed with its height', async () => {
  const { dir, layout, config } = await oneValidatorDevnet('terrane-txstatus-')
  let node: TerraneNode | undefined
  try {
    node = await startNode({ config, logger: pino({ level: 'silent' }) })
    await waitFor(() => node!.blockStore.height >= 1, 20_000, 'a first block')
    const status = async (hash: string) => {
      const r = await fetch(`${node!.apiUrl}/v1/txs/${hash}/status`)
      assert.equal(r.status, 200)
      return (await r.json()) as {
        hash: string
        status: string
        height?: number
        index?: number
        code?: number
        reason?: string
        droppedAtMs?: number
      }
    }

    const faucet = layout.faucets[0]!
    const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(43)).publicKey)
    const transfer = (feeMicro: bigint) =>
      buildTransfer({ chainId: layout.chainId, signer: faucet, to, amountMicro: 1_000n, nonce: 0, feeMicro }, node!.app.txBodySchema)
    const first = transfer(1_000n)
    const bumped = transfer(2_000n) // the same nonce with more than the 10% fee bump (replaceFeeBumpPercent)
    const beforeMs = Date.now()
    // Both in one tick: no block can take `first` in between.
    assert.equal(node.submitTx(first).accepted, true)
    assert.equal(node.submitTx(bumped).accepted, true)
    const [firstHash, bumpedHash] = [toHex(sha256(first)), toHex(sha256(bumped))]

    const dropped = await status(firstHash)
    assert.equal(dropped.status, 'dropped')
    assert.equal(dropped.reason, 'replaced')
    assert.ok(dropped.droppedAtMs !== undefined && dropped.droppedAtMs >= beforeMs && dropped.droppedAtMs <= Date.now())
    assert.ok(['pending', 'committed'].includes((await status(bumpedHash)).status))
    // The drop is counted once, by the reason the status reports, in the metrics the API serves.
    const droppedCounts = async () => {
      const r = await fetch(`${node!.apiUrl}/metrics`)
      assert.equal(r.status, 200)
      const text = await r.text()
      assert.match(text, /^# TYPE terrane_node_mempool_dropped_total counter$/m)
      return [...text.matchAll(/^terrane_node_mempool_dropped_total\{reason="([a-z_]+)"\} (\d+)$/gm)].map(([, reason, n]) => [
        reason,
        Number(n),
      ])
    }
    assert.deepEqual(await droppedCounts(), [['replaced', 1]])

    await waitFor(async () => (await status(bumpedHash)).status === 'committed', 20_000, 'the replacement to commit')
    const committed = await status(bumpedHash)
    const tx = (await (await fetch(`${node.apiUrl}/v1/txs/${bumpedHash}`)).json()) as { height: number; index: number; code: number }
    assert.deepEqual(committed, { hash: bumpedHash, status: 'committed', height: tx.height, index: tx.index, code: 0 })
    assert.equal(node.app.account(to).balanceMicro, 1_000n)
    // The replaced tx stays dropped after the block, and GET /v1/txs/:hash keeps answering 404 for it.
    assert.equal((await status(firstHash)).reason, 'replaced')
    assert.equal((await fetch(`${node.apiUrl}/v1/txs/${firstHash}`)).status, 404)
    assert.deepEqual(await droppedCounts(), [['replaced', 1]], 'committing the replacement counts no drop')

    assert.deepEqual(await status('ee'.repeat(32)), { hash: 'ee'.repeat(32), status: 'unknown' })
    const bad = await fetch(`${node.apiUrl}/v1/txs/${'EE'.repeat(32)}/status`)
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'API_BAD_REQUEST')
  } finally {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
