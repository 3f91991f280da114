import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Signer } from '@terrane/crypto'
import { committedModuleStore } from '@terrane/chain'
import {
  agreementIds,
  agreementOf,
  agreementRejectReasonOf,
  agreementsModule,
  readAgreement,
  readFigures,
  readProber,
  signFigures,
  type AgreementRejectReason,
} from '../src/index.ts'
import { addressOf, advanceTo, testChainId as chainId, codeName, TestChain, TRN } from '@terrane/chain/testing'

let current: TestChain | undefined
// The supply invariant is checked after every test.
afterEach(() => {
  current?.assertInvariants()
  current = undefined
})

const E = 10
function harness(): TestChain {
  current = new TestChain({
    users: 5,
    epochBlocks: E,
    modules: [agreementsModule()],
    moduleGenesis: { agreements: { proberBondMinMicro: String(50n * TRN), disputeWindowEpochs: 2 } },
  })
  return current
}

const terms = { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 10_000 }
const good = { uptimeBps: 9_950, latencyP95Ms: 120, bandwidthKbps: 20_000 }
const bad = { uptimeBps: 9_000, latencyP95Ms: 120, bandwidthKbps: 20_000 }

function openMsg(provider: Signer, fields: Record<string, unknown> = {}) {
  return {
    type: 'agreements/open',
    provider: addressOf(provider),
    service: 'cellular-data',
    pricePerEpochMicro: TRN,
    durationEpochs: 3,
    terms,
    penaltyBps: 1_000,
    breachesMax: 3,
    bondMicro: 10n * TRN,
    ...fields,
  }
}

async function ok(h: TestChain, s: Signer, msg: Record<string, unknown> & { type: string }) {
  const r = await h.run(s, [msg])
  assert.equal(r.code, 0, r.log)
  return r
}

async function refused(h: TestChain, s: Signer, msg: Record<string, unknown> & { type: string }, reason: AgreementRejectReason) {
  const r = await h.run(s, [msg])
  assert.equal(codeName(r.code), 'CHAIN_BAD_MESSAGE', r.log)
  assert.equal(agreementRejectReasonOf(r.log), reason, r.log)
}

/** Customer, provider, prober; prober registered; agreement opened and accepted at height 2 (covers epochs 2..4). */
async function setup(h: TestChain, fields: Record<string, unknown> = {}) {
  const [customer, provider, prober] = h.users as [Signer, Signer, Signer]
  await ok(h, prober, { type: 'agreements/register-prober', publicKey: prober.publicKey, bondMicro: 50n * TRN })
  const opened = await ok(h, customer, openMsg(provider, fields))
  const id = Number(opened.events?.find((e) => e.type === 'agreement-opened')?.attributes.agreementId)
  await ok(h, provider, { type: 'agreements/accept', agreementId: id })
  return { customer, provider, prober, id }
}

const figures = (id: number, f: typeof good) => [{ agreementId: id, ...f }]

describe('agreements module', () => {
  it('pays met epochs, refunds and penalises breached ones, refunds no-data, ends on expiry', async () => {
    const h = harness()
    const { customer, provider, prober, id } = await setup(h)
    const c0 = h.balance(customer)
    const p0 = h.balance(provider)
    const a = readAgreement((k) => h.read(k), id)
    assert.deepEqual([a?.status, a?.startEpoch, a?.endEpoch, a?.escrowMicro, a?.bondMicro], ['active', 2, 5, 3n * TRN, 10n * TRN])
    // Epoch 2 met (figures sent during epoch 2), epoch 3 breached (sent during epoch 4), epoch 4: no figures.
    await advanceTo(h, 15)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) })
    await advanceTo(h, 30)
    const settledAt30 = await h.block()
    const settled = settledAt30.events.find((e) => e.type === 'agreement-settled')
    assert.deepEqual(settled?.attributes, {
      agreementId: String(id),
      epoch: '2',
      outcome: 'met',
      paidMicro: String(TRN),
      refundMicro: '0',
      penaltyMicro: '0',
    })
    assert.equal(h.balance(provider), p0 + TRN)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 3, figures: figures(id, bad) })
    await advanceTo(h, 41)
    assert.equal(h.balance(customer), c0 + TRN + TRN) // refund + 10% of the 10 TRN bond
    await advanceTo(h, 51)
    const end = readAgreement((k) => h.read(k), id)
    assert.equal(end?.status, 'ended')
    assert.deepEqual([end?.epochsMet, end?.epochsBreached, end?.epochsNoData, end?.lastSettledEpoch], [1, 1, 1, 4])
    assert.equal(h.balance(customer), c0 + 3n * TRN)
    // Provider: paid 1 TRN, bond back less 1 TRN penalty, minus one accept fee counted before p0.
    assert.equal(h.balance(provider), p0 + TRN + 9n * TRN)
    assert.equal(end?.escrowMicro, 0n)
    assert.equal(end?.bondMicro, 0n)
  })

  it('ends an agreement after breachesMax consecutive breaches and slashes the bond each time', async () => {
    const h = harness()
    const { customer, provider, prober, id } = await setup(h, { durationEpochs: 10, breachesMax: 2, penaltyBps: 3_000 })
    const c0 = h.balance(customer)
    const p0 = h.balance(provider)
    await advanceTo(h, 15)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, { ...good, latencyP95Ms: 900 }) })
    await advanceTo(h, 25)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 3, figures: figures(id, { ...good, bandwidthKbps: 10 }) })
    await advanceTo(h, 41)
    const a = readAgreement((k) => h.read(k), id)
    assert.equal(a?.status, 'breached')
    // Refunds: 2 breached epochs + 8 unearned; penalties 2 x 3 TRN; bond remainder 4 TRN back.
    assert.equal(h.balance(customer), c0 + 10n * TRN + 6n * TRN)
    assert.equal(h.balance(provider), p0 + 4n * TRN)
  })

  it('takes the median of several probers per criterion', async () => {
    const h = harness()
    const { provider, prober, id } = await setup(h)
    const [, , , second, third] = h.users as [Signer, Signer, Signer, Signer, Signer]
    for (const s of [second, third]) await ok(h, s, { type: 'agreements/register-prober', publicKey: s.publicKey, bondMicro: 50n * TRN })
    const p0 = h.balance(provider)
    await advanceTo(h, 21)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) })
    await ok(h, second, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, { ...good, uptimeBps: 0 }) })
    await ok(h, third, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) })
    assert.equal(readFigures((k) => h.read(k), 2, id)?.submissions.length, 3)
    await advanceTo(h, 31)
    assert.equal(h.balance(provider), p0 + TRN) // one lying prober is outvoted
  })

  it('cancels: a pending offer refunds all; an active one refunds unstarted epochs, a provider pays a penalty', async () => {
    const h = harness()
    const [customer, provider] = h.users as [Signer, Signer]
    const c0 = h.balance(customer)
    const r = await ok(h, customer, openMsg(provider))
    const pendingId = Number(r.events?.[0]?.attributes.agreementId)
    await ok(h, customer, { type: 'agreements/cancel', agreementId: pendingId })
    assert.equal(h.balance(customer), c0 - 2_000n)
    await refused(h, provider, { type: 'agreements/accept', agreementId: pendingId }, 'not-pending')
    const { id } = await setup(h, { durationEpochs: 5 })
    const c1 = h.balance(customer)
    await advanceTo(h, 25) // epoch 3 under way: epochs 2 and 3 still settle, 4..6 refunded now
    const cancelled = await ok(h, provider, { type: 'agreements/cancel', agreementId: id })
    const attrs = cancelled.events?.find((e) => e.type === 'agreement-cancelled')?.attributes
    assert.deepEqual([attrs?.endEpoch, attrs?.refundMicro, attrs?.penaltyMicro], ['4', String(3n * TRN), String(TRN)])
    assert.equal(h.balance(customer), c1 + 4n * TRN)
    // Cancelling again changes nothing: the provider is not charged a second penalty (its bond stays).
    const before = readAgreement((k) => h.read(k), id)
    await refused(h, provider, { type: 'agreements/cancel', agreementId: id }, 'already-ending')
    await refused(h, customer, { type: 'agreements/cancel', agreementId: id }, 'already-ending')
    assert.deepEqual(
      readAgreement((k) => h.read(k), id),
      before,
    )
    await advanceTo(h, 41)
    assert.equal(readAgreement((k) => h.read(k), id)?.status, 'ended')
    await refused(h, customer, { type: 'agreements/cancel', agreementId: id }, 'not-active')
  })

  it('refuses impossible terms, self agreements, zero prices and strangers', async () => {
    const h = harness()
    const [customer, provider, stranger] = h.users as [Signer, Signer, Signer]
    for (const fields of [
      { durationEpochs: 0 },
      { durationEpochs: 100_001 },
      { terms: { ...terms, latencyP95MsMax: 0 } },
      { terms: { ...terms, bandwidthKbpsMin: 10_000_001 } },
      { breachesMax: 0 },
      { service: '' },
      { pricePerEpochMicro: (1n << 63n) + 1n, durationEpochs: 2 },
    ])
      await refused(h, customer, openMsg(provider, fields), 'impossible-terms')
    // uptime above 100% does not even decode.
    await assert.rejects(async () => h.run(customer, [openMsg(provider, { terms: { ...terms, uptimeBpsMin: 10_001 } })]), /10000/)
    await refused(h, customer, openMsg(customer), 'self-agreement')
    await refused(h, customer, openMsg(provider, { pricePerEpochMicro: 0n }), 'zero-amount')
    const r = await h.run(customer, [openMsg(provider, { pricePerEpochMicro: 10_000n * TRN })])
    assert.equal(codeName(r.code), 'CHAIN_INSUFFICIENT_FUNDS')
    const opened = await ok(h, customer, openMsg(provider))
    const id = Number(opened.events?.[0]?.attributes.agreementId)
    await refused(h, stranger, { type: 'agreements/accept', agreementId: id }, 'not-provider')
    await refused(h, stranger, { type: 'agreements/cancel', agreementId: id }, 'not-a-party')
    await refused(h, stranger, { type: 'agreements/accept', agreementId: 999 }, 'agreement-not-found')
  })

  it('refuses SLA figures from an unregistered prober, and figures for closed or future epochs; skips bad items', async () => {
    const h = harness()
    const { customer, prober, id } = await setup(h)
    const [, , , outsider] = h.users as [Signer, Signer, Signer, Signer]
    await advanceTo(h, 15)
    await refused(h, outsider, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) }, 'unregistered-prober')
    await refused(h, customer, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) }, 'unregistered-prober')
    await refused(h, prober, { type: 'agreements/submit-figures', epoch: 3, figures: figures(id, good) }, 'epoch-in-future')
    await advanceTo(h, 35)
    await refused(h, prober, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, good) }, 'epoch-closed')
    const r = await ok(h, prober, {
      type: 'agreements/submit-figures',
      epoch: 3,
      figures: [...figures(id, good), ...figures(id, good), ...figures(999, good)],
    })
    const e = r.events?.find((x) => x.type === 'figures-submitted')?.attributes
    assert.deepEqual([e?.accepted, JSON.parse(e?.skipped ?? '{}')], ['1', { duplicate: 1, 'agreement-not-found': 1 }])
  })

  it('registers probers with a bond; unregistered probers withdraw only after the dispute window', async () => {
    const h = harness()
    const [a, b] = h.users as [Signer, Signer]
    await refused(h, a, { type: 'agreements/register-prober', publicKey: b.publicKey, bondMicro: 50n * TRN }, 'bad-prober-key')
    await refused(h, a, { type: 'agreements/register-prober', publicKey: a.publicKey, bondMicro: 49n * TRN }, 'bond-too-low')
    await ok(h, a, { type: 'agreements/register-prober', publicKey: a.publicKey, bondMicro: 50n * TRN })
    await refused(h, a, { type: 'agreements/register-prober', publicKey: a.publicKey, bondMicro: 50n * TRN }, 'prober-exists')
    await refused(h, a, { type: 'agreements/withdraw-prober-bond' }, 'not-unbonding')
    const start = h.balance(a)
    const r = await ok(h, a, { type: 'agreements/unregister-prober' })
    const releaseEpoch = Number(r.events?.[0]?.attributes.releaseEpoch)
    assert.equal(releaseEpoch, 1 + 2 + 2)
    await refused(h, a, { type: 'agreements/withdraw-prober-bond' }, 'prober-bond-locked')
    await advanceTo(h, (releaseEpoch - 1) * E + 1)
    await ok(h, a, { type: 'agreements/withdraw-prober-bond' })
    assert.equal(h.balance(a), start + 50n * TRN - 3_000n)
    assert.equal(
      readProber((k) => h.read(k), addressOf(a)),
      undefined,
    )
  })

  it('upholds a dispute when a prober signed other figures than it submitted, and refuses weak ones', async () => {
    const h = harness()
    const { customer, provider, prober, id } = await setup(h)
    const [, , , stranger] = h.users as [Signer, Signer, Signer, Signer]
    await advanceTo(h, 15)
    await ok(h, prober, { type: 'agreements/submit-figures', epoch: 2, figures: figures(id, bad) })
    // The prober had handed the provider figures saying the terms were met.
    const evidence = signFigures(chainId, prober, { agreementId: id, epoch: 2, ...good })
    const honest = signFigures(chainId, prober, { agreementId: id, epoch: 2, ...bad })
    const dispute = (e = evidence, epoch = 2) => ({ type: 'agreements/dispute', agreementId: id, epoch, evidence: e })
    await refused(h, provider, dispute(), 'outside-window') // epoch 2 is not settled yet
    await advanceTo(h, 31)
    await refused(h, stranger, dispute(), 'not-a-party')
    await refused(h, provider, dispute(honest), 'no-conflict')
    await refused(h, provider, dispute({ ...evidence, signature: honest.signature }), 'bad-evidence-signature')
    await refused(h, provider, dispute(signFigures(chainId, stranger, { agreementId: id, epoch: 2, ...good })), 'unknown-prober')
    await refused(h, provider, dispute(evidence, 3), 'evidence-mismatch')
    const p0 = h.balance(provider)
    const r = await ok(h, provider, dispute())
    assert.equal(r.events?.[0]?.type, 'dispute-upheld')
    assert.equal(h.balance(provider), p0 + 25n * TRN - 1_000n)
    const record = readProber((k) => h.read(k), addressOf(prober))
    assert.deepEqual([record?.isActive, record?.bondMicro], [false, 25n * TRN])
    await refused(h, prober, { type: 'agreements/submit-figures', epoch: 3, figures: figures(id, good) }, 'unregistered-prober')
    await advanceTo(h, 61)
    await refused(h, customer, dispute(), 'outside-window')
  })

  it('indexes agreements by party and pages them in opening order', async () => {
    const h = harness()
    const [a, b, c, d] = h.users as [Signer, Signer, Signer, Signer]
    // a -> b, c -> a, b -> c, a -> d: a is in 1, 2, 4; b in 1, 3; d only in 4.
    for (const [customer, provider] of [
      [a, b],
      [c, a],
      [b, c],
      [a, d],
    ] as const)
      await ok(h, customer, openMsg(provider))
    const store = committedModuleStore(h.store, 'agreements')
    const ids = (party: Signer | undefined, afterId: number, limit: number) =>
      agreementIds(store, { ...(party === undefined ? {} : { party: addressOf(party) }), afterId, limit })
    assert.deepEqual(ids(a, 0, 10), { ids: [1, 2, 4], hasMore: false })
    assert.deepEqual(ids(a, 0, 2), { ids: [1, 2], hasMore: true })
    assert.deepEqual(ids(a, 2, 2), { ids: [4], hasMore: false })
    assert.deepEqual(ids(b, 0, 10), { ids: [1, 3], hasMore: false })
    assert.deepEqual(ids(d, 0, 10), { ids: [4], hasMore: false })
    assert.deepEqual(ids(h.users[4], 0, 10), { ids: [], hasMore: false })
    assert.deepEqual(ids(undefined, 0, 3), { ids: [1, 2, 3], hasMore: true })
    assert.deepEqual(ids(undefined, 3, 3), { ids: [4], hasMore: false })
    assert.deepEqual(ids(undefined, 4, 3), { ids: [], hasMore: false })
    const second = agreementOf(store, 2)
    assert.deepEqual([second?.customer, second?.provider, second?.status], [addressOf(c), addressOf(a), 'pending'])
    assert.equal(agreementOf(store, 5), undefined)
  })
})
