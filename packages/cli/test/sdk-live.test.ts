// The SDK against a live node (not the API's MemoryBackend): one validator started in
// process, real consensus, state and API; every answer checked against proofs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildTransfer, keys } from '@terrane/chain'
import { accountIdOfPublicKey, addressOfPublicKey, seedSigner } from '@terrane/crypto'
import { loadNodeConfig, startNode, writeDevnet, type TerraneNode } from '@terrane/node'
import { createClient, registerStateProofVerifier } from '@terrane/sdk'
import { decodeStateProof, verifyProof } from '@terrane/state'

registerStateProofVerifier('terrane-smt16-v1', (root, key, value, proof) =>
  verifyProof(root, key, value ?? undefined, decodeStateProof(proof)),
)

test('the SDK reads, submits, verifies and subscribes against a live node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-sdk-live-'))
  let node: TerraneNode | undefined
  try {
    const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0, isDepin: false })
    const config = await loadNodeConfig((layout.nodes[0] as { home: string }).home, {
      p2p: { listen: '/ip4/127.0.0.1/tcp/0' },
      api: { port: 0 },
      mqtt: { port: -1 },
    })
    node = await startNode({ config, logger: pino({ level: 'silent' }) })
    const client = createClient({ url: node.apiUrl })

    const heights: number[] = []
    const stream = client.subscribe({ topics: ['newBlock'] }, (event) => heights.push(event.height))
    const faucet = layout.faucets[0] as ReturnType<typeof seedSigner>
    const sender = await client.account(addressOfPublicKey(faucet.publicKey))
    assert.ok(sender !== null && BigInt(sender.balance) > 0n)
    const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(9)).publicKey)
    const hash = await client.submitTx(
      buildTransfer({ chainId: layout.chainId, signer: faucet, to, amountMicro: 777n, nonce: sender.nonce }),
    )

    let verified = await client.verifiedTx(hash)
    for (let i = 0; verified === null && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100))
      verified = await client.verifiedTx(hash)
    }
    assert.ok(verified !== null, 'the transfer commits and its inclusion proof verifies against the header')
    assert.equal(verified.code, 0)

    // The recipient's account record, proven against the root in the next header (it
    // carries the state after the transfer's block).
    const proofHeight = verified.height + 1
    for (let i = 0; (await client.status()).height < proofHeight && i < 200; i++) await new Promise((r) => setTimeout(r, 100))
    const value = await client.verifiedState(Buffer.from(keys.account(to), 'latin1'), { height: proofHeight })
    assert.ok(value !== null && value.length > 0)
    const absent = await client.verifiedState(Buffer.from(keys.account(new Uint8Array(20).fill(0xee)), 'latin1'))
    assert.equal(absent, null, 'a missing account is proven absent')

    const status = await client.status()
    assert.equal(status.chainId, layout.chainId)
    for (let i = 0; heights.length < 2 && i < 100; i++) await new Promise((r) => setTimeout(r, 100))
    stream.close()
    assert.ok(heights.length >= 2, 'new blocks arrive over the WebSocket stream')
  } finally {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
