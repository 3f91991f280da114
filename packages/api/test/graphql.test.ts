import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import WebSocket from 'ws'
import { parse, Kind, type OperationDefinitionNode } from 'graphql'
import { graphqlSdl, queryCostOf, queryDepthOf } from '../src/index.ts'
import { testServer, type TestServer } from './helpers.ts'

const devicePage = `{ devices(first: 100) { items { id owner model h3Cell isActive attestation { status reason } ownerAccount { address balance nonce kind } } nextCursor } }`

describe('GraphQL', () => {
  let t: TestServer
  before(async () => {
    t = await testServer()
  })
  after(async () => {
    await t.server.stop()
  })
  const gql = (payload: unknown) => t.server.app.inject({ method: 'POST', url: '/graphql', payload: payload as object })

  it('reads a page of 100 devices with their owners in two backend calls', async () => {
    t.backend.resetCalls()
    const r = await gql({ query: devicePage })
    assert.equal(r.statusCode, 200, r.body)
    const items = r.json().data.devices.items
    assert.equal(items.length, 100)
    for (const d of items) assert.equal(d.ownerAccount.address, d.owner)
    assert.deepEqual(t.backend.calls, { listDevices: 1, getAccounts: 1 })
  })

  it('computes the GraphQL Armor cost and depth of that page', () => {
    const op = parse(devicePage).definitions[0] as OperationDefinitionNode
    assert.equal(op.kind, Kind.OPERATION_DEFINITION)
    assert.equal(queryDepthOf(op.selectionSet, new Map()), 4)
    // devices: 2 + 1.5 * (items: 2 + 1.5 * (5 + (2 + 1.5 * 2) + (2 + 1.5 * 4)) + nextCursor: 1)
    assert.equal(queryCostOf(op.selectionSet, new Map()), 2 + 1.5 * (2 + 1.5 * (5 + 5 + 8) + 1))
  })

  it('serves nested reads, blocks, txs, rewards and state proofs', async () => {
    const owner = t.population.devices[0]!.owner
    const r = await gql({
      query: `query($a: String!) { status { height } account(address: $a) { balance devices(first: 5) { items { id rewards(first: 2) { items { epoch amount } } } } txs(first: 3) { items { hash proof { txRoot } } } } block(height: 2) { header { txRoot } txHashes } }`,
      variables: { a: owner },
    })
    const data = r.json().data
    assert.equal(data.status.height, t.backend.height)
    assert.ok(data.account.devices.items.length > 0)
    assert.equal(data.account.devices.items[0].rewards.items[0].epoch, 5)
    assert.equal(data.block.header.txRoot.length, 64)
  })

  it('serves agreements with their SLA terms, escrow figures and settled epochs', async () => {
    const r = await gql({
      query: `{ agreement(id: "agr-1") { id service durationEpochs status sla { uptimeBpsMin latencyP95MsMax bandwidthKbpsMin penaltyBps breachesMax } escrow { escrowed escrowHeld paid refunded bond bondHeld penalised } settlement { epochsMet epochsBreached epochsNoData consecutiveBreaches lastSettledEpoch } } agreements(first: 10) { items { id escrow { penalised } } } }`,
    })
    assert.equal(r.statusCode, 200, r.body)
    const data = r.json().data
    const expected = (await t.backend.getAgreement('agr-1'))!
    assert.deepEqual(data.agreement, {
      id: expected.id,
      service: expected.service,
      durationEpochs: expected.durationEpochs,
      status: expected.status,
      sla: expected.sla,
      escrow: expected.escrow,
      settlement: expected.settlement,
    })
    assert.equal(data.agreement.escrow.penalised, '200000')
    assert.deepEqual(data.agreements.items, [{ id: 'agr-1', escrow: { penalised: '200000' } }])
  })

  it('types an unknown penalty as a nullable String and every escrow figure as a non-null String', () => {
    assert.match(graphqlSdl, /type AgreementEscrow \{[^}]*\n {2}penalised: String\n/)
    assert.match(graphqlSdl, /type AgreementEscrow \{[^}]*\n {2}escrowed: String!\n/)
    assert.match(
      graphqlSdl,
      /type Agreement \{[^}]*\n {2}sla: SlaTerms!\n {2}escrow: AgreementEscrow!\n {2}settlement: AgreementSettlement!\n/,
    )
  })

  it('refuses queries over the depth, alias and cost limits, and oversized batches', async () => {
    const deep = await gql({
      query: '{ devices { items { ownerAccount { devices { items { ownerAccount { devices { items { id } } } } } } } } }',
    })
    assert.equal(deep.statusCode, 400)
    assert.ok(deep.json().errors.some((e: { extensions?: { code: string } }) => e.extensions?.code === 'API_GRAPHQL_DEPTH'))
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: status { height }`).join(' ')
    const many = await gql({ query: `{ ${aliases} }` })
    assert.ok(many.json().errors.some((e: { extensions?: { code: string } }) => e.extensions?.code === 'API_GRAPHQL_ALIASES'))
    // Repeated selections count, as in GraphQL Armor: 2 + 1.5 * (2 + 1.5 * 2300) > 5000.
    const wide = `devices { items { ${'id '.repeat(2300)} } }`
    const costly = await gql({ query: `{ ${wide} }` })
    assert.ok(
      costly.json().errors.some((e: { extensions?: { code: string } }) => e.extensions?.code === 'API_GRAPHQL_COST'),
      costly.body.slice(0, 300),
    )
    const batchOk = await gql(Array.from({ length: 10 }, () => ({ query: '{ status { height } }' })))
    assert.equal(batchOk.statusCode, 200)
    assert.equal(batchOk.json().length, 10)
    const batchTooBig = await gql(Array.from({ length: 11 }, () => ({ query: '{ status { height } }' })))
    assert.equal(batchTooBig.statusCode, 400)
    assert.equal(batchTooBig.json().errors[0].extensions.code, 'API_GRAPHQL_BATCH')
  })

  it('answers txStatus for committed, pending and unknown transactions, and refuses a malformed hash', async () => {
    const committed = t.population.txHashes[0] as string
    const pending = (await t.backend.submitTx(Uint8Array.of(9, 8, 7, 6))).hash
    const query = `query ($c: String!, $p: String!, $u: String!) {
      c: txStatus(hash: $c) { hash status height index code reason droppedAtMs }
      p: txStatus(hash: $p) { status reason }
      u: txStatus(hash: $u) { status }
    }`
    const r = await gql({ query, variables: { c: committed, p: pending, u: 'cd'.repeat(32) } })
    assert.equal(r.statusCode, 200, r.body)
    const data = r.json().data
    const tx = await t.backend.getTx(committed)
    assert.deepEqual(data.c, {
      hash: committed,
      status: 'committed',
      height: tx?.height,
      index: tx?.index,
      code: 0,
      reason: null,
      droppedAtMs: null,
    })
    assert.deepEqual(data.p, { status: 'pending', reason: null })
    assert.deepEqual(data.u, { status: 'unknown' })
    t.backend.dropTx(pending, 'invalid_on_recheck')
    const dropped = (await gql({ query: `{ txStatus(hash: "${pending}") { status reason } }` })).json().data
    assert.deepEqual(dropped.txStatus, { status: 'dropped', reason: 'invalid_on_recheck' })
    const bad = (await gql({ query: '{ txStatus(hash: "zz") { status } }' })).json()
    assert.equal(bad.errors[0].extensions.code, 'API_BAD_REQUEST')
  })

  it('refuses bad arguments with a coded error, not a crash', async () => {
    const r = await gql({ query: '{ account(address: "nope") { balance } devices(first: 1000) { nextCursor } }' })
    const codes = r.json().errors.map((e: { extensions?: { code: string } }) => e.extensions?.code)
    assert.deepEqual(codes.sort(), ['API_BAD_REQUEST', 'API_BAD_REQUEST'])
    assert.ok(r.statusCode < 500)
    const garbage = await t.server.app.inject({
      method: 'POST',
      url: '/graphql',
      payload: '{"query": "{{{{"}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(garbage.statusCode, 400)
  })

  it('streams new blocks and account transactions over a GraphQL subscription, resuming from a height', async () => {
    const url = (await t.server.start()).replace('http', 'ws') + '/graphql'
    const ws = new WebSocket(url, 'graphql-transport-ws')
    await once(ws, 'open')
    const messages: { type: string; id?: string; payload?: { data?: { newBlocks?: { height: number } } } }[] = []
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())))
    ws.send(JSON.stringify({ type: 'connection_init' }))
    const from = t.backend.height - 1
    ws.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: `subscription { newBlocks(fromHeight: ${from}) { height header { hash } } }` },
      }),
    )
    const heights = (): number[] => messages.filter((m) => m.type === 'next').map((m) => m.payload?.data?.newBlocks?.height as number)
    while (heights().length < 2) await once(ws, 'message')
    t.backend.commitBlock()
    while (heights().length < 3) await once(ws, 'message')
    assert.deepEqual(heights(), [from, from + 1, from + 2])
    const before = t.backend.subscriptionCount
    ws.close()
    await once(ws, 'close')
    // The server releases the backend subscription when the socket goes.
    for (let i = 0; i < 100 && t.backend.subscriptionCount >= before; i++) await new Promise((r) => setImmediate(r))
    assert.ok(t.backend.subscriptionCount < before)
  })
})
