// `terrane service demo` against a real node (one validator with the DePIN modules, started in
// process): agreement, channel and settlements over the REST API, then the API's agreement and
// channel answers (party index, paging, errors) checked against what the demo did.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadNodeConfig, startNode, writeDevnet, type TerraneNode } from '@terrane/node'
import { testCli } from './helpers.ts'

interface Settlement {
  epoch: number
  epochsSettled: number
  outcome: string
  paidMicro: string
  refundMicro: string
  penaltyMicro: string
}
interface DemoJson {
  customer: string
  device: string
  prober: string
  channelRedeemedMicro: string
  unaccountedMicro: string
  report: {
    agreementId: number
    channelId: Record<string, number>
    startEpoch: number
    endEpoch: number
    settlements: Settlement[]
    redeemedMicro: string
    providerDeltaMicro: string
    final: { status: string; epochsMet: number; epochsBreached: number; escrowMicro: string; bondMicro: string }
  }
}

const TRN = 1_000_000n

test('terrane service demo: a customer pays a device through a channel, the agreement settles each epoch, misses are penalised', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-service-demo-'))
  const cli = await testCli()
  let node: TerraneNode | undefined
  try {
    const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0, params: { epochBlocks: 10 } })
    const config = await loadNodeConfig((layout.nodes[0] as { home: string }).home, {
      p2p: { listen: '/ip4/127.0.0.1/tcp/0' },
      api: { port: 0 },
      mqtt: { port: -1 },
    })
    node = await startNode({ config, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) })
    const api = node.apiUrl
    const seed = 'ab'.repeat(32)
    const run = await cli.run([
      'service',
      'demo',
      '--api',
      api,
      '--json',
      '--seed',
      seed,
      '--miss-from-epoch',
      '2',
      '--device-id',
      'tdev1demo',
    ])
    assert.equal(run.code, 0, run.stderr)
    const out = JSON.parse(run.stdout) as DemoJson
    const r = out.report

    // Epochs 0 and 1 met: the device is paid the price; 2 and 3 breached: the price is refunded and
    // 20% of the 10 TRN bond goes to the customer each time. Each boundary is observed once (on a
    // loaded machine the observer may see two at once: then the totals still hold).
    const sum = (f: (s: Settlement) => bigint) => r.settlements.reduce((total, s) => total + f(s), 0n)
    assert.deepEqual(
      [sum((s) => BigInt(s.paidMicro)), sum((s) => BigInt(s.refundMicro)), sum((s) => BigInt(s.penaltyMicro))],
      [2n * TRN, 2n * TRN, 4n * TRN],
    )
    assert.equal(
      r.settlements.reduce((n, s) => n + s.epochsSettled, 0),
      4,
    )
    for (const s of r.settlements.filter((x) => x.epochsSettled === 1)) {
      const isMet = s.epoch - r.startEpoch < 2
      assert.deepEqual(
        [s.outcome, s.paidMicro, s.refundMicro, s.penaltyMicro],
        isMet ? ['met', String(TRN), '0', '0'] : ['breached', '0', String(TRN), String(2n * TRN)],
        `epoch ${s.epoch}`,
      )
    }
    assert.deepEqual(
      [r.final.status, r.final.epochsMet, r.final.epochsBreached, r.final.escrowMicro, r.final.bondMicro],
      ['ended', 2, 2, '0', '0'],
    )
    // The channel paid the device 4 vouchers of 0.2 TRN.
    assert.equal(out.channelRedeemedMicro, String(800_000n))
    assert.equal(r.redeemedMicro, String(800_000n))
    // Device: +2 TRN paid, +0.8 TRN through the channel, -4 TRN penalties, less 6 fees (accept, 4 vouchers, redeem).
    assert.equal(BigInt(r.providerDeltaMicro), 2n * TRN + 800_000n - 4n * TRN - 6n * 1_000n)
    // No funds created or lost: among the actors, and in the whole chain's supply accounting.
    assert.equal(out.unaccountedMicro, '0')
    const invariants = node.app.checkInvariants()
    assert.ok(invariants.isOk, invariants.violations.join('; '))

    // The API's agreements and channels, from the modules' state and party indexes.
    const get = async (path: string) => {
      const res = await fetch(api + path)
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const channelHex = Buffer.from(Object.values(r.channelId)).toString('hex')
    const agreement = await get(`/v1/agreements/${r.agreementId}`)
    assert.equal(agreement.status, 200)
    assert.deepEqual(agreement.body, {
      id: String(r.agreementId),
      provider: out.device,
      customer: out.customer,
      deviceIds: [],
      service: 'data-relay',
      pricePerEpoch: String(TRN),
      durationEpochs: 4,
      startEpoch: r.startEpoch,
      endEpoch: r.endEpoch,
      status: 'completed',
      // The demo's terms (scenarioTerms), 20% of the bond per breach, ended by expiry after 4 epochs.
      sla: { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 5_000, penaltyBps: 2_000, breachesMax: 4 },
      // 2 epochs paid, 2 refunded; the rest of the bond went back at the end, so the node cannot tell the
      // penalties from the module's state (they are in the settlement events the demo summed above).
      escrow: {
        escrowed: String(4n * TRN),
        escrowHeld: '0',
        paid: String(2n * TRN),
        refunded: String(2n * TRN),
        bond: String(10n * TRN),
        bondHeld: '0',
        penalised: null,
      },
      settlement: { epochsMet: 2, epochsBreached: 2, epochsNoData: 0, consecutiveBreaches: 2, lastSettledEpoch: r.endEpoch - 1 },
    })
    const channel = await get(`/v1/channels/${channelHex}`)
    assert.deepEqual(channel.body, {
      id: channelHex,
      payer: out.customer,
      payee: out.device,
      deposit: String(800_000n),
      redeemed: String(800_000n),
      nonce: 4,
      expiresHeight: 0,
      status: 'open',
    })
    for (const party of [out.customer, out.device]) {
      assert.deepEqual((await get(`/v1/agreements?party=${party}`)).body, { items: [agreement.body], nextCursor: null })
      assert.deepEqual((await get(`/v1/channels?party=${party}`)).body, { items: [channel.body], nextCursor: null })
    }
    assert.deepEqual((await get(`/v1/agreements?party=${out.prober}`)).body, { items: [], nextCursor: null })
    // Unfiltered lists page in opening order; following nextCursor visits each item once.
    const ids: string[] = []
    for (let cursor: string | null = '', pages = 0; cursor !== null && pages < 10; pages++) {
      const page = await get(`/v1/agreements?limit=1${cursor === '' ? '' : `&cursor=${cursor}`}`)
      ids.push(...(page.body.items as Array<{ id: string }>).map((a) => a.id))
      cursor = page.body.nextCursor as string | null
    }
    assert.ok(ids.includes(String(r.agreementId)))
    assert.equal(new Set(ids).size, ids.length)
    assert.equal((await get('/v1/agreements/999999')).status, 404)
    assert.equal((await get(`/v1/channels/${'00'.repeat(32)}`)).status, 404)
    assert.equal((await get('/v1/agreements?cursor=abc')).status, 400)
  } finally {
    await node?.stop()
    await cli.cleanup()
    await rm(dir, { recursive: true, force: true })
  }
})
