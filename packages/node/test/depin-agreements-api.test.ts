// The API's agreement and channel answers (src/depin/api.ts) over a real chain app's committed
// state: DTO mapping, status names, the party index, paging and bad cursors. The same answers over
// HTTP on a running node are checked by packages/cli/test/service-demo.test.ts.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ApiError, type AgreementDto } from '@terrane/api'
import { agreementOf, agreementsModule } from '@terrane/agreements'
import { channelsModule } from '@terrane/channels'
import { encodeAddress, type Signer } from '@terrane/crypto'
import { committedModuleStore } from '@terrane/chain'
import { addressOf, advanceTo, TestChain, TRN } from '@terrane/chain/testing'
import { agreement, agreements, channel, channels } from '../src/depin/api.ts'

const terms = { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 1_000 }

async function ok(h: TestChain, s: Signer, msg: Record<string, unknown> & { type: string }) {
  const r = await h.run(s, [msg])
  assert.equal(r.code, 0, r.log)
  return r
}

describe('node API: agreements and channels', () => {
  it('maps agreements and channels from module state, filters by party and pages in opening order', async () => {
    const h = new TestChain({ users: 4, epochBlocks: 10, modules: [channelsModule(), agreementsModule()] })
    const [a, b, c, d] = h.users as [Signer, Signer, Signer, Signer]
    const open = (customer: Signer, provider: Signer, breachesMax = 3) =>
      ok(h, customer, {
        type: 'agreements/open',
        provider: addressOf(provider),
        service: 'data-relay',
        pricePerEpochMicro: TRN,
        durationEpochs: 3,
        terms,
        penaltyBps: 1_000,
        breachesMax,
        bondMicro: 0n,
      })
    await open(a, b) // 1: accepted below, active
    await open(c, a) // 2: cancelled while proposed
    await open(b, c) // 3: proposed
    await ok(h, b, { type: 'agreements/accept', agreementId: 1 })
    await ok(h, c, { type: 'agreements/cancel', agreementId: 2 })
    const opened = await ok(h, a, { type: 'channels/open', payee: addressOf(d), payerKey: a.publicKey, amountMicro: 5n * TRN })
    const channelHex = opened.events?.find((e) => e.type === 'channel-open')?.attributes.channelId as string
    await ok(h, d, { type: 'channels/close', channelId: Buffer.from(channelHex, 'hex') })
    const address = (s: Signer) => encodeAddress(addressOf(s))

    const first = agreement(h.store, '1')
    assert.deepEqual(first, {
      id: '1',
      provider: address(b),
      customer: address(a),
      deviceIds: [],
      service: 'data-relay',
      pricePerEpoch: String(TRN),
      durationEpochs: 3,
      // Accepted at height 4 (epoch 1): covers epochs 2..4; endEpoch is the first epoch not covered.
      startEpoch: 2,
      endEpoch: 5,
      status: 'active',
      sla: { ...terms, penaltyBps: 1_000, breachesMax: 3 },
      // Nothing settled yet; no bond named, so nothing can be penalised.
      escrow: {
        escrowed: String(3n * TRN),
        escrowHeld: String(3n * TRN),
        paid: '0',
        refunded: '0',
        bond: '0',
        bondHeld: '0',
        penalised: '0',
      },
      settlement: { epochsMet: 0, epochsBreached: 0, epochsNoData: 0, consecutiveBreaches: 0, lastSettledEpoch: 0 },
    })
    // Cancelled while proposed: the whole escrow went back, no bond was ever locked.
    assert.deepEqual(
      [agreement(h.store, '2')?.status, agreement(h.store, '2')?.escrow],
      [
        'cancelled',
        { escrowed: String(3n * TRN), escrowHeld: '0', paid: '0', refunded: String(3n * TRN), bond: '0', bondHeld: '0', penalised: '0' },
      ],
    )
    assert.deepEqual([agreement(h.store, '3')?.status, agreement(h.store, '3')?.startEpoch], ['proposed', 0])
    for (const id of ['4', '0', 'x', '01', '99999999999999999999']) assert.equal(agreement(h.store, id), null, id)

    const ids = (query: { party?: string }, limit: number, cursor?: string) => {
      const page = agreements(h.store, query, { limit, ...(cursor === undefined ? {} : { cursor }) })
      return [page.items.map((x) => x.id), page.nextCursor]
    }
    assert.deepEqual(ids({ party: address(a) }, 10), [['1', '2'], null])
    assert.deepEqual(ids({ party: address(c) }, 1), [['2'], '2'])
    assert.deepEqual(ids({ party: address(c) }, 1, '2'), [['3'], null])
    assert.deepEqual(ids({ party: address(d) }, 10), [[], null])
    assert.deepEqual(ids({}, 2), [['1', '2'], '2'])
    assert.deepEqual(ids({}, 2, '2'), [['3'], null])
    assert.throws(
      () => agreements(h.store, {}, { limit: 1, cursor: 'abc' }),
      (e: unknown) => e instanceof ApiError && e.code === 'API_BAD_CURSOR',
    )

    const ch = channel(h.store, channelHex)
    assert.deepEqual(ch, {
      id: channelHex,
      payer: address(a),
      payee: address(d),
      deposit: String(5n * TRN),
      redeemed: '0',
      nonce: 0,
      // Closed by the payee at height 7; the default settle delay is 43,200 blocks.
      expiresHeight: 7 + 43_200,
      status: 'closing',
    })
    assert.equal(channel(h.store, '00'.repeat(32)), null)
    assert.equal(channel(h.store, 'not-hex'), null)
    assert.deepEqual(channels(h.store, { party: address(d) }, { limit: 10 }), { items: [ch], nextCursor: null })
    assert.deepEqual(channels(h.store, { party: address(b) }, { limit: 10 }), { items: [], nextCursor: null })
    assert.deepEqual(channels(h.store, {}, { limit: 1 }), { items: [ch], nextCursor: null })
    h.assertInvariants()
  })
  it('maps SLA terms and escrow figures from the module as epochs settle: met, breached, no data, expiry', async () => {
    const h = new TestChain({
      users: 3,
      epochBlocks: 10,
      modules: [agreementsModule()],
      moduleGenesis: { agreements: { proberBondMinMicro: String(50n * TRN) } },
    })
    const [customer, provider, prober] = h.users as [Signer, Signer, Signer]
    await ok(h, prober, { type: 'agreements/register-prober', publicKey: prober.publicKey, bondMicro: 50n * TRN })
    const sla = { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 10_000 }
    await ok(h, customer, {
      type: 'agreements/open',
      provider: addressOf(provider),
      service: 'cellular-data',
      pricePerEpochMicro: TRN,
      durationEpochs: 4,
      terms: sla,
      penaltyBps: 1_500,
      breachesMax: 3,
      bondMicro: 10n * TRN,
    })
    await ok(h, provider, { type: 'agreements/accept', agreementId: 1 })
    const module = () => agreementOf(committedModuleStore(h.store, 'agreements'), 1)!
    const c0 = h.balance(customer)
    /** The DTO against the module's record: terms as stored, escrow and bond held as stored, the rest derived from them. */
    const checkAgainstModule = (dto: AgreementDto | null) => {
      const a = module()
      assert.ok(dto !== null)
      assert.deepEqual(dto.sla, { ...a.terms, penaltyBps: a.penaltyBps, breachesMax: a.breachesMax })
      assert.deepEqual([dto.service, dto.durationEpochs], [a.service, a.durationEpochs])
      assert.deepEqual(dto.settlement, {
        epochsMet: a.epochsMet,
        epochsBreached: a.epochsBreached,
        epochsNoData: a.epochsNoData,
        consecutiveBreaches: a.consecutiveBreaches,
        lastSettledEpoch: a.lastSettledEpoch,
      })
      assert.deepEqual(
        [dto.escrow.escrowHeld, dto.escrow.bond, dto.escrow.bondHeld],
        [String(a.escrowMicro), String(a.bondInitialMicro), String(a.bondMicro)],
      )
      assert.equal(BigInt(dto.escrow.escrowed), BigInt(dto.escrow.escrowHeld) + BigInt(dto.escrow.paid) + BigInt(dto.escrow.refunded))
    }
    const dto0 = agreement(h.store, '1')
    checkAgainstModule(dto0)
    assert.deepEqual(dto0?.sla, { ...sla, penaltyBps: 1_500, breachesMax: 3 })
    assert.deepEqual(dto0?.escrow, {
      escrowed: String(4n * TRN),
      escrowHeld: String(4n * TRN),
      paid: '0',
      refunded: '0',
      bond: String(10n * TRN),
      bondHeld: String(10n * TRN),
      penalised: '0',
    })

    // Covers epochs 2..5. Epoch 2 meets the terms, epoch 3 misses the uptime (figures sent the epoch after; each
    // epoch settles at the end of the next one).
    await advanceTo(h, 15)
    await ok(h, prober, {
      type: 'agreements/submit-figures',
      epoch: 2,
      figures: [{ agreementId: 1, uptimeBps: 9_950, latencyP95Ms: 120, bandwidthKbps: 20_000 }],
    })
    await advanceTo(h, 30)
    await ok(h, prober, {
      type: 'agreements/submit-figures',
      epoch: 3,
      figures: [{ agreementId: 1, uptimeBps: 9_000, latencyP95Ms: 120, bandwidthKbps: 20_000 }],
    })
    await advanceTo(h, 41)
    const active = agreement(h.store, '1')
    checkAgainstModule(active)
    assert.equal(active?.status, 'active')
    assert.deepEqual(active?.settlement, { epochsMet: 1, epochsBreached: 1, epochsNoData: 0, consecutiveBreaches: 1, lastSettledEpoch: 3 })
    assert.deepEqual(active?.escrow, {
      escrowed: String(4n * TRN),
      escrowHeld: String(2n * TRN),
      paid: String(TRN),
      refunded: String(TRN),
      bond: String(10n * TRN),
      bondHeld: String(10n * TRN - 1_500_000n),
      penalised: '1500000', // 15% of the 10 TRN bond for the breached epoch
    })
    // What the customer got back is the refund plus the penalty the DTO reports.
    assert.equal(h.balance(customer) - c0, BigInt(active!.escrow.refunded) + BigInt(active!.escrow.penalised!))

    // Epochs 4 and 5 without figures: refunded, then the agreement expires and the rest of the bond goes back.
    await advanceTo(h, 61)
    const ended = agreement(h.store, '1')
    checkAgainstModule(ended)
    assert.equal(ended?.status, 'completed')
    assert.deepEqual(ended?.settlement, { epochsMet: 1, epochsBreached: 1, epochsNoData: 2, consecutiveBreaches: 1, lastSettledEpoch: 5 })
    assert.deepEqual(ended?.escrow, {
      escrowed: String(4n * TRN),
      escrowHeld: '0',
      paid: String(TRN),
      refunded: String(3n * TRN),
      bond: String(10n * TRN),
      bondHeld: '0',
      penalised: null, // the module no longer holds what would tell it
    })
    assert.equal(h.balance(customer) - c0, 3n * TRN + 1_500_000n)
    h.assertInvariants()
  })
})
