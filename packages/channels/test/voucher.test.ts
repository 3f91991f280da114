import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { checkVoucher, signVoucher, verifyVoucher, voucherSigningBytes, type ChannelView } from '../src/index.ts'
import { testChainId as chainId, signerOf } from '@terrane/chain/testing'

const payer = signerOf(1, 9)
const channelId = new Uint8Array(32).fill(7)
const view: ChannelView = { channelId, payerKey: payer.publicKey, depositMicro: 1_000n, lanes: [{ lane: 0, nonce: 3, amountMicro: 100n }] }

describe('vouchers (offline)', () => {
  it('signs the fixed 52-byte payload inside the voucher domain', () => {
    const bytes = voucherSigningBytes(chainId, { channelId, lane: 2, nonce: 5, amountMicro: 258n })
    const payload = bytes.subarray(bytes.length - 52)
    assert.deepEqual(payload.subarray(0, 32), channelId)
    assert.deepEqual([...payload.subarray(32, 36)], [0, 0, 0, 2])
    assert.deepEqual([...payload.subarray(36, 44)], [0, 0, 0, 0, 0, 0, 0, 5])
    assert.deepEqual([...payload.subarray(44, 52)], [0, 0, 0, 0, 0, 0, 1, 2])
    assert.ok(Buffer.from(bytes).includes(Buffer.from('voucher')))
  })

  it('verifies the payer signature and nothing else: other chain, other key, any changed field', () => {
    const sv = signVoucher(chainId, payer, { channelId, lane: 0, nonce: 4, amountMicro: 150n })
    assert.equal(verifyVoucher(chainId, sv, payer.publicKey), true)
    assert.equal(verifyVoucher('terrane-other-1', sv, payer.publicKey), false)
    assert.equal(verifyVoucher(chainId, sv, signerOf(2, 9).publicKey), false)
    for (const change of [{ lane: 1 }, { nonce: 5 }, { amountMicro: 151n }, { channelId: new Uint8Array(32) }])
      assert.equal(verifyVoucher(chainId, { ...sv, voucher: { ...sv.voucher, ...change } }, payer.publicKey), false)
    assert.equal(verifyVoucher(chainId, { ...sv, voucher: { ...sv.voucher, lane: 64 } }, payer.publicKey), false)
    assert.equal(verifyVoucher(chainId, { ...sv, signature: sv.signature.subarray(1) }, payer.publicKey), false)
  })

  it('applies the same rules as the chain: accepted with the delta, else a typed reason', () => {
    const ok = checkVoucher(chainId, view, signVoucher(chainId, payer, { channelId, lane: 0, nonce: 4, amountMicro: 150n }))
    assert.deepEqual(ok, { isAccepted: true, deltaMicro: 50n, totalMicro: 150n })
    const cases: Array<[Parameters<typeof signVoucher>[2], string]> = [
      [{ channelId, lane: 0, nonce: 3, amountMicro: 150n }, 'stale-nonce'],
      [{ channelId, lane: 0, nonce: 4, amountMicro: 99n }, 'amount-decreased'],
      [{ channelId, lane: 1, nonce: 1, amountMicro: 901n }, 'over-balance'],
      [{ channelId: new Uint8Array(32), lane: 0, nonce: 9, amountMicro: 150n }, 'wrong-channel'],
    ]
    for (const [v, reason] of cases)
      assert.deepEqual(checkVoucher(chainId, view, signVoucher(chainId, payer, v)), { isAccepted: false, reason })
    const forged = signVoucher(chainId, signerOf(3, 9), { channelId, lane: 0, nonce: 4, amountMicro: 150n })
    assert.deepEqual(checkVoucher(chainId, view, forged), { isAccepted: false, reason: 'bad-signature' })
    const badLane = signVoucher(chainId, payer, { channelId, lane: 0, nonce: 4, amountMicro: 150n })
    assert.deepEqual(checkVoucher(chainId, view, { ...badLane, voucher: { ...badLane.voucher, lane: 70 } }), {
      isAccepted: false,
      reason: 'lane-out-of-range',
    })
  })
})
