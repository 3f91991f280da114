// Vouchers verified per second on one core (the payee's offline check), against the signature
// verification limit measured in the same run: @terrane/bench's ed25519 limit (node:crypto with a
// cached KeyObject) and raw libsodium verification (what verifyVoucher uses) on the same message size.
import { ed25519VerifyLimitPerSecond, measure, report } from '@terrane/bench'
import { seedSigner, verifySignature, type Signer } from '@terrane/crypto'
import { checkVoucher, signVoucher, verifyVoucher, voucherSigningBytes, type ChannelView, type SignedVoucher } from '../src/index.ts'

const chainId = 'terrane-bench-1'
const payerCount = 64

const payers: Signer[] = Array.from({ length: payerCount }, (_, i) => {
  const seed = new Uint8Array(32)
  seed[0] = 9
  seed[1] = i
  return seedSigner(seed)
})
const channelId = (i: number) => new Uint8Array(32).fill(i + 1)
const vouchers: SignedVoucher[] = payers.map((p, i) =>
  signVoucher(chainId, p, { channelId: channelId(i), lane: i % 4, nonce: 1_000 + i, amountMicro: 123_456_789n + BigInt(i) }),
)
const views: ChannelView[] = payers.map((p, i) => ({
  channelId: channelId(i),
  payerKey: p.publicKey,
  depositMicro: 1_000_000_000n,
  lanes: [{ lane: i % 4, nonce: 999, amountMicro: 100n }],
}))
const rawMessages = vouchers.map((v) => voucherSigningBytes(chainId, v.voucher))

const limit = ed25519VerifyLimitPerSecond({ durationMsMin: 2000 })
const sodiumRaw = measure(
  () => {
    for (let i = 0; i < payerCount; i++) {
      const v = vouchers[i] as SignedVoucher
      if (!verifySignature((payers[i] as Signer).publicKey, rawMessages[i] as Uint8Array, v.signature)) throw new Error('raw verify failed')
    }
    return payerCount
  },
  { durationMsMin: 2000 },
).opsPerSecond
const verified = measure(
  () => {
    for (let i = 0; i < payerCount; i++)
      if (!verifyVoucher(chainId, vouchers[i] as SignedVoucher, (payers[i] as Signer).publicKey)) throw new Error('verify failed')
    return payerCount
  },
  { durationMsMin: 2000 },
).opsPerSecond
const checked = measure(
  () => {
    for (let i = 0; i < payerCount; i++)
      if (!checkVoucher(chainId, views[i] as ChannelView, vouchers[i] as SignedVoucher).isAccepted) throw new Error('check failed')
    return payerCount
  },
  { durationMsMin: 2000 },
).opsPerSecond

report('channels-vouchers', [
  { name: 'ed25519 verify limit (node:crypto, cached key, 1 core)', value: limit, unit: 'verify/s' },
  {
    name: 'ed25519 verify, libsodium, voucher-sized message (1 core)',
    value: sodiumRaw,
    unit: 'verify/s',
    ratio: sodiumRaw / limit,
    ratioTo: 'ed25519 limit',
  },
  {
    name: 'verifyVoucher (bytes + signature, 1 core)',
    value: verified,
    unit: 'vouchers/s',
    ratio: verified / limit,
    ratioTo: 'ed25519 limit',
    target: '>= 0.80 x limit',
    note: `${(1e6 / verified).toFixed(1)} us each; ${(verified / sodiumRaw).toFixed(2)} x raw libsodium`,
  },
  {
    name: 'checkVoucher (all channel rules + signature, 1 core)',
    value: checked,
    unit: 'vouchers/s',
    ratio: checked / limit,
    ratioTo: 'ed25519 limit',
    target: '>= 0.80 x limit',
  },
])
