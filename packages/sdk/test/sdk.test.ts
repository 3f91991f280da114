import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  MemoryBackend,
  createApiServer,
  populateMemoryBackend,
  hashApiKey,
  type ApiServer,
  type Population,
  type EventDto,
} from '@terrane/api'
import { keyPairFromSeed, seedSigner } from '@terrane/crypto'
import { sha256, toHex } from '@terrane/codec'
import {
  createClient,
  retryAfterMsOf,
  verifyStateProof,
  verifyTxInclusion,
  MultisigSession,
  SdkError,
  type AgreementEscrowDto,
  type SlaTermsDto,
  type TerraneClient,
} from '../src/index.ts'

describe('SDK against the API server (MemoryBackend)', () => {
  let backend: MemoryBackend
  let server: ApiServer
  let population: Population
  let client: TerraneClient
  before(async () => {
    backend = new MemoryBackend()
    population = populateMemoryBackend(backend, { seed: 11, devices: 30 })
    server = await createApiServer(
      { backend },
      { rateLimit: false, apiKeys: [{ name: 'ops', keyHash: hashApiKey('ops-key'), role: 'admin' }] },
    )
    client = createClient({ url: await server.start() })
  })
  after(async () => {
    await server.stop()
  })

  it('reads typed data and follows cursors', async () => {
    const status = await client.status()
    assert.equal(status.height, backend.height)
    const ids: string[] = []
    for await (const d of client.all((page) => client.devices({ ...page, limit: 7 }))) ids.push(d.id)
    assert.equal(ids.length, 30)
    assert.equal(await client.device('no-such'), null)
    const d = population.devices[0]!
    assert.equal((await client.device(d.id))?.owner, d.owner)
    assert.equal((await client.reward(d.id, 2))?.epoch, 2)
  })

  it('reads agreements with their SLA terms and escrow figures, typed (AgreementEscrowDto: penalised may be null)', async () => {
    const a = await client.agreement('agr-1')
    assert.ok(a !== null)
    assert.deepEqual(a, await backend.getAgreement('agr-1'))
    const escrow: AgreementEscrowDto = a.escrow
    const penalised: string | null = escrow.penalised
    assert.equal(penalised, '200000')
    assert.equal(BigInt(escrow.escrowed), BigInt(escrow.escrowHeld) + BigInt(escrow.paid) + BigInt(escrow.refunded))
    const sla: SlaTermsDto = a.sla
    assert.equal(sla.uptimeBpsMin, 9_900)
    const page = await client.agreements({ party: a.customer })
    assert.deepEqual(page.items, [a])
  })

  it('maps API errors to SdkError with the server code', async () => {
    await assert.rejects(
      () => client.devices({ limit: 1000 }),
      (e: unknown) => e instanceof SdkError && e.code === 'API_BAD_REQUEST' && e.status === 400,
    )
    await assert.rejects(
      () => client.admin.peers(),
      (e: unknown) => e instanceof SdkError && e.code === 'API_UNAUTHORIZED',
    )
    const admin = createClient({ url: client.url, apiKey: 'ops-key' })
    assert.deepEqual(await admin.admin.peers(), [])
  })

  it('surfaces an overloaded node: API_MEMPOOL_FULL with status 503 and retryAfterMs, per item in a batch', async () => {
    const fullBackend = new MemoryBackend({ mempoolTxsMax: 1 })
    const fullServer = await createApiServer({ backend: fullBackend }, { rateLimit: false })
    try {
      const full = createClient({ url: await fullServer.start() })
      assert.match(await full.submitTx(Uint8Array.of(5, 1)), /^[0-9a-f]{64}$/)
      await assert.rejects(
        () => full.submitTx(Uint8Array.of(5, 2)),
        (e: unknown) =>
          e instanceof SdkError && e.code === 'API_MEMPOOL_FULL' && e.status === 503 && e.retryAfterMs === 1000 && e.isRetryable,
      )
      const [refused] = await full.submitTxBatch([Uint8Array.of(5, 3)])
      assert.ok(refused !== undefined && 'error' in refused)
      assert.equal(refused.error.code, 'API_MEMPOOL_FULL')
      assert.deepEqual(refused.error.details, { reason: 'pool_full', retryAfterMs: 1000 })
      // Other refusals are not retryable as they stand.
      const bad = await full.devices({ limit: 1000 }).catch((e: unknown) => e)
      assert.ok(bad instanceof SdkError && !bad.isRetryable)
    } finally {
      await fullServer.stop()
    }
    assert.equal(retryAfterMsOf('3'), 3000)
    assert.equal(retryAfterMsOf('Thu, 01 Jan 1970 00:00:05 GMT', 1000), 4000)
    assert.equal(retryAfterMsOf(null), null)
    assert.equal(retryAfterMsOf('soon'), null)
  })

  it('submits canonical bytes and verifies committed transactions', async () => {
    const bytes = Uint8Array.of(7, 7, 7, 1)
    const hash = await client.submitTx(bytes)
    assert.equal(hash, toHex(sha256(bytes)))
    backend.commitBlock({ includeMempool: true })
    const tx = await client.verifiedTx(hash)
    assert.equal(tx?.height, backend.height)
    const block = await client.block(tx!.height)
    assert.deepEqual(verifyTxInclusion({ ...tx!, bytes: '00' + tx!.bytes }, block!.header), { isValid: false, reason: 'hash_mismatch' })
    const other = await client.block(tx!.height - 1)
    assert.equal(verifyTxInclusion(tx!, other!.header).isValid, false)
  })

  it('reads a transaction status: pending, dropped with the reason, committed with height and index, unknown', async () => {
    const kept = await client.submitTx(Uint8Array.of(8, 8, 8, 1))
    const lost = await client.submitTx(Uint8Array.of(8, 8, 8, 2))
    assert.deepEqual(await client.txStatus(kept), { hash: kept, status: 'pending' })
    backend.dropTx(lost, 'evicted', 1_700_000_000_000)
    assert.deepEqual(await client.txStatus(lost), { hash: lost, status: 'dropped', reason: 'evicted', droppedAtMs: 1_700_000_000_000 })
    assert.equal(await client.tx(lost), null, 'GET /v1/txs/:hash still answers 404 for it')
    backend.commitBlock({ includeMempool: true })
    assert.deepEqual(await client.txStatus(kept), { hash: kept, status: 'committed', height: backend.height, index: 0, code: 0 })
    assert.deepEqual(await client.txStatus('0e'.repeat(32)), { hash: '0e'.repeat(32), status: 'unknown' })
    await assert.rejects(
      () => client.txStatus('not-a-hash'),
      (e: unknown) => e instanceof SdkError && e.code === 'API_BAD_REQUEST' && e.status === 400,
    )
  })

  it('verifies state proofs against the header state root, and refuses tampering', async () => {
    const key = population.stateKeys[4]!
    const value = await client.verifiedState(key)
    assert.equal(new TextDecoder().decode(value!), population.accounts[4]!.balance)
    assert.equal(await client.verifiedState(Uint8Array.of(0, 1, 2)), null)
    const proof = await client.stateProof(key)
    assert.deepEqual(verifyStateProof({ ...proof, value: '00' }), { isValid: false, reason: 'proof_rejected' })
    assert.deepEqual(verifyStateProof(proof, 'ff'.repeat(32)), { isValid: false, reason: 'root_mismatch' })
    assert.deepEqual(verifyStateProof({ ...proof, proofFormat: 'other' }), { isValid: false, reason: 'unknown_format' })
    await assert.rejects(
      () => client.verifiedState(key, { trustedRoot: 'ff'.repeat(32) }),
      (e: unknown) => e instanceof SdkError && e.code === 'SDK_PROOF_INVALID',
    )
  })

  it('runs GraphQL queries and surfaces their error codes', async () => {
    const data = await client.graphql<{ devices: { items: { id: string; ownerAccount: { address: string } }[] } }>(
      'query($n: Int) { devices(first: $n) { items { id ownerAccount { address } } } }',
      { n: 5 },
    )
    assert.equal(data.devices.items.length, 5)
    await assert.rejects(
      () => client.graphql('{ account(address: "x") { balance } }'),
      (e: unknown) => e instanceof SdkError && e.code === 'API_BAD_REQUEST',
    )
  })

  it('subscribes, reconnects after the server drops it, and resumes without gaps or duplicates', async () => {
    const events: EventDto[] = []
    let wake: (() => void) | null = null
    const stream = client.subscribe(
      { topics: ['newBlock'] },
      (e) => {
        events.push(e)
        wake?.()
      },
      { fromHeight: backend.height, reconnectDelayMs: 10 },
    )
    const waitFor = async (n: number): Promise<void> => {
      while (events.length < n) await new Promise<void>((r) => (wake = r))
    }
    await waitFor(1)
    backend.commitBlock()
    await waitFor(2)
    // Drop every socket: the stream must reconnect and resume from the last height.
    const app = server.app as unknown as { websocketServer: { clients: Set<{ terminate(): void }> } }
    for (const ws of app.websocketServer.clients) ws.terminate()
    backend.commitBlock()
    backend.commitBlock()
    await waitFor(4)
    stream.close()
    const heights = events.map((e) => e.height)
    assert.deepEqual(
      heights,
      Array.from({ length: 4 }, (_, i) => heights[0]! + i),
    )
    assert.ok(stream.reconnects >= 1)
  })

  it('collects multisig signatures, checking each', () => {
    const seeds = [1, 2, 3].map((n) => new Uint8Array(32).fill(n))
    const keys = seeds.map((s) => keyPairFromSeed(s).publicKey)
    const payload = Uint8Array.of(1, 2, 3)
    const session = new MultisigSession({ publicKeys: keys, threshold: 2 }, { chainId: 'terrane-memory', kind: 'tx' }, payload)
    session.sign(seedSigner(seeds[2]!))
    assert.equal(session.isComplete, false)
    // A signature made elsewhere, passed around as bytes.
    const remote = new MultisigSession({ publicKeys: keys, threshold: 2 }, { chainId: 'terrane-memory', kind: 'tx' }, payload)
    const signature = remote.sign(seedSigner(seeds[0]!))
    session.add(keys[0]!, signature)
    assert.equal(session.isComplete, true)
    assert.deepEqual(
      session.collected().map((c) => c.index),
      [0, 2],
    )
    assert.throws(
      () => session.add(keys[1]!, signature),
      (e: unknown) => e instanceof SdkError && e.code === 'SDK_MULTISIG',
    )
    assert.throws(
      () => session.sign(seedSigner(new Uint8Array(32).fill(9))),
      (e: unknown) => e instanceof SdkError && e.code === 'SDK_MULTISIG',
    )
  })
})
