// Against a real software TPM: swtpm + tpm2-tools must be installed (CI installs them). If they
// are missing, these tests FAIL: startSwtpm throws in `before`.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes, generateKeyPairSync, sign, webcrypto } from 'node:crypto'
import {
  issueTpmCredential,
  verifyTpmAttestation,
  extendPcr,
  parseEccPublic,
  type ManufacturerRegistry,
  type TpmAttestation,
  type TpmAttestationContext,
  type AttestationRejectReason,
  AttestationError,
} from '../src/index.ts'
import { TpmTools, startSwtpm, type Swtpm, type ProvisionedTpm } from '../src/tpm/index.ts'
import { x509 } from '../src/x509/peculiar.ts'
import { issue, t0, day, type Party } from './fixtures.ts'

const bootPcr = 4
const zeroPcr = new Uint8Array(32)
const bootloaderSha256 = createHash('sha256').update('bootloader v1').digest()
const firmwareSha256 = createHash('sha256').update('firmware v1.2.3').digest()
const expectedBootPcr = extendPcr(extendPcr(zeroPcr, bootloaderSha256), firmwareSha256)

let swtpm: Swtpm
let tpm: TpmTools
let provisioned: ProvisionedTpm
let vendorRoot: Party
let ekCertDer: Uint8Array
let vendors: ManufacturerRegistry[]

/** The TPM vendor CA certifies the EK public key read from the TPM (swtpm ships without one). */
async function certifyEk(ekPublicPem: string, issuer: Party, keyUsage = x509.KeyUsageFlags.keyEncipherment): Promise<Uint8Array> {
  const spki = Buffer.from(ekPublicPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
  const ekKey = await webcrypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify'])
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0e01',
    subject: 'CN=swtpm EK',
    issuer: `CN=${issuer.name}`,
    notBefore: new Date(t0 - day),
    notAfter: new Date(t0 + 3650 * day),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: ekKey,
    signingKey: issuer.keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(keyUsage, true)],
  })
  return new Uint8Array(cert.rawData)
}

function assertRejected(verdict: { ok: boolean; reason?: AttestationRejectReason }, reason: AttestationRejectReason) {
  assert.equal(verdict.ok, false, `expected ${reason}, got ok`)
  assert.equal(verdict.reason, reason)
}

/** One full round: credential issued by the verifier, activated and quoted by the TPM. */
async function round(init: { akPublic?: Uint8Array } = {}) {
  const secret = randomBytes(32)
  const nonce = randomBytes(32)
  const akPublic = init.akPublic ?? provisioned.akPublic
  const issued = issueTpmCredential(
    { ekCertificateChainDer: [ekCertDer], akPublic },
    { manufacturers: vendors, nowMs: t0, secret, seed: randomBytes(32) },
  )
  assert.equal(issued.ok, true, JSON.stringify(issued))
  if (!issued.ok) throw new Error('unreachable')
  const activatedSecret = await tpm.activateCredential(issued.credentialBlob, issued.encryptedSecret)
  const { quote, quoteSignature } = await tpm.quote(nonce, [bootPcr])
  const attestation: TpmAttestation = { ekCertificateChainDer: [ekCertDer], akPublic, activatedSecret, quote, quoteSignature }
  const context: TpmAttestationContext = {
    manufacturers: vendors,
    nowMs: t0,
    expectedSecret: secret,
    nonce,
    expectedPcrs: new Map([[bootPcr, expectedBootPcr]]),
    usedNonces: new Set(),
  }
  return { attestation, context, issued }
}

before(async () => {
  swtpm = await startSwtpm()
  tpm = new TpmTools({ tcti: swtpm.tcti })
  provisioned = await tpm.provision()
  await tpm.extendPcr(bootPcr, bootloaderSha256)
  await tpm.extendPcr(bootPcr, firmwareSha256)
  vendorRoot = await issue({ name: 'TPM Vendor Root', isCa: true })
  ekCertDer = await certifyEk(provisioned.ekPublicPem, vendorRoot)
  vendors = [{ manufacturerId: 'tpm-vendor', rootCertificatesDer: [vendorRoot.der], revokedFingerprintsSha256: [], revokedSerials: [] }]
})

after(async () => {
  await swtpm?.stop()
})

describe('TPM 2.0 attestation against swtpm', () => {
  it('verifies EK chain, credential activation, the quote signature, nonce and boot PCRs', async () => {
    const { attestation, context } = await round()
    const verdict = verifyTpmAttestation(attestation, context)
    assert.equal(verdict.ok, true, JSON.stringify(verdict))
    if (!verdict.ok) return
    assert.deepEqual(verdict.akName, provisioned.akName)
    assert.equal(verdict.manufacturerId, 'tpm-vendor')
    assert.equal(context.usedNonces.has(Buffer.from(context.nonce).toString('hex')), true)
  })

  it('rejects a replayed quote (same nonce twice) and an old quote over another nonce', async () => {
    const { attestation, context } = await round()
    assert.equal(verifyTpmAttestation(attestation, context).ok, true)
    assertRejected(verifyTpmAttestation(attestation, context), 'replayed_challenge')
    assertRejected(verifyTpmAttestation(attestation, { ...context, nonce: randomBytes(32) }), 'nonce_mismatch')
  })

  it('rejects PCRs that do not match the firmware claimed, and another PCR selection', async () => {
    const { attestation, context } = await round()
    const otherFirmware = extendPcr(extendPcr(zeroPcr, bootloaderSha256), createHash('sha256').update('firmware v6.6.6').digest())
    assertRejected(verifyTpmAttestation(attestation, { ...context, expectedPcrs: new Map([[bootPcr, otherFirmware]]) }), 'pcr_mismatch')
    assertRejected(
      verifyTpmAttestation(attestation, {
        ...context,
        expectedPcrs: new Map([
          [bootPcr, expectedBootPcr],
          [7, zeroPcr],
        ]),
      }),
      'pcr_mismatch',
    )
  })

  it('rejects a tampered quote and a quote forged with a software key', async () => {
    const { attestation, context } = await round()
    const tampered = Uint8Array.from(attestation.quote)
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1 // last byte of pcrDigest
    assertRejected(verifyTpmAttestation({ ...attestation, quote: tampered }, context), 'bad_quote_signature')
    // A forger builds a TPMS_ATTEST with the expected PCRs and signs it with a key of its own.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const p1363 = sign('sha256', attestation.quote, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    const forgedSig = Buffer.concat([
      Buffer.from([0x00, 0x18, 0x00, 0x0b, 0x00, 0x20]),
      p1363.subarray(0, 32),
      Buffer.from([0x00, 0x20]),
      p1363.subarray(32),
    ])
    assertRejected(verifyTpmAttestation({ ...attestation, quoteSignature: forgedSig }, context), 'bad_quote_signature')
  })

  it('rejects a wrong activated secret (AK not proven to live beside the EK)', async () => {
    const { attestation, context } = await round()
    assertRejected(verifyTpmAttestation({ ...attestation, activatedSecret: randomBytes(32) }, context), 'credential_mismatch')
  })

  it('an AK from another TPM cannot activate the credential: the TPM refuses', async () => {
    const other = await startSwtpm()
    try {
      const otherProvisioned = await new TpmTools({ tcti: other.tcti }).provision()
      // the verifier makes a credential for our EK but the foreign AK's Name: our TPM does not hold that AK
      const issued = issueTpmCredential(
        { ekCertificateChainDer: [ekCertDer], akPublic: otherProvisioned.akPublic },
        { manufacturers: vendors, nowMs: t0, secret: randomBytes(32), seed: randomBytes(32) },
      )
      assert.equal(issued.ok, true)
      if (!issued.ok) return
      await assert.rejects(
        () => tpm.activateCredential(issued.credentialBlob, issued.encryptedSecret),
        (err: unknown) => err instanceof AttestationError && err.code === 'ATTESTATION_TPM_COMMAND',
      )
      // and the other TPM, which holds the AK, lacks our EK's private key
      await assert.rejects(
        () => new TpmTools({ tcti: other.tcti }).activateCredential(issued.credentialBlob, issued.encryptedSecret),
        (err: unknown) => err instanceof AttestationError && err.code === 'ATTESTATION_TPM_COMMAND',
      )
    } finally {
      await other.stop()
    }
  })

  it('rejects an EK chain to an unknown vendor, a revoked EK, and an EK cert without keyEncipherment', async () => {
    const { attestation, context } = await round()
    const strangerRoot = await issue({ name: 'Stranger Root', isCa: true })
    const strangerEk = await certifyEk(provisioned.ekPublicPem, strangerRoot)
    assertRejected(verifyTpmAttestation({ ...attestation, ekCertificateChainDer: [strangerEk] }, context), 'unknown_root')
    const revoked = [{ ...vendors[0]!, revokedSerials: ['0e01'] }]
    assertRejected(verifyTpmAttestation(attestation, { ...context, manufacturers: revoked }), 'revoked')
    const signingEk = await certifyEk(provisioned.ekPublicPem, vendorRoot, x509.KeyUsageFlags.digitalSignature)
    assertRejected(verifyTpmAttestation({ ...attestation, ekCertificateChainDer: [signingEk] }, context), 'wrong_key_usage')
  })

  it('rejects an AK that is not a restricted signing key, and garbage everywhere', async () => {
    const { attestation, context } = await round()
    const ak = parseEccPublic(provisioned.akPublic)
    const unrestricted = Uint8Array.from(provisioned.akPublic)
    // objectAttributes sit after size (2), type (2) and nameAlg (2): clear `restricted` (bit 16)
    const view = new DataView(unrestricted.buffer)
    view.setUint32(6, ak.objectAttributes & ~(1 << 16))
    assertRejected(verifyTpmAttestation({ ...attestation, akPublic: unrestricted }, context), 'bad_attestation_key')
    for (const bad of [
      { ...attestation, akPublic: randomBytes(90) },
      { ...attestation, quote: randomBytes(120) },
      { ...attestation, quote: attestation.quote.subarray(0, 50) },
      { ...attestation, quoteSignature: randomBytes(70) },
      { ...attestation, ekCertificateChainDer: [randomBytes(500)] },
    ])
      assertRejected(verifyTpmAttestation(bad, context), 'malformed')
  })
})
