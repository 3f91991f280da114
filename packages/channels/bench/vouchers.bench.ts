// Vouchers verified per second on one core (the payee's offline check), against the signature
// verification limit measured in the same run: @terrane/bench's ed25519 limit (libsodium, 128-byte
// message) and raw libsodium verification (what verifyVoucher uses) of the same voucher messages.
// The machine is shared, so throughput is counted per second of this process's CPU time (time the
// scheduler gave us, not wall time), the four measurements are interleaved in short rounds, and each
// ratio is the median of its per-round ratios.
import { cpus, loadavg } from 'node:os'
import { createRequire } from 'node:module'
import { percentile, report } from '@terrane/bench'
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

const rounds = Number(process.env.ROUNDS ?? 10)
const roundCpuMs = 300

/** Operations per second of process CPU time: calls `fn` (a batch) until `roundCpuMs` of CPU were used. */
function perCpuSecond(fn: () => number): number {
  fn() // warm
  const start = process.cpuUsage()
  let operations = 0
  let usedMs = 0
  while (usedMs < roundCpuMs) {
    operations += fn()
    const used = process.cpuUsage(start)
    usedMs = (used.user + used.system) / 1000
  }
  return (operations * 1000) / usedMs
}

// @terrane/bench's ed25519 limit (libsodium verify of a 128-byte message), counted per CPU second;
// sodium-native is resolved from @terrane/bench, which depends on it.
const sodium = createRequire(import.meta.resolve('@terrane/bench'))('sodium-native') as {
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void
  crypto_sign_detached(sig: Buffer, message: Buffer, sk: Buffer): void
  crypto_sign_verify_detached(sig: Buffer, message: Buffer, pk: Buffer): boolean
}
const limitKey = Buffer.alloc(32)
const limitSecret = Buffer.alloc(64)
sodium.crypto_sign_seed_keypair(limitKey, limitSecret, Buffer.alloc(32, 7))
const limitMessage = Buffer.alloc(128, 1)
const limitSignature = Buffer.alloc(64)
sodium.crypto_sign_detached(limitSignature, limitMessage, limitSecret)
const limitOnce = () => {
  for (let i = 0; i < payerCount; i++)
    if (!sodium.crypto_sign_verify_detached(limitSignature, limitMessage, limitKey)) throw new Error('limit verify failed')
  return payerCount
}
const rawOnce = () => {
  for (let i = 0; i < payerCount; i++) {
    const v = vouchers[i] as SignedVoucher
    if (!verifySignature((payers[i] as Signer).publicKey, rawMessages[i] as Uint8Array, v.signature)) throw new Error('raw verify failed')
  }
  return payerCount
}
const verifyOnce = () => {
  for (let i = 0; i < payerCount; i++)
    if (!verifyVoucher(chainId, vouchers[i] as SignedVoucher, (payers[i] as Signer).publicKey)) throw new Error('verify failed')
  return payerCount
}
const checkOnce = () => {
  for (let i = 0; i < payerCount; i++)
    if (!checkVoucher(chainId, views[i] as ChannelView, vouchers[i] as SignedVoucher).isAccepted) throw new Error('check failed')
  return payerCount
}
const samples = { limit: [] as number[], raw: [] as number[], verified: [] as number[], checked: [] as number[] }
const ratios = { raw: [] as number[], verified: [] as number[], checked: [] as number[], verifiedToRaw: [] as number[] }
for (let r = 0; r < rounds; r++) {
  const limitNow = perCpuSecond(limitOnce)
  const rawNow = perCpuSecond(rawOnce)
  const verifiedNow = perCpuSecond(verifyOnce)
  const checkedNow = perCpuSecond(checkOnce)
  samples.limit.push(limitNow)
  samples.raw.push(rawNow)
  samples.verified.push(verifiedNow)
  samples.checked.push(checkedNow)
  ratios.raw.push(rawNow / limitNow)
  ratios.verified.push(verifiedNow / limitNow)
  ratios.checked.push(checkedNow / limitNow)
  ratios.verifiedToRaw.push(verifiedNow / rawNow)
}
const median = (xs: number[]) => percentile(xs, 50)
const limit = median(samples.limit)
const sodiumRaw = median(samples.raw)
const verified = median(samples.verified)
const checked = median(samples.checked)
const load = `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores; per CPU second; medians of ${rounds} interleaved rounds`

report('channels-vouchers', [
  { name: 'ed25519 verify limit (@terrane/bench: libsodium, 128-byte message, 1 core)', value: limit, unit: 'verify/s', note: load },
  {
    name: 'ed25519 verify, libsodium, voucher-sized message (1 core)',
    value: sodiumRaw,
    unit: 'verify/s',
    ratio: median(ratios.raw),
    ratioTo: 'ed25519 limit',
  },
  {
    name: 'verifyVoucher (bytes + signature, 1 core)',
    value: verified,
    unit: 'vouchers/s',
    ratio: median(ratios.verified),
    ratioTo: 'ed25519 limit',
    target: '>= 0.80 x limit',
    note: `${(1e6 / verified).toFixed(1)} us each; ${median(ratios.verifiedToRaw).toFixed(2)} x raw libsodium; per-round ratios ${Math.min(...ratios.verified).toFixed(2)}-${Math.max(...ratios.verified).toFixed(2)}`,
  },
  {
    name: 'checkVoucher (all channel rules + signature, 1 core)',
    value: checked,
    unit: 'vouchers/s',
    ratio: median(ratios.checked),
    ratioTo: 'ed25519 limit',
    target: '>= 0.80 x limit',
    note: `per-round ratios ${Math.min(...ratios.checked).toFixed(2)}-${Math.max(...ratios.checked).toFixed(2)}`,
  },
])
