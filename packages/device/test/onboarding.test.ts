import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { addressOfPublicKey, seedSigner } from '@terrane/crypto'
import { decode, sha256 } from '@terrane/codec'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import {
  SoftwareSecureElement,
  buildOnboardingRequest,
  createSimulatedManufacturer,
  encodeOnboardingRequest,
  isValidLocation,
  locationCell,
  onboardingRequestSchema,
  onboardingSigningBytes,
  verifyOnboardingRequest,
  type BuildOnboardingInit,
  type OnboardingRequest,
  type SimulatedManufacturer,
} from '../src/index.ts'

const chainId = 'terrane-test'
const nowMs = Date.UTC(2026, 10, 1)
const owner = seedSigner(sha256(new TextEncoder().encode('owner')))
const otherOwner = seedSigner(sha256(new TextEncoder().encode('other owner')))

let manufacturer: SimulatedManufacturer
let se: SoftwareSecureElement
let init: BuildOnboardingInit

function context(extra: Partial<Parameters<typeof verifyOnboardingRequest>[1]> = {}) {
  return { chainId, manufacturers: [manufacturer.registry], nowMs: nowMs + 60_000, usedNonces: new Set<string>(), ...extra }
}

function expectReject(request: unknown, reason: string, ctx = context()) {
  const verdict = verifyOnboardingRequest(request, ctx)
  assert.equal(verdict.ok, false)
  assert.equal(!verdict.ok && verdict.reason, reason, !verdict.ok ? verdict.detail : '')
}

describe('onboarding requests', () => {
  before(async () => {
    manufacturer = await createSimulatedManufacturer({ manufacturerId: 'acme', nowMs })
    const key = deviceKeyFromSeed('onboarding-device')
    se = new SoftwareSecureElement(key.privateKey, { certificateChainDer: await manufacturer.issueDeviceCertificate(key.publicKey, 7) })
    init = {
      chainId,
      owner: addressOfPublicKey(owner.publicKey),
      location: locationCell(52.52, 13.405),
      capabilities: { radioBands: ['eu868'], storageBytes: 1 << 30, bandwidthKbps: 50_000 },
      feeMaxMicroTrn: 40_000_000n,
      anchorBlockHash: new Uint8Array(32).fill(3),
      anchorTimeMs: nowMs,
    }
  })

  it('builds a request that round-trips canonically and verifies', async () => {
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    const decoded = decode(onboardingRequestSchema, encodeOnboardingRequest(request))
    assert.deepEqual(encodeOnboardingRequest(decoded), encodeOnboardingRequest(request))
    const verdict = verifyOnboardingRequest(decoded, context())
    assert.equal(verdict.ok, true, JSON.stringify(verdict))
    assert.equal(verdict.ok && verdict.deviceId, se.deviceId)
    assert.equal(verdict.ok && verdict.manufacturerId, 'acme')
    assert.equal(verdict.ok && verdict.location, init.location)
  })

  it('locations are H3 resolution-12 cells', () => {
    assert.equal(isValidLocation(locationCell(0, 0)), true)
    assert.equal(isValidLocation('8b1f1d48955ffff'), false) // resolution 11
    assert.equal(isValidLocation('8c0000000000000'), false) // not a cell
  })

  it('refuses a replayed request (the attestation challenge is single use)', async () => {
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    const ctx = context()
    assert.equal(verifyOnboardingRequest(request, ctx).ok, true)
    expectReject(request, 'attestation_replayed_challenge', ctx)
  })

  it('refuses a request for another chain, or malformed', async () => {
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    expectReject(request, 'wrong_chain', context({ chainId: 'terrane-main' }))
    expectReject({ body: {} }, 'malformed')
  })

  it('refuses a body changed after the owner signed it', async () => {
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    expectReject({ ...request, body: { ...request.body, feeMaxMicroTrn: 1n } }, 'bad_owner_signature')
  })

  it('refuses an owner address that is not the owner key', async () => {
    const request = await buildOnboardingRequest({ ...init, owner: addressOfPublicKey(otherOwner.publicKey) }, { secureElement: se, owner })
    expectReject(request, 'owner_mismatch')
  })

  it("refuses a device attestation lifted into another owner's request", async () => {
    const genuine = await buildOnboardingRequest(init, { secureElement: se, owner })
    // The thief keeps the device's evidence but claims the device for itself, and signs as owner.
    const body = { ...genuine.body, owner: addressOfPublicKey(otherOwner.publicKey), ownerPublicKey: otherOwner.publicKey }
    const stolen: OnboardingRequest = { body, ownerSignature: otherOwner.sign(onboardingSigningBytes(body)) }
    expectReject(stolen, 'challenge_mismatch')
  })

  it('refuses a device whose manufacturer is not registered, and a stale anchor', async () => {
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    const stranger = await createSimulatedManufacturer({ manufacturerId: 'stranger', nowMs })
    expectReject(request, 'attestation_unknown_root', context({ manufacturers: [stranger.registry] }))
    expectReject(request, 'attestation_stale_challenge', context({ nowMs: nowMs + 10 * 60_000 }))
  })

  it('refuses evidence for a different key than the device id claimed', async () => {
    const other = deviceKeyFromSeed('another-device')
    const otherSe = new SoftwareSecureElement(other.privateKey, {
      certificateChainDer: await manufacturer.issueDeviceCertificate(other.publicKey, 8),
    })
    const request = await buildOnboardingRequest(init, { secureElement: se, owner })
    const forged = await buildOnboardingRequest(init, { secureElement: otherSe, owner })
    const body = { ...request.body, attestation: forged.body.attestation }
    expectReject({ body, ownerSignature: owner.sign(onboardingSigningBytes(body)) }, 'device_id_mismatch')
  })
})
