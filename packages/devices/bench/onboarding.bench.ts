// Onboarding transactions executed per second by a real chain app (one core): each one checks
// the tx signature (Ed25519), the owner signature (Ed25519), the device certificate chain
// (P-256; the intermediate->root link is cached after the first) and the challenge signature (P-256).
import { performance } from 'node:perf_hooks'
import { p256VerifyLimitPerSecond, report } from '@terrane/bench'
import { devicesModule } from '../src/index.ts'
import { Harness, makeDevice, makePki, onboardingRequest, TRN } from '../test/fixtures.ts'

const perBlock = 200
const blocks = 3
const pki = await makePki()
const h = new Harness(devicesModule(), (admin) => ({
  admin,
  params: { onboardingFeeMicro: String(TRN) },
  manufacturers: [{ manufacturerId: 'acme', rootCertificates: [Buffer.from(pki.root.der).toString('hex')] }],
}))
const owner = h.users[0]!
let onboarded = 0
let elapsedMs = 0
for (let b = 0; b < blocks; b++) {
  const txs: Uint8Array[] = []
  for (let i = 0; i < perBlock; i++) {
    const device = await makeDevice(pki)
    txs.push(h.tx(owner, [{ type: 'devices/onboard', ...(await onboardingRequest(device, owner, { anchorTimeMs: h.nextTimeMs - 1000 })) }]))
  }
  const start = performance.now()
  const res = await h.block(txs)
  elapsedMs += performance.now() - start
  const failed = res.txResults.find((r) => r.code !== 0)
  if (failed !== undefined) throw new Error(failed.log)
  onboarded += txs.length
}
const perSecond = (onboarded * 1000) / elapsedMs
const p256 = p256VerifyLimitPerSecond()
report('devices-onboarding', [
  {
    name: `onboarding txs per second (${perBlock}-tx blocks, finalize + commit, 1 core)`,
    value: Math.round(perSecond),
    unit: 'tx/s',
    ratio: perSecond / p256,
    ratioTo: 'P-256 verify/s, 1 core (each onboarding verifies 2 P-256 + 2 Ed25519 signatures)',
  },
  { name: 'P-256 verify limit, node:crypto, 1 core', value: Math.round(p256), unit: 'verify/s' },
])
