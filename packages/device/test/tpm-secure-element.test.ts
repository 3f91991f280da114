// The device agent with its key in a real software TPM. swtpm and tpm2-tools must be installed
// (CI installs them); if they are missing these tests FAIL: startSwtpm throws in `before`.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encodeSignedReport, makeReport, reportSigningBytes, signReport, verifyReport, type SignedDeviceReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { verifyDeviceSignature, verifyTpmKeyCertification } from '@terrane/attestation'
import { TpmTools, startSwtpm, type ProvisionedTpm, type Swtpm } from '@terrane/attestation/tpm'
import { MemoryDeviceDirectory, createIngest, reportsTopic, type Ingest, type VerifiedReport } from '@terrane/ingest'
import { DeviceError, MemorySequenceStore, TpmSecureElement, deviceAgent } from '../src/index.ts'
import { until } from './wait.ts'

const chainId = 'terrane-test'
const clock = { nowMs: () => Date.now() }
let swtpm: Swtpm
let provisioned: ProvisionedTpm
let se: TpmSecureElement
let ingest: Ingest
const accepted: VerifiedReport[] = []
const directory = new MemoryDeviceDirectory()

describe('TpmSecureElement (swtpm) and the device agent', () => {
  before(async () => {
    swtpm = await startSwtpm()
    provisioned = await new TpmTools({ tcti: swtpm.tcti }).provision() // EK + AK, as at manufacturing
    se = await TpmSecureElement.open({ tcti: swtpm.tcti })
    ingest = createIngest({ chainId, signaturePool: { workers: 1 } })({ directory, sink: { onReport: (v) => void accepted.push(v) } })
  })
  after(async () => {
    await ingest?.stop()
    await swtpm?.stop()
  })

  it('holds a TPM-generated key the AK certifies: the verifier derives the same device id', async () => {
    assert.equal(se.publicKey.length, 65)
    const verdict = verifyTpmKeyCertification(await se.certifyKey(provisioned.akPublic))
    assert.equal(verdict.ok, true, JSON.stringify(verdict))
    assert.equal(verdict.ok && verdict.deviceId, se.deviceId)
    assert.deepEqual(verdict.ok && verdict.publicKey, se.publicKey)
    // The chain registers the certified key (onboarding); the ingest reads it from the directory.
    directory.set(se.deviceId, { publicKey: se.publicKey, status: 'active' })
  })

  it('reopens the same persistent key, and refuses to invent one when told not to', async () => {
    const again = await TpmSecureElement.open({ tcti: swtpm.tcti, createIfMissing: false })
    assert.equal(again.deviceId, se.deviceId)
    await assert.rejects(TpmSecureElement.open({ tcti: swtpm.tcti, signingKeyHandle: 0x81010009, createIfMissing: false }), (err) => {
      assert.ok(err instanceof DeviceError)
      assert.equal(err.code, 'DEVICE_TPM')
      return true
    })
  })

  it('signs concurrent requests one TPM command at a time, each verifiable', async () => {
    const messages = [randomBytes(40), randomBytes(4000), new Uint8Array(0)]
    const signatures = await Promise.all(messages.map((m) => se.sign(m)))
    for (const [i, m] of messages.entries()) assert.equal(verifyDeviceSignature(se.publicKey, m, signatures[i]!), true)
  })

  it('the agent signs reports with the TPM key; the ingest and verifyReport accept them', async () => {
    await ingest.start()
    const agent = deviceAgent({
      chainId,
      brokerUrl: ingest.tcpUrl ?? '',
      auth: { mode: 'token', challengeUrl: ingest.challengeUrl ?? '' }, // the session token is signed in the TPM too
      firmwareVersion: '1.0.0',
      heartbeatIntervalMs: 60_000,
    })({ secureElement: se, sequence: new MemorySequenceStore(), clock })
    await agent.start()
    try {
      const signed: SignedDeviceReport = await agent.heartbeat()
      assert.equal(verifyReport(chainId, signed, se.publicKey), true)
      await until(() => accepted.length === 1, 'the TPM-signed report')
      assert.equal(accepted[0]?.deviceId, se.deviceId)
      assert.deepEqual(accepted[0]?.signed.signature, signed.signature)
    } finally {
      await agent.stop()
    }
  })

  it('refuses a report signed by a software key that claims the TPM device', async () => {
    const impostor = deviceKeyFromSeed('impostor')
    const report = makeReport(
      { deviceId: se.deviceId, seq: 1000, timeMs: clock.nowMs(), kind: 'heartbeat' },
      { uptimeSeconds: 1, firmwareVersion: '1.0.0' },
    )
    const forged = signReport(chainId, report, impostor.sign)
    assert.equal(verifyDeviceSignature(impostor.publicKey, reportSigningBytes(chainId, report), forged.signature), true, 'well formed')
    assert.equal(verifyReport(chainId, forged, se.publicKey), false)
    const verdict = await ingest.processor.submit(reportsTopic(se.deviceId), encodeSignedReport(forged))
    assert.equal(!verdict.ok && verdict.reason, 'bad_signature')
    assert.equal(accepted.length, 1, 'nothing reached the sink')
  })
})
