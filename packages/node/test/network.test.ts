// Four validators in one process over real libp2p on loopback: consensus messages
// travel the reactor's channel with per-peer gossip, transactions travel gossipsub.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildTransfer } from '@terrane/chain'
import { toHex } from '@terrane/codec'
import { blockHash } from '@terrane/consensus'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { loadNodeConfig, startNode, writeDevnet, type TerraneNode } from '../src/index.ts'
import { waitFor } from './helpers.ts'

/** Ports 31500-31539: below Linux's ephemeral range (32768-60999), so no OS-assigned port can take them; no other test uses them. */
const basePort = 31_500

test('four validators agree on every block, carry transfers submitted to any of them, and go on without one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-network-'))
  const nodes: TerraneNode[] = []
  try {
    const layout = await writeDevnet({ dir, validators: 4, genesisTimeMs: Date.now(), basePort, isDepin: false })
    for (const n of layout.nodes) {
      const config = await loadNodeConfig(n.home, { api: { port: 0 }, mqtt: { port: -1 } })
      nodes.push(await startNode({ config, logger: pino({ level: 'silent' }) }))
    }
    const minHeight = () => Math.min(...nodes.map((n) => n.blockStore.height))
    await waitFor(() => minHeight() >= 3, 120_000, 'three blocks on every node', 25)

    // One transfer per faucet, each submitted to a different node: gossip brings them to every proposer.
    const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(7)).publicKey)
    layout.faucets.slice(0, 8).forEach((faucet, i) => {
      const node = nodes[i % nodes.length] as TerraneNode
      const tx = buildTransfer({ chainId: layout.chainId, signer: faucet, to, amountMicro: 1_000n, nonce: 0 }, node.app.txBodySchema)
      assert.equal(node.submitTx(tx).accepted, true)
    })
    await waitFor(() => nodes.every((n) => n.app.account(to).balanceMicro === 8_000n), 120_000, 'the transfers on every node', 25)

    // One validator stops: three of four hold more than 2/3 of the power and go on.
    const stopped = nodes.pop() as TerraneNode
    await stopped.stop()
    const heightAtStop = minHeight()
    await waitFor(() => minHeight() >= heightAtStop + 3, 120_000, 'three more blocks without the fourth validator', 25)

    // The CometBFT e2e invariant: the same block at every height on every running node.
    for (let h = 1; h <= minHeight(); h++) {
      const hashes = await Promise.all(nodes.map(async (n) => toHex(blockHash((await n.blockStore.block(h))!.header))))
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(' ')}`)
    }
  } finally {
    for (const n of nodes) await n.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
