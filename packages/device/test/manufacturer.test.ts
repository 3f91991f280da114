import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { verifyX509Attestation } from '@terrane/attestation'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { SoftwareSecureElement, createSimulatedManufacturer, createSimulatedRootCertificate } from '../src/index.ts'

const nowMs = Date.UTC(2026, 10, 1)
const rootKeySeed = new Uint8Array(32).fill(5)

test('a seeded root: the same key from the seed, the kept certificate reused, devices that verify against it', async () => {
  const rootDer = await createSimulatedRootCertificate({ manufacturerId: 'devnet', nowMs, rootKeySeed })
  const root = new X509Certificate(rootDer)
  assert.equal(root.subject, 'CN=devnet Root')
  assert.equal(root.ca, true)
  assert.equal(Date.parse(root.validFrom), nowMs - 30 * 86_400_000)
  // Made again from the same seed: the same key (the signature differs: ECDSA is randomised).
  const again = new X509Certificate(await createSimulatedRootCertificate({ manufacturerId: 'devnet', nowMs, rootKeySeed }))
  assert.ok(root.publicKey.equals(again.publicKey))
  const other = new X509Certificate(
    await createSimulatedRootCertificate({ manufacturerId: 'devnet', nowMs, rootKeySeed: new Uint8Array(32).fill(6) }),
  )
  assert.ok(!root.publicKey.equals(other.publicKey))

  // An issuer built on the kept root: its intermediate is signed by the seeded key, its devices attest.
  const maker = await createSimulatedManufacturer({ manufacturerId: 'devnet', nowMs, rootKeySeed, rootDer })
  assert.deepEqual(maker.rootDer, rootDer)
  assert.ok(new X509Certificate(maker.intermediateDer).verify(root.publicKey))
  const key = deviceKeyFromSeed('seeded-root-device')
  const se = new SoftwareSecureElement(key.privateKey, { certificateChainDer: await maker.issueDeviceCertificate(key.publicKey, 3) })
  const challenge = { issuedAtMs: nowMs, nonce: new Uint8Array(32).fill(1) }
  const evidence = await se.attest(challenge)
  assert.equal(evidence.kind, 'x509')
  const verdict = verifyX509Attestation(evidence, {
    manufacturers: [{ manufacturerId: 'devnet', rootCertificatesDer: [rootDer], revokedFingerprintsSha256: [], revokedSerials: [] }],
    nowMs: nowMs + 1000,
    usedNonces: new Set(),
  })
  assert.equal(verdict.ok, true, JSON.stringify(verdict))
})

test('a root certificate without the seed of its key is refused', async () => {
  const rootDer = await createSimulatedRootCertificate({ manufacturerId: 'devnet', nowMs, rootKeySeed })
  await assert.rejects(createSimulatedManufacturer({ manufacturerId: 'devnet', nowMs, rootDer }), { code: 'DEVICE_CONFIG' })
})
