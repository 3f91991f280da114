import { addressOfPublicKey, verifyInDomain } from '@terrane/crypto'
import { bytesEqual, encode } from '@terrane/codec'
import {
  deviceIdFromPublicKey,
  encodeChallenge,
  verifyX509Attestation,
  type ManufacturerRegistry,
  type UsedNonces,
  type AttestationRejectReason,
} from '@terrane/attestation'
import {
  isValidLocation,
  onboardingBodySchema,
  onboardingChallenge,
  onboardingRequestSchema,
  onboardingSignatureKind,
  type OnboardingRequest,
} from './onboarding.ts'

export type OnboardingRejectReason =
  | 'malformed' // not an OnboardingRequest (schema)
  | 'wrong_chain' // body.chainId is not this chain
  | 'owner_mismatch' // body.owner is not the address of body.ownerPublicKey
  | 'bad_owner_signature' // the owner did not sign this body
  | 'bad_location' // not a valid H3 resolution-12 cell
  | 'device_id_mismatch' // body.deviceId is not the id of the attested key
  | 'challenge_mismatch' // the attested challenge is not the one bound to this request
  | `attestation_${AttestationRejectReason}` // @terrane/attestation refused the evidence

export type OnboardingVerdict =
  | { ok: true; deviceId: string; publicKey: Uint8Array; manufacturerId: string; owner: string; location: string }
  | { ok: false; reason: OnboardingRejectReason; detail: string }

export interface OnboardingContext {
  chainId: string
  manufacturers: readonly ManufacturerRegistry[]
  /** Block time of the block that includes the request. */
  nowMs: number
  /** Challenge nonces already used (chain state), added to on success. */
  usedNonces: UsedNonces
  /** How old the anchor block may be. @default 300_000 (attestation's default) */
  challengeAgeMsMax?: number
}

/**
 * Reference check of an onboarding request, everything that needs no chain state beyond the
 * manufacturer registry and the used-nonce set (deterministic; the chain's onboarding module runs
 * it, then checks what only it knows: the anchor block hash is a block of this chain at
 * anchorTimeMs, the device is not yet registered, the fee is at most feeMaxMicroTrn and the owner
 * can pay it). Order: shape, chain, owner key, owner signature, location, device id, challenge
 * binding, attestation (chain of certificates, key match, challenge signature, freshness, single use).
 */
export function verifyOnboardingRequest(value: unknown, context: OnboardingContext): OnboardingVerdict {
  let request: OnboardingRequest
  try {
    request = onboardingRequestSchema.parse(value)
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: (err as Error).message }
  }
  const { body } = request
  if (body.chainId !== context.chainId) return { ok: false, reason: 'wrong_chain', detail: body.chainId }
  let ownerAddress: string
  try {
    ownerAddress = addressOfPublicKey(body.ownerPublicKey)
  } catch {
    return { ok: false, reason: 'owner_mismatch', detail: 'owner public key is not a valid key' }
  }
  if (ownerAddress !== body.owner)
    return { ok: false, reason: 'owner_mismatch', detail: `${body.owner} is not the address of the owner key` }
  const payload = encode(onboardingBodySchema, body)
  if (!verifyInDomain(body.ownerPublicKey, { chainId: body.chainId, kind: onboardingSignatureKind }, payload, request.ownerSignature))
    return { ok: false, reason: 'bad_owner_signature', detail: 'owner signature does not verify' }
  if (!isValidLocation(body.location)) return { ok: false, reason: 'bad_location', detail: body.location }
  const evidence = body.attestation
  let attestedId: string
  try {
    attestedId = deviceIdFromPublicKey(evidence.publicKey)
  } catch {
    return { ok: false, reason: 'attestation_malformed', detail: 'attested key is not a P-256 point' }
  }
  if (attestedId !== body.deviceId) return { ok: false, reason: 'device_id_mismatch', detail: `${body.deviceId} != ${attestedId}` }
  if (!bytesEqual(evidence.challenge, encodeChallenge(onboardingChallenge(body))))
    return { ok: false, reason: 'challenge_mismatch', detail: 'the device attested a challenge not bound to this request' }
  const verdict = verifyX509Attestation(evidence, {
    manufacturers: context.manufacturers,
    nowMs: context.nowMs,
    usedNonces: context.usedNonces,
    ...(context.challengeAgeMsMax === undefined ? {} : { challengeAgeMsMax: context.challengeAgeMsMax }),
  })
  if (!verdict.ok) return { ok: false, reason: `attestation_${verdict.reason}`, detail: verdict.detail }
  return {
    ok: true,
    deviceId: verdict.deviceId,
    publicKey: verdict.publicKey,
    manufacturerId: verdict.manufacturerId,
    owner: body.owner,
    location: body.location,
  }
}
