// The onboarding wire format is defined here once: the chain module `devices` (a layer above, see
// scripts/check-deps.mjs) re-exports it as its `devices/onboard` message.
import { latLngToCell, isValidCell, getResolution } from 'h3-js'
import { encode, sha256, t, type Infer } from '@terrane/codec'
import { domainMessage, type Signer } from '@terrane/crypto'
import { certificateBytesMax, certificateChainLengthMax, challengeNonceBytes, type Challenge } from '@terrane/attestation'
import { DeviceError } from './errors.ts'
import type { SecureElement } from './secure-element.ts'

/** Locations are H3 cells at resolution 12 (about 307 m², edge about 9.4 m). */
export const locationResolution = 12
/** Radio bands a device may declare (LoRaWAN regional plans, Wi-Fi, cellular). */
export const radioBands = [
  'eu868',
  'us915',
  'as923',
  'au915',
  'kr920',
  'in865',
  'cn470',
  'wifi-2g4',
  'wifi-5g',
  'cbrs',
  'lte',
  '5g-nr',
] as const
export type RadioBand = (typeof radioBands)[number]
/** Signing domain kind of the owner signature (see @terrane/crypto domainMessage). */
export const onboardingSignatureKind = 'device-onboarding'
/** Domain tag of the challenge nonce derivation (what binds the attestation to this request). */
export const onboardingNonceTag = 'TERRANE-ONBOARDING-NONCE-V1'

/** An asserted location on the wire: an H3 resolution-12 cell (validity is checked by isValidLocation). */
export const locationCellSchema = t.string({ bytesMax: 15, pattern: /^8c[0-9a-f]{13}$/ })
/** A device id on the wire: `deviceIdFromPublicKey` of its attested key, `tdev1...`. */
export const deviceIdSchema = t.string({ bytesMax: 90, pattern: /^tdev1[02-9ac-hj-np-z]{6,}$/ })

export const capabilitiesSchema = t.struct({
  radioBands: t.array(t.enumOf(radioBands), { lengthMax: radioBands.length }),
  storageBytes: t.uint(),
  bandwidthKbps: t.uint(),
})
export type Capabilities = Infer<typeof capabilitiesSchema>

export const x509EvidenceSchema = t.struct({
  certificateChainDer: t.array(t.bytes({ lengthMax: certificateBytesMax }), { lengthMin: 1, lengthMax: certificateChainLengthMax }),
  publicKey: t.bytes({ lengthMax: 65 }),
  challenge: t.bytes({ lengthMax: 128 }),
  challengeSignature: t.bytes({ length: 64 }),
})

/** The attestation carried by a request (tag `kind`). TPM evidence will be a second variant. */
export const attestationEvidenceSchema = t.variant('kind', { x509: x509EvidenceSchema })

/** The fields the owner signs (everything but the owner signature). */
export const onboardingBodySchema = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  deviceId: deviceIdSchema,
  /** Owner account (bech32m `trn1...`) that pays the fee and receives rewards. */
  owner: t.string({ bytesMax: 90 }),
  /** Ed25519 public key of the owner (its address is derived from it). */
  ownerPublicKey: t.bytes({ length: 32 }),
  /** Asserted location, H3 resolution 12. */
  location: locationCellSchema,
  capabilities: capabilitiesSchema,
  /** Most the owner agrees to pay (the chain charges its current onboarding fee, if not above). */
  feeMaxMicroTrn: t.u64(),
  /** A recent block (hash and time) that anchors the attestation challenge in time. */
  anchorBlockHash: t.bytes({ length: 32 }),
  anchorTimeMs: t.uint(),
  attestation: attestationEvidenceSchema,
})
export type OnboardingBody = Infer<typeof onboardingBodySchema>

export const onboardingRequestSchema = t.struct({
  body: onboardingBodySchema,
  /** Ed25519 over domainMessage({ chainId, kind: 'device-onboarding' }, encode(onboardingBodySchema, body)). */
  ownerSignature: t.bytes({ length: 64 }),
})
export type OnboardingRequest = Infer<typeof onboardingRequestSchema>

/**
 * The challenge nonce the device signs: SHA-256 of the tag, chain id, device id, owner, location
 * and anchor block hash (each length-prefixed by the canonical encoding). The chain recomputes it
 * from the request, so the attestation cannot be lifted into a request for another owner,
 * device, location or chain, nor reused (single use, by nonce).
 */
export function onboardingNonce(fields: {
  chainId: string
  deviceId: string
  owner: string
  location: string
  anchorBlockHash: Uint8Array
}): Uint8Array {
  const bytes = encode(t.array(t.bytes()), [
    new TextEncoder().encode(onboardingNonceTag),
    new TextEncoder().encode(fields.chainId),
    new TextEncoder().encode(fields.deviceId),
    new TextEncoder().encode(fields.owner),
    new TextEncoder().encode(fields.location),
    fields.anchorBlockHash,
  ])
  const nonce = sha256(bytes)
  if (nonce.length !== challengeNonceBytes) throw new DeviceError('DEVICE_CONFIG', 'nonce size mismatch')
  return nonce
}

/** The challenge of a request: { issuedAtMs: anchorTimeMs, nonce: onboardingNonce(...) }. */
export function onboardingChallenge(
  body: Pick<OnboardingBody, 'chainId' | 'deviceId' | 'owner' | 'location' | 'anchorBlockHash' | 'anchorTimeMs'>,
): Challenge {
  return { issuedAtMs: body.anchorTimeMs, nonce: onboardingNonce(body) }
}

/** The exact bytes the owner signs. */
export function onboardingSigningBytes(body: OnboardingBody): Uint8Array {
  return domainMessage({ chainId: body.chainId, kind: onboardingSignatureKind }, encode(onboardingBodySchema, body))
}

/** The H3 resolution-12 cell of a position; throws DEVICE_CONFIG for an impossible coordinate. */
export function locationCell(lat: number, lng: number): string {
  if (!(lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180)) throw new DeviceError('DEVICE_CONFIG', `no such position ${lat},${lng}`)
  return latLngToCell(lat, lng, locationResolution)
}

/** True if `cell` is a valid H3 cell at resolution 12 (what the chain requires of a location). */
export function isValidLocation(cell: string): boolean {
  return /^8c[0-9a-f]{13}$/.test(cell) && isValidCell(cell) && getResolution(cell) === locationResolution
}

export interface BuildOnboardingInit {
  chainId: string
  owner: string
  location: string
  capabilities: Capabilities
  feeMaxMicroTrn: bigint
  anchorBlockHash: Uint8Array
  anchorTimeMs: number
}

/**
 * Builds a complete onboarding request: the device attests over the bound challenge, the owner
 * signs the body. Both keys are needed, by design: the device proves it is genuine hardware,
 * the owner that it accepts the device (and the fee) into its account.
 *
 * @example
 * const request = await buildOnboardingRequest(init, { secureElement, owner: seedSigner(ownerSeed) })
 */
export async function buildOnboardingRequest(
  init: BuildOnboardingInit,
  keys: { secureElement: SecureElement; owner: Signer },
): Promise<OnboardingRequest> {
  if (!isValidLocation(init.location)) throw new DeviceError('DEVICE_CONFIG', `location ${init.location} is not an H3 resolution-12 cell`)
  const fields = { ...init, deviceId: keys.secureElement.deviceId }
  const evidence = await keys.secureElement.attest(onboardingChallenge(fields))
  const body: OnboardingBody = {
    chainId: init.chainId,
    deviceId: keys.secureElement.deviceId,
    owner: init.owner,
    ownerPublicKey: Uint8Array.from(keys.owner.publicKey),
    location: init.location,
    capabilities: init.capabilities,
    feeMaxMicroTrn: init.feeMaxMicroTrn,
    anchorBlockHash: Uint8Array.from(init.anchorBlockHash),
    anchorTimeMs: init.anchorTimeMs,
    attestation: evidence,
  }
  const parsed = onboardingBodySchema.parse(body)
  return { body: parsed, ownerSignature: keys.owner.sign(onboardingSigningBytes(parsed)) }
}

/** Canonical bytes of a request (what goes into the onboarding transaction). */
export function encodeOnboardingRequest(request: OnboardingRequest): Uint8Array {
  return encode(onboardingRequestSchema, request)
}
