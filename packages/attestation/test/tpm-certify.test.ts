// TPM2_Certify of the report-signing key by the AK, against a real software TPM. swtpm and
// tpm2-tools must be installed (CI installs them); if they are missing these tests FAIL.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  deviceIdFromPublicKey,
  verifyDeviceSignature,
  verifyTpmKeyCertification,
  parseCertify,
  type TpmKeyCertification,
} from '../src/index.ts'
import { TpmTools, startSwtpm, type Swtpm, type ProvisionedTpm, type TpmSigningKeyOutput, type TpmCertifyOutput } from '../src/tpm/index.ts'

let swtpm: Swtpm
let tpm: TpmTools
let provisioned: ProvisionedTpm
let key: TpmSigningKeyOutput
let certified: TpmCertifyOutput
let genuine: TpmKeyCertification

describe('TPM signing key certified by the AK (swtpm)', () => {
  before(async () => {
    swtpm = await startSwtpm()
    tpm = new TpmTools({ tcti: swtpm.tcti })
    provisioned = await tpm.provision()
    key = await tpm.createSigningKey()
    certified = await tpm.certifySigningKey()
    genuine = { akPublic: provisioned.akPublic, keyPublic: key.keyPublic, ...certified }
  })
  after(async () => {
    await swtpm?.stop()
  })

  it('accepts the certify statement of a key generated in the TPM and returns its device id', () => {
    const verdict = verifyTpmKeyCertification(genuine)
    assert.equal(verdict.ok, true, JSON.stringify(verdict))
    if (!verdict.ok) return
    assert.deepEqual(verdict.publicKey, key.publicKey)
    assert.equal(verdict.deviceId, deviceIdFromPublicKey(key.publicKey))
    assert.deepEqual(verdict.akName, provisioned.akName)
    assert.deepEqual(parseCertify(certified.certifyInfo).name, verdict.keyName)
  })

  it('signs bytes with the TPM key: a P1363 signature the device verifier accepts, over those bytes only', async () => {
    const message = new TextEncoder().encode('a report')
    const signature = await tpm.sign(message)
    assert.equal(signature.length, 64)
    assert.equal(verifyDeviceSignature(key.publicKey, message, signature), true)
    assert.equal(verifyDeviceSignature(key.publicKey, new TextEncoder().encode('another report'), signature), false)
    assert.deepEqual((await tpm.readSigningKey()).publicKey, key.publicKey, 'the key is persistent')
  })

  it('refuses a statement the AK made about another object (key_name_mismatch)', async () => {
    const tools = new TpmTools({ tcti: swtpm.tcti, signingKeyHandle: 0x81010002 }) // the AK certifying itself
    const aboutAk = await tools.certifySigningKey()
    const verdict = verifyTpmKeyCertification({ ...genuine, ...aboutAk })
    assert.equal(!verdict.ok && verdict.reason, 'key_name_mismatch')
  })

  it('refuses a tampered statement (bad_certify_signature)', () => {
    const certifyInfo = Uint8Array.from(certified.certifyInfo)
    certifyInfo[certifyInfo.length - 1]! ^= 1 // last byte of the certified name
    const verdict = verifyTpmKeyCertification({ ...genuine, certifyInfo })
    assert.equal(!verdict.ok && verdict.reason, 'bad_certify_signature')
  })

  it('refuses a restricted key as the device key (bad_signing_key) and an unrestricted key as the AK (bad_attestation_key)', () => {
    const asKey = verifyTpmKeyCertification({ ...genuine, keyPublic: provisioned.akPublic })
    assert.equal(!asKey.ok && asKey.reason, 'bad_signing_key')
    const asAk = verifyTpmKeyCertification({ ...genuine, akPublic: key.keyPublic })
    assert.equal(!asAk.ok && asAk.reason, 'bad_attestation_key')
  })

  it('refuses truncated structures as malformed, without throwing', () => {
    for (const field of ['keyPublic', 'certifyInfo', 'certifySignature'] as const) {
      const verdict = verifyTpmKeyCertification({ ...genuine, [field]: genuine[field].subarray(0, genuine[field].length - 3) })
      assert.equal(!verdict.ok && verdict.reason, 'malformed', field)
    }
  })
})
