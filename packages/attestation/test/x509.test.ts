import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import {
  verifyX509Attestation,
  verifyCertificateChain,
  encodeChallenge,
  decodeChallenge,
  deviceIdFromPublicKey,
  certificateFingerprint,
  challengeBytes,
  type ManufacturerRegistry,
  type X509Attestation,
  type AttestationRejectReason,
} from '../src/index.ts'
import { x509 } from '../src/x509/peculiar.ts'
import { issue, makePki, newKeys, rawPublicKey, signP1363, t0, day, type Party, type CryptoKey } from './fixtures.ts'

let pki: Awaited<ReturnType<typeof makePki>>
let registry: ManufacturerRegistry

function registryWith(extra: Partial<ManufacturerRegistry> = {}): ManufacturerRegistry {
  return { ...registry, ...extra }
}

async function attest(device: Party, chain: Uint8Array[], init: { issuedAtMs?: number; signer?: CryptoKey } = {}) {
  const challenge = encodeChallenge({ nonce: randomBytes(32), issuedAtMs: init.issuedAtMs ?? t0 - 1000 })
  const attestation: X509Attestation = {
    certificateChainDer: chain,
    publicKey: await rawPublicKey(device.keys.publicKey),
    challenge,
    challengeSignature: await signP1363(init.signer ?? device.keys.privateKey, challenge),
  }
  return attestation
}

function check(attestation: X509Attestation, manufacturers: ManufacturerRegistry[] = [registry], used = new Set<string>()) {
  return verifyX509Attestation(attestation, { manufacturers, nowMs: t0, usedNonces: used })
}

function assertRejected(verdict: { ok: boolean; reason?: AttestationRejectReason }, reason: AttestationRejectReason) {
  assert.equal(verdict.ok, false, `expected ${reason}, got ok`)
  assert.equal(verdict.reason, reason)
}

before(async () => {
  pki = await makePki()
  registry = { manufacturerId: 'acme', rootCertificatesDer: [pki.root.der], revokedFingerprintsSha256: [], revokedSerials: [] }
})

describe('verifyX509Attestation: accepted', () => {
  it('accepts device -> intermediate -> root, with or without the root in the chain', async () => {
    for (const chain of [
      [pki.device.der, pki.intermediate.der],
      [pki.device.der, pki.intermediate.der, pki.root.der],
    ]) {
      const a = await attest(pki.device, chain)
      const verdict = check(a)
      assert.equal(verdict.ok, true, JSON.stringify(verdict))
      if (!verdict.ok) continue
      assert.equal(verdict.manufacturerId, 'acme')
      assert.equal(verdict.deviceId, deviceIdFromPublicKey(a.publicKey))
      assert.equal(verdict.publicKey.length, 33)
    }
  })

  it('finds the right manufacturer among several', async () => {
    const other = await makePki('Other')
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    const otherRegistry = { ...registry, manufacturerId: 'other', rootCertificatesDer: [other.root.der] }
    const verdict = check(a, [otherRegistry, registry])
    assert.equal(verdict.ok && verdict.manufacturerId, 'acme')
  })
})

describe('verifyX509Attestation: challenges', () => {
  it('rejects a replayed challenge, and only records successful ones', async () => {
    const used = new Set<string>()
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    const forged = { ...a, challengeSignature: new Uint8Array(64) }
    assertRejected(check(forged, [registry], used), 'bad_challenge_signature')
    assert.equal(used.size, 0)
    assert.equal(check(a, [registry], used).ok, true)
    assert.equal(used.size, 1)
    assertRejected(check(a, [registry], used), 'replayed_challenge')
  })

  it('rejects stale and future challenges', async () => {
    assertRejected(check(await attest(pki.device, [pki.device.der, pki.intermediate.der], { issuedAtMs: t0 - 301_000 })), 'stale_challenge')
    assertRejected(check(await attest(pki.device, [pki.device.der, pki.intermediate.der], { issuedAtMs: t0 + 1 })), 'stale_challenge')
  })

  it('rejects a challenge signed by another key (a copied certificate without its key)', async () => {
    const thief = await newKeys()
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der], { signer: thief.privateKey })
    assertRejected(check(a), 'bad_challenge_signature')
  })

  it('rejects a challenge without the domain tag, and round-trips a good one', () => {
    const nonce = randomBytes(32)
    const encoded = encodeChallenge({ nonce, issuedAtMs: 123 })
    assert.equal(encoded.length, challengeBytes)
    assert.deepEqual(decodeChallenge(encoded), { nonce: new Uint8Array(nonce), issuedAtMs: 123 })
    const wrongTag = Uint8Array.from(encoded)
    wrongTag[0] = (wrongTag[0] ?? 0) ^ 1
    assert.equal(decodeChallenge(wrongTag), undefined)
    assert.equal(decodeChallenge(encoded.subarray(1)), undefined)
  })
})

describe('verifyX509Attestation: bad chains', () => {
  it('rejects a self-signed device certificate and a self-made chain as unknown_root', async () => {
    const self = await issue({ name: 'Self Device' })
    assertRejected(check(await attest(self, [self.der])), 'unknown_root')
    const fakeRoot = await issue({ name: 'Fake Root', isCa: true })
    const fakeDevice = await issue({ name: 'Fake Device', issuer: fakeRoot })
    assertRejected(check(await attest(fakeDevice, [fakeDevice.der, fakeRoot.der])), 'unknown_root')
  })

  it('rejects a forged chain that copies the root name but not its key', async () => {
    const forgedRoot = await issue({ name: pki.root.name, isCa: true, pathLength: 1 })
    const forgedIntermediate = await issue({ name: pki.intermediate.name, issuer: forgedRoot, isCa: true, pathLength: 0 })
    const device = await issue({ name: 'Forged Device', issuer: forgedIntermediate })
    assertRejected(check(await attest(device, [device.der, forgedIntermediate.der])), 'bad_signature')
  })

  it('rejects a device certificate whose intermediate was re-signed by another key', async () => {
    const imposter = await issue({ name: pki.intermediate.name, issuer: pki.intermediate, keys: await newKeys(), isCa: true })
    // device says its issuer is "Acme Intermediate" but the chain gives a different key with that name
    const device = await issue({ name: 'Device X', issuer: { ...pki.intermediate, keys: imposter.keys } })
    assertRejected(check(await attest(device, [device.der, pki.intermediate.der])), 'bad_signature')
  })

  it('rejects chains with a missing link as bad_chain or unknown_root', async () => {
    const other = await makePki('Other')
    // device of Other + intermediate of Acme: names do not link
    assertRejected(check(await attest(other.device, [other.device.der, pki.intermediate.der])), 'bad_chain')
    // device alone, without its intermediate
    assertRejected(check(await attest(pki.device, [pki.device.der])), 'unknown_root')
  })

  it('rejects an expired and a not-yet-valid device certificate, and an expired intermediate', async () => {
    const expired = await issue({ name: 'Old', issuer: pki.intermediate, notAfterMs: t0 - day })
    assertRejected(check(await attest(expired, [expired.der, pki.intermediate.der])), 'expired')
    const future = await issue({ name: 'New', issuer: pki.intermediate, notBeforeMs: t0 + day })
    assertRejected(check(await attest(future, [future.der, pki.intermediate.der])), 'not_yet_valid')
    const oldIntermediate = await issue({ name: 'Old Int', issuer: pki.root, isCa: true, notAfterMs: t0 - 1 })
    const device = await issue({ name: 'D', issuer: oldIntermediate })
    assertRejected(check(await attest(device, [device.der, oldIntermediate.der])), 'expired')
  })

  it('rejects a certificate for a different key (key_mismatch)', async () => {
    const otherKeys = await newKeys()
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der], { signer: otherKeys.privateKey })
    const verdict = check({ ...a, publicKey: await rawPublicKey(otherKeys.publicKey) })
    assertRejected(verdict, 'key_mismatch')
  })

  it('rejects a CA certificate used as a device certificate', async () => {
    const a = await attest(pki.intermediate, [pki.intermediate.der])
    assertRejected(check(a), 'ca_as_device')
    const caLeaf = await issue({ name: 'CA Leaf', issuer: pki.intermediate, isCa: true, keyUsage: x509.KeyUsageFlags.digitalSignature })
    assertRejected(check(await attest(caLeaf, [caLeaf.der, pki.intermediate.der])), 'ca_as_device')
  })

  it('rejects wrong or missing key usage', async () => {
    const noUsage = await issue({ name: 'No KU', issuer: pki.intermediate, keyUsage: 0 })
    assertRejected(check(await attest(noUsage, [noUsage.der, pki.intermediate.der])), 'wrong_key_usage')
    const encipherOnly = await issue({ name: 'KE', issuer: pki.intermediate, keyUsage: x509.KeyUsageFlags.keyEncipherment })
    assertRejected(check(await attest(encipherOnly, [encipherOnly.der, pki.intermediate.der])), 'wrong_key_usage')
    const signOnlyIntermediate = await issue({
      name: 'Int No CertSign',
      issuer: pki.root,
      isCa: true,
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    })
    const device = await issue({ name: 'D2', issuer: signOnlyIntermediate })
    const verdict = check(await attest(device, [device.der, signOnlyIntermediate.der]))
    assert.equal(verdict.ok, false)
    // OpenSSL's issuer check already refuses an issuer without keyCertSign
    assert.ok(!verdict.ok && ['wrong_key_usage', 'bad_chain'].includes(verdict.reason), JSON.stringify(verdict))
  })

  it('rejects an issuer that is not a CA (no basicConstraints, or CA=false)', async () => {
    const notCa = await issue({ name: 'Not CA', issuer: pki.root, hasBasicConstraints: false, keyUsage: x509.KeyUsageFlags.keyCertSign })
    const device = await issue({ name: 'D3', issuer: notCa })
    const verdict = check(await attest(device, [device.der, notCa.der]))
    assertRejected(verdict, 'bad_chain')
  })

  it('enforces pathLength', async () => {
    // root pathLength 1 allows one intermediate; a second one exceeds it
    const sub = await issue({ name: 'Sub Int', issuer: pki.intermediate, isCa: true })
    const device = await issue({ name: 'D4', issuer: sub })
    const verdict = check(await attest(device, [device.der, sub.der, pki.intermediate.der]))
    assertRejected(verdict, 'path_length_exceeded')
    // pathLength 0 on a root forbids any intermediate
    const strictRoot = await issue({ name: 'Strict Root', isCa: true, pathLength: 0 })
    const int = await issue({ name: 'Strict Int', issuer: strictRoot, isCa: true })
    const dev = await issue({ name: 'D5', issuer: int })
    const strict = { ...registry, rootCertificatesDer: [strictRoot.der] }
    assertRejected(check(await attest(dev, [dev.der, int.der]), [strict]), 'path_length_exceeded')
  })
})

describe('verifyX509Attestation: revocation', () => {
  it('rejects devices under a revoked intermediate, a revoked root, or a revoked serial', async () => {
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    assertRejected(check(a, [registryWith({ revokedFingerprintsSha256: [certificateFingerprint(pki.intermediate.der)] })]), 'revoked')
    const b = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    assertRejected(check(b, [registryWith({ revokedFingerprintsSha256: [certificateFingerprint(pki.root.der).toUpperCase()] })]), 'revoked')
    const serial = new x509.X509Certificate(pki.device.der).serialNumber
    const c = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    assertRejected(check(c, [registryWith({ revokedSerials: ['00' + serial] })]), 'revoked')
    // an unrelated revocation does not affect the device
    const d = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    assert.equal(check(d, [registryWith({ revokedFingerprintsSha256: ['00'.repeat(32)], revokedSerials: ['ffff'] })]).ok, true)
  })

  it('rejects a registered root removed from the registry as unknown_root', async () => {
    const a = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    assertRejected(check(a, [registryWith({ rootCertificatesDer: [] })]), 'unknown_root')
  })
})

describe('verifyX509Attestation: garbage never crashes', () => {
  it('returns malformed for garbage bytes, empty or oversized chains and bad keys', async () => {
    const good = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    const cases: X509Attestation[] = [
      { ...good, certificateChainDer: [] },
      { ...good, certificateChainDer: [randomBytes(300)] },
      { ...good, certificateChainDer: [pki.device.der.subarray(0, 100), pki.intermediate.der] },
      { ...good, certificateChainDer: Array.from({ length: 6 }, () => pki.device.der) },
      { ...good, certificateChainDer: [new Uint8Array(100_000)] },
      { ...good, publicKey: randomBytes(65) },
      { ...good, challenge: randomBytes(10) },
      { ...good, certificateChainDer: ['not bytes' as unknown as Uint8Array] },
      { ...good, challengeSignature: 'x' as unknown as Uint8Array },
    ]
    for (const c of cases) assertRejected(check(c), 'malformed')
  })

  it('survives 300 random mutations of a valid chain without throwing', async () => {
    const good = await attest(pki.device, [pki.device.der, pki.intermediate.der])
    let seed = 42
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) // seeded LCG
    for (let i = 0; i < 300; i++) {
      const der = Uint8Array.from(pki.device.der)
      der[next() % der.length] = next() % 256
      const verdict = check({ ...good, certificateChainDer: [der, pki.intermediate.der] }, [registry], new Set())
      if (verdict.ok) continue // a mutation in an unsigned-over byte cannot exist in DER, but stay honest
      assert.equal(typeof verdict.reason, 'string')
    }
  })

  it('verifyCertificateChain checks the TPM EK profile (keyEncipherment, RSA)', async () => {
    const verdict = verifyCertificateChain({
      certificateChainDer: [pki.device.der, pki.intermediate.der],
      manufacturers: [registry],
      nowMs: t0,
      profile: 'tpm_ek',
    })
    assertRejected(verdict, 'wrong_key_usage')
  })
})
