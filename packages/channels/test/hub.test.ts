import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Signer } from '@terrane/crypto'
import { channelsModule, createHub, signVoucher, verifyVoucher } from '../src/index.ts'
import { addressOf, testChainId as chainId, TestChain, TRN } from '@terrane/chain/testing'

let current: TestChain | undefined
afterEach(() => {
  current?.assertInvariants()
  current = undefined
})

async function open(h: TestChain, payer: Signer, payee: Signer, amountMicro: bigint): Promise<Uint8Array> {
  const r = await h.run(payer, [{ type: 'channels/open', payee: addressOf(payee), payerKey: payer.publicKey, amountMicro }])
  assert.equal(r.code, 0, r.log)
  return Uint8Array.from(Buffer.from(r.events?.[0]?.attributes.channelId as string, 'hex'))
}

describe('hub-and-spoke routing', () => {
  it('a customer pays two devices through one channel to a hub; everyone redeems on chain', async () => {
    const h = new TestChain({ users: 4, modules: [channelsModule()], moduleGenesis: { channels: { settleDelayBlocks: 2 } } })
    current = h
    const [customer, hubKey, deviceA, deviceB] = h.users as [Signer, Signer, Signer, Signer]
    const inbound = await open(h, customer, hubKey, 10n * TRN)
    const toA = await open(h, hubKey, deviceA, 5n * TRN)
    const toB = await open(h, hubKey, deviceB, 5n * TRN)
    const hub = createHub({ chainId, signer: hubKey, feeBps: 100 })
    hub.addInbound({ channelId: inbound, payerKey: customer.publicKey, depositMicro: 10n * TRN })
    const hexOf = (s: Signer) => Buffer.from(addressOf(s)).toString('hex')
    hub.addOutbound(hexOf(deviceA), { channelId: toA, depositMicro: 5n * TRN })
    hub.addOutbound(hexOf(deviceB), { channelId: toB, depositMicro: 5n * TRN })

    let paid = 0n
    const pay = (destination: Signer, amountMicro: bigint, nonce: number, extraMicro = amountMicro / 100n) => {
      paid += amountMicro + extraMicro
      return hub.route({
        inboundChannelId: inbound,
        voucher: signVoucher(chainId, customer, { channelId: inbound, lane: 0, nonce, amountMicro: paid }),
        destination: hexOf(destination),
        amountMicro,
      })
    }
    const r1 = pay(deviceA, 1n * TRN, 1)
    const r2 = pay(deviceB, 2n * TRN, 2)
    const r3 = pay(deviceA, 1n * TRN, 3)
    assert.ok(r1.isRouted && r2.isRouted && r3.isRouted)
    // Each device checks its voucher offline against the hub's key.
    assert.equal(verifyVoucher(chainId, r3.voucher, hubKey.publicKey), true)
    assert.equal(r3.voucher.voucher.amountMicro, 2n * TRN)
    // Underpaying the fee, or paying past the outbound channel, is refused; nothing is forwarded.
    const under = pay(deviceB, TRN, 4, 0n)
    assert.deepEqual(under, { isRouted: false, reason: 'underpaid' })
    paid -= TRN
    const over = pay(deviceB, 4n * TRN, 5)
    assert.deepEqual(over, { isRouted: false, reason: 'outbound-over-balance' })
    assert.deepEqual(pay(deviceB, 1n, 1), { isRouted: false, reason: 'stale-nonce' })

    const startA = h.balance(deviceA)
    const startHub = h.balance(hubKey)
    for (const [who, channelId, v] of [
      [deviceA, toA, r3.voucher],
      [deviceB, toB, r2.voucher],
    ] as const) {
      const r = await h.run(who, [
        { type: 'channels/update', channelId, voucher: v },
        { type: 'channels/redeem', channelId },
      ])
      assert.equal(r.code, 0, r.log)
    }
    const best = hub.bestInbound(inbound)
    assert.equal(best.length, 1)
    const r = await h.run(hubKey, [
      { type: 'channels/update', channelId: inbound, voucher: best[0] },
      { type: 'channels/redeem', channelId: inbound },
    ])
    assert.equal(r.code, 0, r.log)
    assert.equal(h.balance(deviceA), startA + 2n * TRN - 1_000n)
    // The hub received 4 TRN + 1% fees from the customer.
    assert.equal(h.balance(hubKey), startHub + 4n * TRN + 40_000n - 1_000n)
  })
})
