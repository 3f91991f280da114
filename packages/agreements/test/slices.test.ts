import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Signer } from '@terrane/crypto'
import { committedModuleStore, keys, type AppEvent } from '@terrane/chain'
import { agreementKeys, agreementOf, agreementsModule, figuresPerSubmissionMax, settleCursorSchema } from '../src/index.ts'
import { addressOf, TestChain, TRN } from '@terrane/chain/testing'

const E = 10
const agreementCount = 600 // 2-3 agreements per index bucket, so slices end inside buckets
const providerCount = 4

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

interface Run {
  h: TestChain
  /** Settlement's agreement-settled and agreement-ended events (end of block), in order, with their block's height. */
  settlement: Array<{ height: number; event: AppEvent }>
  /** Every other event (transactions' events, then the other end-of-block events), in order. */
  other: AppEvent[]
}

/**
 * The same signed transactions on a chain with the given slice bound: agreements accepted in two
 * epochs, mixed durations (expiries), breachesMax 1 on some (ends by breach inside a slice), figures
 * met, breached and missing, and agreements accepted then cancelled while a settlement is under way.
 */
async function drive(settleSliceMax: number): Promise<Run> {
  const h = new TestChain({
    users: 2 + providerCount,
    epochBlocks: E,
    modules: [agreementsModule()],
    moduleGenesis: { agreements: { proberBondMinMicro: String(50n * TRN), disputeWindowEpochs: 2, settleSliceMax } },
  })
  const [customer, prober, ...providers] = h.users as [Signer, Signer, ...Signer[]]
  const run: Run = { h, settlement: [], other: [] }
  const block = async (txs: Uint8Array[] = []) => {
    const res = await h.block(txs)
    for (const r of res.txResults) assert.equal(r.code, 0, r.log)
    run.other.push(...res.txResults.flatMap((r) => r.events ?? []))
    for (const event of res.events) {
      if (event.type === 'agreement-settled' || event.type === 'agreement-ended') run.settlement.push({ height: h.height, event })
      else run.other.push(event)
    }
  }
  const providerOf = (id: number) => providers[id % providerCount] as Signer
  const accept = (ids: number[]) =>
    providers.flatMap((p, pi) =>
      chunks(
        ids.filter((id) => id % providerCount === pi).map((agreementId) => ({ type: 'agreements/accept', agreementId })),
        32, // messages per transaction
      ).map((msgs) => h.tx(p, msgs)),
    )
  const ids = Array.from({ length: agreementCount }, (_, i) => i + 1)
  const late = ids.filter((id) => id % 3 === 2 && id % 10 === 2)

  await block([h.tx(prober, [{ type: 'agreements/register-prober', publicKey: prober.publicKey, bondMicro: 50n * TRN }])])
  const opens = ids.map((id) => ({
    type: 'agreements/open',
    provider: addressOf(providerOf(id)),
    service: 'sensor-data',
    pricePerEpochMicro: 1_000n + BigInt(id),
    durationEpochs: 2 + (id % 4),
    terms: { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 1_000 },
    penaltyBps: 1_500,
    breachesMax: id % 5 === 0 ? 1 : 2,
    bondMicro: 3_000n,
  }))
  for (const group of chunks(chunks(opens, 30), 10)) await block(group.map((msgs) => h.tx(customer, msgs)))
  // Epoch 1: two thirds accepted (they cover epochs 2..); the rest wait.
  await block(accept(ids.filter((id) => id % 3 !== 2)))

  while (h.height < 10 * E + 5) {
    const next = h.height + 1
    const epoch = Math.ceil(next / E)
    const inEpoch = next - (epoch - 1) * E
    const txs: Uint8Array[] = []
    // Figures for the current epoch, in its 9th block (after a 90-per-block slicing has finished):
    // breached for id % 4 === 1, missing for id % 7 === 0, met otherwise.
    if (inEpoch === 9) {
      const figures = ids
        .filter((id) => id % 7 !== 0)
        .map((agreementId) => ({ agreementId, uptimeBps: agreementId % 4 === 1 ? 9_000 : 9_950, latencyP95Ms: 80, bandwidthKbps: 5_000 }))
      for (const f of chunks(figures, figuresPerSubmissionMax))
        txs.push(h.tx(prober, [{ type: 'agreements/submit-figures', epoch, figures: f }]))
    }
    // Epoch 2: the other third accepted (covers epochs 3..); epoch 4: two of them re-offered and
    // cancelled while epoch 2 settles in slices (they leave the index between slices).
    if (epoch === 2 && inEpoch === 3) txs.push(...accept(ids.filter((id) => id % 3 === 2 && id % 10 !== 2)))
    if (epoch === 4 && inEpoch === 1) txs.push(...accept(late))
    if (epoch === 4 && inEpoch === 3) {
      for (const id of late) txs.push(h.tx(providerOf(id), [{ type: 'agreements/cancel', agreementId: id }]))
    }
    await block(txs)
  }
  h.assertInvariants()
  return run
}

function balances(r: Run): bigint[] {
  return r.h.users.map((u) => r.h.balance(u))
}
function agreements(r: Run) {
  const store = committedModuleStore(r.h.store, 'agreements')
  return Array.from({ length: agreementCount }, (_, i) => agreementOf(store, i + 1))
}
function moduleEscrow(r: Run): Uint8Array | undefined {
  return r.h.read(Uint8Array.from(Buffer.from(keys.escrow('agreements'), 'latin1')))
}

describe('settlement in slices', () => {
  it('gives the same balances, agreements, events and escrow as settling each epoch at once', async () => {
    const whole = await drive(1_000_000)
    // 90 per block: each epoch finishes within the next epoch's first 7 blocks, before any figures
    // arrive. 37 per block: an epoch needs more blocks than an epoch has, so the next boundary
    // finishes the rest; figures then arrive while a settlement is under way and see agreements it has
    // not reached yet as active (those it then ends by breach get figures that never settle): only the
    // figures-submitted counts differ.
    for (const sliceMax of [90, 37]) {
      const sliced = await drive(sliceMax)
      assert.deepEqual(
        sliced.settlement.map((s) => s.event),
        whole.settlement.map((s) => s.event),
      )
      const notFigures = (r: Run) => r.other.filter((e) => sliceMax === 90 || e.type !== 'figures-submitted')
      assert.deepEqual(notFigures(sliced), notFigures(whole))
      assert.deepEqual(balances(sliced), balances(whole))
      assert.deepEqual(agreements(sliced), agreements(whole))
      assert.deepEqual(moduleEscrow(sliced), moduleEscrow(whole))
      // Slicing did happen: settlement events are spread over more blocks than the boundaries.
      const heights = (r: Run) => new Set(r.settlement.map((s) => s.height))
      assert.ok([...heights(whole)].every((height) => height % E === 0))
      assert.ok(heights(sliced).size > heights(whole).size * 3, `${heights(sliced).size} blocks`)
      // No settlement is left in progress once the last epoch is finished.
      assert.equal(committedModuleStore(sliced.h.store, 'agreements').get(settleCursorSchema, agreementKeys.settleCursor), undefined)
    }
    // Each agreement settles at most once per epoch, and the run settled every kind of outcome.
    const seen = new Set<string>()
    for (const { event } of whole.settlement.filter((s) => s.event.type === 'agreement-settled')) {
      const k = `${event.attributes.agreementId}/${event.attributes.epoch}`
      assert.ok(!seen.has(k), k)
      seen.add(k)
    }
    const outcomes = new Set(whole.settlement.map((s) => s.event.attributes.outcome ?? s.event.attributes.status))
    for (const o of ['met', 'breached', 'no-data', 'ended']) assert.ok(outcomes.has(o), o)
    assert.ok(whole.other.some((e) => e.type === 'agreement-cancelled'))
  })
})
