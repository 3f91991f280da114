// Attestation chains verified per second on one core, with the machine's P-256 verification
// limit measured in the same run as the ratio. Each X.509 attestation costs at least two P-256
// verifications (device certificate + challenge) once intermediates are cached, so 0.5 is the
// ceiling of the ratio.
import { randomBytes, generateKeyPairSync, sign } from 'node:crypto'
import { measure, p256VerifyLimitPerSecond, report, type BenchRow } from '@terrane/bench'
import {
  verifyX509Attestation,
  verifyDeviceSignature,
  encodeChallenge,
  type X509Attestation,
  type ManufacturerRegistry,
} from '../src/index.ts'
import { makePki, issue, rawPublicKey, signP1363, t0 } from '../test/fixtures.ts'

const devicesCount = 1500 // more than parsedCertificateCacheEntriesMax: device certificates are parsed cold
const { root, intermediate } = await makePki('Bench')
const registry: ManufacturerRegistry = {
  manufacturerId: 'bench',
  rootCertificatesDer: [root.der],
  revokedFingerprintsSha256: [],
  revokedSerials: [],
}
const attestations: X509Attestation[] = []
for (let i = 0; i < devicesCount; i++) {
  const device = await issue({ name: `Bench Device ${i}`, issuer: intermediate })
  const challenge = encodeChallenge({ nonce: randomBytes(32), issuedAtMs: t0 - 1000 })
  attestations.push({
    certificateChainDer: [device.der, intermediate.der],
    publicKey: await rawPublicKey(device.keys.publicKey),
    challenge,
    challengeSignature: await signP1363(device.keys.privateKey, challenge),
  })
}

let next = 0
const chain = measure(
  () => {
    for (let i = 0; i < 32; i++) {
      const verdict = verifyX509Attestation(attestations[next++ % devicesCount]!, {
        manufacturers: [registry],
        nowMs: t0,
        usedNonces: new Set(),
      })
      if (!verdict.ok) throw new Error(`bench attestation refused: ${verdict.reason}`)
    }
    return 32
  },
  { durationMsMin: 3000 },
)

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const der = publicKey.export({ format: 'der', type: 'spki' })
const raw = new Uint8Array(der.subarray(der.length - 65))
const message = randomBytes(128)
const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
const deviceSig = measure(
  () => {
    for (let i = 0; i < 64; i++) if (!verifyDeviceSignature(raw, message, signature)) throw new Error('verify failed')
    return 64
  },
  { durationMsMin: 2000 },
)
const limit = p256VerifyLimitPerSecond({ durationMsMin: 2000 })

const rows: BenchRow[] = [
  { name: 'P-256 verify limit (node:crypto, cached KeyObject)', value: limit, unit: 'ops/s' },
  {
    name: 'verifyDeviceSignature',
    value: deviceSig.opsPerSecond,
    unit: 'ops/s',
    ratio: deviceSig.opsPerSecond / limit,
    ratioTo: 'P-256 limit',
  },
  {
    name: 'X.509 attestation (2-cert chain + challenge)',
    value: chain.opsPerSecond,
    unit: 'chains/s',
    ratio: chain.opsPerSecond / limit,
    ratioTo: 'P-256 limit',
    note: `${devicesCount} distinct devices; ceiling ratio 0.5`,
  },
]
report('attestation', rows)
