// The API's agreement and channel answers (src/depin/api.ts) over a real chain app's committed
// state: DTO mapping, status names, the party index, paging and bad cursors. The same answers over
// HTTP on a running node are checked by packages/cli/test/service-demo.test.ts.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ApiError } from '@terrane/api'
import { agreementsModule } from '@terrane/agreements'
import { channelsModule } from '@terrane/channels'
import { encodeAddress, type Signer } from '@terrane/crypto'
import { addressOf, TestChain, TRN } from '@terrane/chain/testing'
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
      pricePerEpoch: String(TRN),
      // Accepted at height 4 (epoch 1): covers epochs 2..4; endEpoch is the first epoch not covered.
      startEpoch: 2,
      endEpoch: 5,
      status: 'active',
    })
    assert.equal(agreement(h.store, '2')?.status, 'cancelled')
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
})
