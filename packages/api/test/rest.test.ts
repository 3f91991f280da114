import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { fromHex, sha256, toHex, verifyMerkleProof } from '@terrane/codec'
import { MemoryBackend, createApiServer, errorCodes, routes, verifyMemoryStateProof, type AgreementDto } from '../src/index.ts'
import { adminKey, operatorKey, readerKey, testServer, type TestServer } from './helpers.ts'

describe('REST', () => {
  let t: TestServer
  before(async () => {
    t = await testServer()
  })
  after(async () => {
    await t.server.stop()
  })
  const get = (url: string, headers: Record<string, string> = {}) => t.server.app.inject({ method: 'GET', url, headers })

  it('serves status, blocks and a transaction whose inclusion proof verifies', async () => {
    const status = (await get('/v1/status')).json()
    assert.equal(status.height, t.backend.height)
    const block = (await get(`/v1/blocks/${status.height}`)).json()
    assert.equal(block.header.hash, status.latestBlockHash)
    assert.deepEqual((await get(`/v1/blocks/by-hash/${block.header.hash}`)).json(), block)
    const hash = t.population.txHashes[0] as string
    const tx = (await get(`/v1/txs/${hash}`)).json()
    const header = (await get(`/v1/blocks/${tx.height}`)).json().header
    assert.equal(toHex(sha256(fromHex(tx.bytes))), hash)
    assert.ok(
      verifyMerkleProof(fromHex(header.txRoot), fromHex(tx.bytes), {
        index: tx.proof.index,
        count: tx.proof.count,
        siblings: tx.proof.siblings.map(fromHex),
      }),
    )
  })

  it('pages devices with cursors until the end', async () => {
    const ids: string[] = []
    let url = '/v1/devices?limit=30'
    for (;;) {
      const r = await get(url)
      assert.equal(r.statusCode, 200)
      const page = r.json()
      ids.push(...page.items.map((d: { id: string }) => d.id))
      if (page.nextCursor === null) break
      url = `/v1/devices?limit=30&cursor=${page.nextCursor}`
    }
    assert.equal(ids.length, 100)
    assert.equal(new Set(ids).size, 100)
    const owner = t.population.devices[0]!.owner
    const mine = (await get(`/v1/devices?owner=${owner}&limit=100`)).json()
    assert.ok(mine.items.length > 0 && mine.items.every((d: { owner: string }) => d.owner === owner))
    const cell = t.population.cells[1]!
    const inCell = (await get(`/v1/devices?h3Cell=${cell}&limit=100`)).json()
    assert.equal(inCell.items.length, 25)
  })

  it('serves rewards with explanations, proofs, accounts, staking, agreements, channels', async () => {
    const d = t.population.devices[1]!
    const rewards = (await get(`/v1/devices/${d.id}/rewards`)).json()
    assert.equal(rewards.items[0].epoch, 5)
    assert.ok(rewards.items[0].explanation.length > 0)
    const one = (await get(`/v1/devices/${d.id}/rewards/3`)).json()
    assert.equal(one.epoch, 3)
    const sum = one.explanation.reduce((a: bigint, c: { amount: string }) => a + BigInt(c.amount), 0n)
    assert.equal(sum, BigInt(one.amount))
    const proofs = (await get(`/v1/devices/${d.id}/proofs?epoch=2`)).json()
    assert.equal(proofs.items.length, 1)
    assert.equal(
      (await get('/v1/proofs?kind=service&limit=100')).json().items.every((p: { kind: string }) => p.kind === 'service'),
      true,
    )
    assert.equal((await get(`/v1/accounts/${d.owner}`)).json().address, d.owner)
    assert.equal((await get('/v1/validators')).json().items.length, 4)
    assert.ok((await get('/v1/delegations')).json().items.length > 0)
    // The agreement with its SLA terms and escrow figures, as the backend holds it, on both routes.
    const agreement = (await get('/v1/agreements/agr-1')).json() as AgreementDto
    assert.deepEqual(agreement, await t.backend.getAgreement('agr-1'))
    assert.equal(agreement.status, 'active')
    assert.deepEqual(agreement.sla, {
      uptimeBpsMin: 9_900,
      latencyP95MsMax: 200,
      bandwidthKbpsMin: 1_000,
      penaltyBps: 1_000,
      breachesMax: 3,
    })
    const { escrowed, escrowHeld, paid, refunded, penalised } = agreement.escrow
    assert.deepEqual([escrowed, escrowHeld, paid, refunded, penalised], ['7250000', '6000000', '750000', '500000', '200000'])
    assert.deepEqual(agreement.settlement, {
      epochsMet: 3,
      epochsBreached: 1,
      epochsNoData: 1,
      consecutiveBreaches: 0,
      lastSettledEpoch: 5,
    })
    assert.deepEqual((await get(`/v1/agreements?party=${agreement.customer}`)).json().items, [agreement])
    assert.equal((await get('/v1/channels/ch-1')).json().status, 'open')
  })

  it('serves state proofs that verify', async () => {
    const key = t.population.stateKeys[2]!
    const p = (await get(`/v1/state/proof?key=${toHex(key)}`)).json()
    assert.ok(verifyMemoryStateProof(fromHex(p.root), key, fromHex(p.value), fromHex(p.proof)))
    const absent = (await get('/v1/state/proof?key=00ff')).json()
    assert.equal(absent.value, null)
    assert.ok(verifyMemoryStateProof(fromHex(absent.root), Uint8Array.of(0, 0xff), null, fromHex(absent.proof)))
  })

  it('submits a transaction (202) and refuses malformed ones with typed errors', async () => {
    const ok = await t.server.app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: 'deadbeef' } })
    assert.equal(ok.statusCode, 202)
    assert.equal(ok.json().hash, toHex(sha256(fromHex('deadbeef'))))
    const cases: [string | object, string, string][] = [
      [{ tx: 'xyz' }, 'application/json', 'API_BAD_REQUEST'],
      [{ tx: '' }, 'application/json', 'API_BAD_REQUEST'],
      [{}, 'application/json', 'API_BAD_REQUEST'],
      ['{"tx":', 'application/json', 'API_BAD_JSON'],
      ['{"tx":"00","__proto__":{"x":1}}', 'application/json', 'API_BAD_JSON'],
      ['tx=00', 'application/x-www-form-urlencoded', 'API_UNSUPPORTED_MEDIA_TYPE'],
    ]
    for (const [payload, contentType, code] of cases) {
      const r = await t.server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
        headers: { 'content-type': contentType },
      })
      assert.equal(r.json().error.code, code, `${JSON.stringify(payload)} -> ${r.body}`)
      assert.equal(r.statusCode, errorCodes[code as keyof typeof errorCodes].status)
    }
  })

  it('submits a batch in order, admitting or refusing each transaction on its own', async () => {
    const backend = new MemoryBackend({ checkTx: (bytes) => (bytes[0] === 0xff ? 'fee too low' : null) })
    const server = await createApiServer({ backend }, { rateLimit: false })
    after(() => server.stop())
    const r = await server.app.inject({ method: 'POST', url: '/v1/txs/batch', payload: { txs: ['0a0b', 'ff01', '0c0d'] } })
    assert.equal(r.statusCode, 202)
    const { results } = r.json() as { results: Array<{ hash?: string; error?: { code: string } }> }
    assert.equal(results.length, 3)
    assert.deepEqual(results[0], { hash: toHex(sha256(fromHex('0a0b'))) })
    assert.equal(results[1]?.error?.code, 'API_TX_REJECTED')
    assert.deepEqual(results[2], { hash: toHex(sha256(fromHex('0c0d'))) })
    for (const payload of [{ txs: [] }, { txs: ['zz'] }, { txs: Array.from({ length: 1001 }, () => '00') }, { tx: '00' }]) {
      const bad = await server.app.inject({ method: 'POST', url: '/v1/txs/batch', payload })
      assert.equal(bad.statusCode, 400, JSON.stringify(payload).slice(0, 40))
      assert.equal(bad.json().error.code, 'API_BAD_REQUEST')
    }
  })

  it('refuses transactions with 503 and Retry-After once the mempool is full, alone and in a batch', async () => {
    const backend = new MemoryBackend({ mempoolTxsMax: 2 })
    const server = await createApiServer({ backend }, { rateLimit: false })
    after(() => server.stop())
    const batch = await server.app.inject({ method: 'POST', url: '/v1/txs/batch', payload: { txs: ['0a01', '0a02', '0a03'] } })
    assert.equal(batch.statusCode, 202)
    const { results } = batch.json() as { results: Array<{ hash?: string; error?: { code: string; details?: { retryAfterMs?: number } } }> }
    assert.deepEqual(
      results.map((r) => r.hash !== undefined),
      [true, true, false],
    )
    assert.equal(results[2]?.error?.code, 'API_MEMPOOL_FULL')
    assert.equal(results[2]?.error?.details?.retryAfterMs, 1000)
    assert.equal(batch.headers['retry-after'], '1')
    const single = await server.app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: '0a04' } })
    assert.equal(single.statusCode, 503)
    assert.equal(single.json().error.code, 'API_MEMPOOL_FULL')
    assert.equal(single.headers['retry-after'], '1')
    // A batch with nothing refused for overload carries no Retry-After.
    const accepted = await server.app.inject({ method: 'POST', url: '/v1/txs/batch', payload: { txs: ['0a01'] } })
    assert.equal(accepted.statusCode, 202)
    assert.equal(accepted.headers['retry-after'], undefined)
  })

  it('refuses a body over 1 MB with 413', async () => {
    const r = await t.server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      payload: JSON.stringify({ tx: 'ab'.repeat(600_000) }),
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.statusCode, 413)
    assert.equal(r.json().error.code, 'API_BODY_TOO_LARGE')
  })

  it('answers unknown objects, routes and bad parameters with 4xx error bodies', async () => {
    const cases: [string, number, string][] = [
      ['/v1/blocks/999999', 404, 'API_NOT_FOUND'],
      ['/v1/blocks/0', 400, 'API_BAD_REQUEST'],
      ['/v1/blocks/-1', 400, 'API_BAD_REQUEST'],
      ['/v1/blocks/1e400', 400, 'API_BAD_REQUEST'],
      ['/v1/txs/zz', 400, 'API_BAD_REQUEST'],
      ['/v1/accounts/trn1notanaddress', 400, 'API_BAD_REQUEST'],
      ['/v1/devices?limit=1000', 400, 'API_BAD_REQUEST'],
      ['/v1/devices?cursor=bm9wZQ', 400, 'API_BAD_CURSOR'],
      ['/v1/devices?limit=1&limit=2', 400, 'API_BAD_REQUEST'],
      ['/v1/devices?bogus=1', 400, 'API_BAD_REQUEST'],
      ['/v1/state/proof?key=00&height=99999', 404, 'API_NOT_FOUND'],
      ['/v1/nothing', 404, 'API_ROUTE_NOT_FOUND'],
      ['/v1/devices/%E0%A4%A', 400, 'API_BAD_REQUEST'],
    ]
    for (const [url, status, code] of cases) {
      const r = await get(url)
      assert.equal(r.statusCode, status, `${url}: ${r.body}`)
      assert.equal(r.json().error.code, code, url)
    }
  })

  it('guards admin routes by role', async () => {
    const peers = (key?: string) => get('/v1/admin/peers', key === undefined ? {} : { 'x-api-key': key })
    assert.equal((await peers()).json().error.code, 'API_UNAUTHORIZED')
    assert.equal((await peers('wrong-key')).statusCode, 401)
    assert.equal((await peers(readerKey)).json().error.code, 'API_FORBIDDEN')
    assert.equal((await peers(operatorKey)).json()[0].id, '12D3KooWPeerOne1111')
    assert.equal((await get('/v1/admin/peers', { authorization: `Bearer ${adminKey}` })).statusCode, 200)
    const setLevel = (key: string) =>
      t.server.app.inject({ method: 'PUT', url: '/v1/admin/log-level', payload: { level: 'debug' }, headers: { 'x-api-key': key } })
    assert.equal((await setLevel(operatorKey)).statusCode, 403)
    assert.equal((await setLevel(adminKey)).statusCode, 200)
    assert.equal(await t.backend.admin.getLogLevel(), 'debug')
    const add = await t.server.app.inject({
      method: 'POST',
      url: '/v1/admin/peers',
      payload: { address: '/ip4/10.0.0.9/tcp/1/p2p/12D3KooWNewPeer999' },
      headers: { 'x-api-key': operatorKey },
    })
    assert.equal(add.statusCode, 200)
    const del = await t.server.app.inject({
      method: 'DELETE',
      url: '/v1/admin/peers/12D3KooWNewPeer999',
      headers: { 'x-api-key': operatorKey },
    })
    assert.deepEqual(del.json(), { isRemoved: true })
    const bad = await t.server.app.inject({
      method: 'POST',
      url: '/v1/admin/peers',
      payload: { address: 'nonsense' },
      headers: { 'x-api-key': operatorKey },
    })
    assert.equal(bad.json().error.code, 'API_BAD_REQUEST')
    await t.backend.submitTx(Uint8Array.of(9, 9, 9))
    const flush = await t.server.app.inject({ method: 'POST', url: '/v1/admin/unsafe/flush-mempool', headers: { 'x-api-key': adminKey } })
    assert.ok(flush.json().affected >= 1)
    assert.equal(t.backend.mempoolSize, 0)
  })

  it('serves health, readiness and metrics', async () => {
    assert.deepEqual((await get('/health')).json(), { status: 'ok' })
    assert.equal((await get('/ready')).statusCode, 200)
    t.backend.setSynced(false)
    const notReady = await get('/ready')
    t.backend.setSynced(true)
    assert.equal(notReady.statusCode, 503)
    assert.equal(notReady.json().isSynced, false)
    const metrics = (await get('/metrics')).body
    assert.match(metrics, /terrane_api_request_duration_seconds_count\{method="GET",route="\/v1\/status",status_code="200"\} \d+/)
    assert.match(metrics, /terrane_api_event_loop_lag_seconds\{quantile="0.99"\}/)
    assert.match(metrics, /terrane_api_ws_clients 0/)
  })

  it('generates a valid OpenAPI 3.1 document covering every route', async () => {
    const doc = (await get('/openapi.json')).json()
    const validator = new Validator()
    const result = await validator.validate(doc)
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000))
    assert.equal(validator.version, '3.1')
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}')
      const op = doc.paths[path]?.[r.method.toLowerCase()]
      assert.ok(op !== undefined, `${r.method} ${path} missing from OpenAPI`)
      assert.equal(op.operationId, r.operationId)
      assert.ok(op.responses['4XX'] ?? op.responses['4xx'], `${r.operationId} documents its error body`)
    }
    assert.equal((await get('/docs/')).statusCode, 200)
  })

  it('lists every error code in the README with its HTTP status (and nothing else)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const section = readme.split('## Errors')[1] ?? ''
    const rows = [...section.matchAll(/^\| `(API_[A-Z_0-9]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])])
    assert.deepEqual(Object.fromEntries(rows), Object.fromEntries(Object.entries(errorCodes).map(([code, v]) => [code, v.status])))
  })
})

describe('REST transaction status', () => {
  it('answers committed, pending, dropped (with the reason) and unknown, and 400 for a malformed hash', async () => {
    const backend = new MemoryBackend({ droppedTxsMax: 2 })
    backend.commitBlock()
    const server = await createApiServer({ backend }, { rateLimit: false })
    try {
      const status = async (hash: string) => {
        const r = await server.app.inject({ method: 'GET', url: `/v1/txs/${hash}/status` })
        assert.equal(r.statusCode, 200, r.body)
        return r.json()
      }
      const hashOf = (bytes: Uint8Array) => toHex(sha256(bytes))
      const [a, b, c, d] = [Uint8Array.of(1, 1), Uint8Array.of(2, 2), Uint8Array.of(3, 3), Uint8Array.of(4, 4)]
      for (const tx of [a, b, c, d]) await backend.submitTx(tx)

      assert.deepEqual(await status(hashOf(a)), { hash: hashOf(a), status: 'pending' })
      assert.equal(backend.dropTx(hashOf(a), 'replaced', 1_700_000_000_123), true)
      assert.deepEqual(await status(hashOf(a)), { hash: hashOf(a), status: 'dropped', reason: 'replaced', droppedAtMs: 1_700_000_000_123 })
      // GET /v1/txs/:hash is unchanged: a dropped transaction is not found there.
      assert.equal((await server.app.inject({ method: 'GET', url: `/v1/txs/${hashOf(a)}` })).statusCode, 404)

      // Committed: with height, index and result code; a later commit of a dropped tx wins.
      backend.commitBlock({ txs: [{ bytes: b }, { bytes: a, code: 7, reason: 'CHAIN_BAD_NONCE' }] })
      assert.deepEqual(await status(hashOf(b)), { hash: hashOf(b), status: 'committed', height: 2, index: 0, code: 0 })
      assert.deepEqual(await status(hashOf(a)), { hash: hashOf(a), status: 'committed', height: 2, index: 1, code: 7 })

      // The record is bounded (2 here): the oldest drop is forgotten and reads unknown.
      backend.dropTx(hashOf(c), 'evicted', 1)
      await backend.admin.unsafeFlushMempool()
      assert.equal((await status(hashOf(d))).reason, 'flushed')
      assert.equal((await status(hashOf(c))).reason, 'evicted')
      const e = Uint8Array.of(5, 5)
      await backend.submitTx(e)
      backend.dropTx(hashOf(e), 'stale', 2)
      assert.deepEqual(await status(hashOf(c)), { hash: hashOf(c), status: 'unknown' })
      // Re-admission clears the drop.
      await backend.submitTx(e)
      assert.deepEqual(await status(hashOf(e)), { hash: hashOf(e), status: 'pending' })
      assert.deepEqual(await status('ab'.repeat(32)), { hash: 'ab'.repeat(32), status: 'unknown' })

      for (const bad of ['zz', 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), `${'ab'.repeat(32)}%00`]) {
        const r = await server.app.inject({ method: 'GET', url: `/v1/txs/${bad}/status` })
        assert.equal(r.statusCode, 400, `${bad}: ${r.body}`)
        assert.equal(r.json().error.code, 'API_BAD_REQUEST')
      }
      const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      assert.ok(doc.paths['/v1/txs/{hash}/status'].get, 'the route is in the OpenAPI document')
    } finally {
      await server.stop()
    }
  })
})

describe('REST rate limits', () => {
  it('limits each client and answers 429 with retry-after', async () => {
    const t = await testServer({ rateLimit: { requestsMax: 5, windowMs: 60_000 } }, 2)
    try {
      const codes: number[] = []
      for (let i = 0; i < 7; i++) codes.push((await t.server.app.inject({ method: 'GET', url: '/v1/status' })).statusCode)
      assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429])
      const limited = await t.server.app.inject({ method: 'GET', url: '/v1/status' })
      assert.equal(limited.json().error.code, 'API_RATE_LIMITED')
      assert.ok(Number(limited.headers['retry-after']) > 0)
      // Another client (an API key) has its own budget.
      assert.equal((await t.server.app.inject({ method: 'GET', url: '/v1/status', headers: { 'x-api-key': readerKey } })).statusCode, 200)
    } finally {
      await t.server.stop()
    }
  })

  it('needs a reader key for reads when the node is not publicly readable', async () => {
    const t = await testServer({ isPublicReadable: false }, 2)
    try {
      assert.equal((await t.server.app.inject({ method: 'GET', url: '/v1/status' })).statusCode, 401)
      assert.equal((await t.server.app.inject({ method: 'GET', url: '/v1/status', headers: { 'x-api-key': readerKey } })).statusCode, 200)
    } finally {
      await t.server.stop()
    }
  })
})
