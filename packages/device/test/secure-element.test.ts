import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { deviceIdFromPublicKey, encodeChallenge, verifyDeviceSignature, verifyX509Attestation } from '@terrane/attestation'
import { startSwtpm, type Swtpm } from '@terrane/attestation/tpm'
import {
  DeviceError,
  SoftwareSecureElement,
  TpmSecureElement,
  createSimulatedManufacturer,
  loadOrCreateKeyFile,
  type SecureElement,
} from '../src/index.ts'

const nowMs = Date.UTC(2026, 10, 1)

/** Compliance suite every SecureElement implementation must pass. */
function secureElementCompliance(
  name: string,
  make: () => Promise<{ se: SecureElement; manufacturers: Parameters<typeof verifyX509Attestation>[1]['manufacturers'] }>,
) {
  describe(`SecureElement compliance: ${name}`, () => {
    it('exposes a 65-byte SEC1 key whose id is its device id', async () => {
      const { se } = await make()
      assert.equal(se.publicKey.length, 65)
      assert.equal(se.publicKey[0], 0x04)
      assert.equal(se.deviceId, deviceIdFromPublicKey(se.publicKey))
    })
    it('signs bytes with P-256 / SHA-256 in IEEE P1363 form, verifiable by @terrane/attestation', async () => {
      const { se } = await make()
      const message = randomBytes(100)
      const signature = await se.sign(message)
      assert.equal(signature.length, 64)
      assert.equal(verifyDeviceSignature(se.publicKey, message, signature), true)
      assert.equal(verifyDeviceSignature(se.publicKey, randomBytes(100), signature), false)
    })
    it('attests a challenge with evidence that verifyX509Attestation accepts once', async () => {
      const { se, manufacturers } = await make()
      const evidence = await se.attest({ issuedAtMs: nowMs, nonce: randomBytes(32) })
      const usedNonces = new Set<string>()
      const verdict = verifyX509Attestation(evidence, { manufacturers, nowMs: nowMs + 1000, usedNonces })
      assert.equal(verdict.ok, true, JSON.stringify(verdict))
      assert.equal(verdict.ok && verdict.deviceId, se.deviceId)
      const again = verifyX509Attestation(evidence, { manufacturers, nowMs: nowMs + 1000, usedNonces })
      assert.equal(!again.ok && again.reason, 'replayed_challenge')
    })
  })
}

secureElementCompliance('software key', async () => {
  const manufacturer = await createSimulatedManufacturer({ manufacturerId: 'acme', nowMs })
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const probe = new SoftwareSecureElement(privateKey)
  const chain = await manufacturer.issueDeviceCertificate(probe.publicKey, 1)
  return { se: new SoftwareSecureElement(privateKey, { certificateChainDer: chain }), manufacturers: [manufacturer.registry] }
})

// The TPM secure element passes the same suite against a real swtpm (FAILS if swtpm is missing),
// with an X.509 certificate the manufacturer issued for the TPM-generated key.
let swtpm: Swtpm | undefined
let tpmCase: Promise<Awaited<ReturnType<Parameters<typeof secureElementCompliance>[1]>>> | undefined
after(() => swtpm?.stop())
secureElementCompliance('TPM (swtpm)', () => {
  tpmCase ??= (async () => {
    swtpm = await startSwtpm()
    const manufacturer = await createSimulatedManufacturer({ manufacturerId: 'acme', nowMs })
    const probe = await TpmSecureElement.open({ tcti: swtpm.tcti })
    const chain = await manufacturer.issueDeviceCertificate(probe.publicKey, 2)
    const se = await TpmSecureElement.open({ tcti: swtpm.tcti, createIfMissing: false, certificateChainDer: chain })
    return { se, manufacturers: [manufacturer.registry] }
  })()
  return tpmCase
})

describe('software secure element key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'terrane-device-key-'))

  it('creates a key file readable only by its owner, and loads the same key again', async () => {
    const path = join(dir, 'device.key')
    const first = await loadOrCreateKeyFile(path)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const second = await loadOrCreateKeyFile(path)
    assert.equal(second.deviceId, first.deviceId)
  })

  it('refuses a key file that others can read, and a key that is not P-256', async () => {
    const open = join(dir, 'open.key')
    writeFileSync(open, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }))
    chmodSync(open, 0o644)
    await assert.rejects(loadOrCreateKeyFile(open), (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_KEY_FILE')
    const ed = join(dir, 'ed.key')
    writeFileSync(ed, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 })
    await assert.rejects(loadOrCreateKeyFile(ed), (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_KEY_FILE')
    const junk = join(dir, 'junk.key')
    writeFileSync(junk, 'not a key', { mode: 0o600 })
    await assert.rejects(loadOrCreateKeyFile(junk), (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_KEY_FILE')
  })

  it('refuses to attest without a provisioned certificate chain', async () => {
    const se = await loadOrCreateKeyFile(join(dir, 'bare.key'))
    await assert.rejects(
      se.attest({ issuedAtMs: nowMs, nonce: new Uint8Array(32) }),
      (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_NO_ATTESTATION',
    )
    assert.equal(encodeChallenge({ issuedAtMs: nowMs, nonce: new Uint8Array(32) }).length > 32, true)
  })
})
