import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Signer } from '@terrane/crypto'
import { committedModuleStore } from '@terrane/chain'
import {
  channelIdOf,
  channelIds,
  channelOf,
  channelRejectReasonOf,
  channelsModule,
  readChannel,
  signVoucher,
  type ChannelRejectReason,
  type SignedVoucher,
} from '../src/index.ts'
import { addressOf, testChainId as chainId, codeName, TestChain, signerOf, TRN } from '@terrane/chain/testing'

const settleDelayBlocks = 5
let current: TestChain | undefined

function harness(): TestChain {
  current = new TestChain({ modules: [channelsModule()], moduleGenesis: { channels: { settleDelayBlocks } } })
  return current
}

// The supply invariant is checked after every test, whatever it did.
afterEach(() => {
  current?.assertInvariants()
  current = undefined
})

async function openChannel(h: TestChain, payer: Signer, payee: Signer, amountMicro: bigint): Promise<Uint8Array> {
  const r = await h.run(payer, [{ type: 'channels/open', payee: addressOf(payee), payerKey: payer.publicKey, amountMicro }])
  assert.equal(r.code, 0, r.log)
  const event = r.events?.find((e) => e.type === 'channel-open')
  assert.ok(event !== undefined)
  return Uint8Array.from(Buffer.from(event.attributes.channelId as string, 'hex'))
}

function voucher(payer: Signer, channelId: Uint8Array, lane: number, nonce: number, amountMicro: bigint): SignedVoucher {
  return signVoucher(chainId, payer, { channelId, lane, nonce, amountMicro })
}

async function expectReason(h: TestChain, signer: Signer, msg: Record<string, unknown> & { type: string }, reason: ChannelRejectReason) {
  const r = await h.run(signer, [msg])
  assert.equal(codeName(r.code), 'CHAIN_BAD_MESSAGE', r.log)
  assert.equal(channelRejectReasonOf(r.log), reason, r.log)
}

describe('channels module', () => {
  it('opens, credits vouchers per lane, redeems, closes, accepts a better voucher while settling, collects', async () => {
    const h = harness()
    const [payer, payee] = h.users as [Signer, Signer]
    const payerStart = h.balance(payer)
    const payeeStart = h.balance(payee)
    const id = await openChannel(h, payer, payee, 10n * TRN)
    assert.deepEqual(id, channelIdOf(addressOf(payer), addressOf(payee), 0))
    assert.equal(h.app.checkInvariants().isOk, true)

    let r = await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 1, 2n * TRN) }])
    assert.equal(r.code, 0, r.log)
    r = await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: voucher(payer, id, 3, 1, TRN) }])
    assert.equal(r.code, 0, r.log)
    r = await h.run(payee, [{ type: 'channels/redeem', channelId: id }])
    assert.equal(r.code, 0, r.log)
    assert.equal(h.balance(payee), payeeStart + 3n * TRN - 3_000n)

    r = await h.run(payer, [{ type: 'channels/close', channelId: id }])
    assert.equal(r.code, 0, r.log)
    const settleHeight = Number(r.events?.find((e) => e.type === 'channel-close')?.attributes.settleHeight)
    assert.equal(settleHeight, h.height + settleDelayBlocks)
    // The payee's best voucher arrives during the settle delay.
    r = await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 9, 5n * TRN) }])
    assert.equal(r.code, 0, r.log)
    await expectReason(h, payer, { type: 'channels/collect', channelId: id }, 'settle-delay-running')
    while (h.height < settleHeight) await h.block()
    r = await h.run(payee, [{ type: 'channels/collect', channelId: id }])
    assert.equal(r.code, 0, r.log)
    // Lanes 0 (5 TRN) + 3 (1 TRN) = 6 TRN to the payee in total; 4 TRN back to the payer.
    assert.equal(h.balance(payee), payeeStart + 6n * TRN - 5_000n)
    assert.equal(h.balance(payer), payerStart - 6n * TRN - 3_000n)
    const record = readChannel((k) => h.read(k), id)
    assert.equal(record?.status, 'collected')
    assert.equal(record?.paidMicro, 6n * TRN)
  })

  it('refuses a lower cumulative amount, a replayed nonce, a wrong lane and a wrong channel', async () => {
    const h = harness()
    const [payer, payee] = h.users as [Signer, Signer]
    const id = await openChannel(h, payer, payee, 10n * TRN)
    const other = await openChannel(h, payer, payee, 1n * TRN)
    const v = voucher(payer, id, 0, 5, 3n * TRN)
    assert.equal((await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: v }])).code, 0)
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: v }, 'stale-nonce')
    await expectReason(
      h,
      payee,
      { type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 6, 2n * TRN) },
      'amount-decreased',
    )
    await expectReason(
      h,
      payee,
      { type: 'channels/update', channelId: other, voucher: voucher(payer, id, 0, 7, 4n * TRN) },
      'wrong-channel',
    )
    // lane 64 does not even decode (schema bound), so it is refused as bad encoding before the module.
    const badLane = { ...v, voucher: { ...v.voucher, lane: 64 } }
    const r = await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: badLane }]).catch((e: unknown) => e)
    assert.ok(r instanceof Error && /lane/.test(r.message))
  })

  it('refuses a voucher over the balance, a forged one, and one submitted by anyone but the payee', async () => {
    const h = harness()
    const [payer, payee, mallory] = h.users as [Signer, Signer, Signer]
    const id = await openChannel(h, payer, payee, 2n * TRN)
    await expectReason(
      h,
      payee,
      { type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 1, 2n * TRN + 1n) },
      'over-balance',
    )
    assert.equal((await h.run(payee, [{ type: 'channels/update', channelId: id, voucher: voucher(payer, id, 1, 1, TRN) }])).code, 0)
    // Lane 1 holds 1 TRN: 1.5 TRN on lane 2 would exceed the 2 TRN deposit.
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: voucher(payer, id, 2, 1, 1_500_000n) }, 'over-balance')
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: voucher(mallory, id, 0, 1, TRN) }, 'bad-signature')
    const honest = voucher(payer, id, 0, 1, 100n)
    const tampered = { ...honest, voucher: { ...honest.voucher, amountMicro: 900_000n } }
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: tampered }, 'bad-signature')
    await expectReason(h, mallory, { type: 'channels/update', channelId: id, voucher: honest }, 'not-payee')
    await expectReason(h, payer, { type: 'channels/update', channelId: id, voucher: honest }, 'not-payee')
  })

  it('refuses settling twice, collecting twice, updating after the settle height and anything after collect', async () => {
    const h = harness()
    const [payer, payee, mallory] = h.users as [Signer, Signer, Signer]
    const id = await openChannel(h, payer, payee, 2n * TRN)
    await expectReason(h, payer, { type: 'channels/collect', channelId: id }, 'not-settling')
    await expectReason(h, mallory, { type: 'channels/close', channelId: id }, 'not-a-party')
    assert.equal((await h.run(payee, [{ type: 'channels/close', channelId: id }])).code, 0)
    await expectReason(h, payer, { type: 'channels/close', channelId: id }, 'already-settling')
    await expectReason(h, payer, { type: 'channels/add-funds', channelId: id, amountMicro: TRN }, 'already-settling')
    await h.blocks(settleDelayBlocks)
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 1, TRN) }, 'settled')
    const before = h.balance(payer)
    assert.equal((await h.run(payer, [{ type: 'channels/collect', channelId: id }])).code, 0)
    assert.equal(h.balance(payer), before + 2n * TRN - 1_000n)
    await expectReason(h, payer, { type: 'channels/collect', channelId: id }, 'collected')
    await expectReason(h, payer, { type: 'channels/close', channelId: id }, 'collected')
    await expectReason(h, payee, { type: 'channels/redeem', channelId: id }, 'collected')
    await expectReason(h, payee, { type: 'channels/update', channelId: id, voucher: voucher(payer, id, 0, 2, TRN) }, 'collected')
  })

  it('refuses bad opens: zero deposit, foreign key, self channel, unfunded; unknown channels', async () => {
    const h = harness()
    const [payer, payee] = h.users as [Signer, Signer]
    await expectReason(
      h,
      payer,
      { type: 'channels/open', payee: addressOf(payee), payerKey: payer.publicKey, amountMicro: 0n },
      'zero-amount',
    )
    await expectReason(
      h,
      payer,
      { type: 'channels/open', payee: addressOf(payee), payerKey: payee.publicKey, amountMicro: 1n },
      'bad-payer-key',
    )
    await expectReason(
      h,
      payer,
      { type: 'channels/open', payee: addressOf(payer), payerKey: payer.publicKey, amountMicro: 1n },
      'self-channel',
    )
    const r = await h.run(payer, [
      { type: 'channels/open', payee: addressOf(payee), payerKey: payer.publicKey, amountMicro: 10_000n * TRN },
    ])
    assert.equal(codeName(r.code), 'CHAIN_INSUFFICIENT_FUNDS')
    await expectReason(h, payee, { type: 'channels/redeem', channelId: new Uint8Array(32) }, 'channel-not-found')
    const id = await openChannel(h, payer, payee, TRN)
    await expectReason(h, payee, { type: 'channels/redeem', channelId: id }, 'nothing-to-redeem')
    await expectReason(h, payee, { type: 'channels/add-funds', channelId: id, amountMicro: TRN }, 'not-payer')
    assert.equal((await h.run(payer, [{ type: 'channels/add-funds', channelId: id, amountMicro: TRN }])).code, 0)
    assert.equal(readChannel((k) => h.read(k), id)?.depositMicro, 2n * TRN)
  })

  it('rejects bad module genesis with CHAIN_BAD_GENESIS', () => {
    assert.throws(
      () => new TestChain({ modules: [channelsModule()], moduleGenesis: { channels: { settleDelayBlocks: -1 } } }),
      (e: unknown) => (e as { code?: string }).code === 'CHAIN_BAD_GENESIS',
    )
    void signerOf
  })

  it('indexes channels by payer and payee and pages them in opening order', async () => {
    const h = harness()
    const [a, b, c] = h.users as [Signer, Signer, Signer]
    const ab = await openChannel(h, a, b, 10n)
    const ca = await openChannel(h, c, a, 20n)
    const bc = await openChannel(h, b, c, 30n)
    const store = committedModuleStore(h.store, 'channels')
    const list = (party: Signer | undefined, afterSeq: number, limit: number) => {
      const r = channelIds(store, { ...(party === undefined ? {} : { party: addressOf(party) }), afterSeq, limit })
      return { ids: r.items.map((i) => [i.seq, Buffer.from(i.channelId).toString('hex')]), hasMore: r.hasMore }
    }
    const hex = (id: Uint8Array) => Buffer.from(id).toString('hex')
    assert.deepEqual(list(a, -1, 10), {
      ids: [
        [0, hex(ab)],
        [1, hex(ca)],
      ],
      hasMore: false,
    })
    assert.deepEqual(list(c, -1, 1), { ids: [[1, hex(ca)]], hasMore: true })
    assert.deepEqual(list(c, 1, 1), { ids: [[2, hex(bc)]], hasMore: false })
    assert.deepEqual(list(h.users[3], -1, 10), { ids: [], hasMore: false })
    assert.deepEqual(list(undefined, -1, 2), {
      ids: [
        [0, hex(ab)],
        [1, hex(ca)],
      ],
      hasMore: true,
    })
    assert.deepEqual(list(undefined, 1, 2), { ids: [[2, hex(bc)]], hasMore: false })
    assert.equal(channelOf(store, bc)?.depositMicro, 30n)
    assert.equal(channelOf(store, new Uint8Array(32)), undefined)
  })
})
