import { encode, sha256, t, type Infer } from '@terrane/codec'
import { certificateBytesMax, certificateChainLengthMax, challengeNonceBytes } from '@terrane/attestation'

/** Locations are H3 cells at resolution 12 (about 307 m², edge about 9.4 m), as @terrane/device asserts them. */
export const locationResolution = 12
/** The cell index resolution (about 0.74 km² per cell): `devicesInCell` reads one res-8 bucket per cell. */
export const indexResolution = 8
/** Radio bands a device may declare (LoRaWAN regional plans, Wi-Fi, cellular): @terrane/device's list. */
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
/** Signing domain kind of the owner signature (@terrane/crypto domainMessage). */
export const onboardingSignatureKind = 'device-onboarding'
/** Domain tag of the challenge nonce derivation (binds the attestation to one request). */
export const onboardingNonceTag = 'TERRANE-ONBOARDING-NONCE-V1'
/** Domain tag of a device-signed measured-boot report. */
export const bootReportTag = 'TERRANE-BOOT-REPORT-V1'
/** Boot events in one report (@terrane/firmware bootEventsMax). */
export const bootEventsMax = 16
/** Manufacturer id: lowercase, as `acme-sensors`. */
export const manufacturerIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/
/** Root certificates per manufacturer. */
export const rootsPerManufacturerMax = 8
/** Revoked fingerprints plus serials kept per manufacturer. */
export const revocationsPerManufacturerMax = 4096

const h3Res12 = t.string({ bytesMax: 15, pattern: /^8c[0-9a-f]{13}$/ })
const deviceIdString = t.string({ bytesMax: 90, pattern: /^tdev1[02-9ac-hj-np-z]{6,}$/ })
const sha256Hex = t.string({ bytesMax: 64, pattern: /^[0-9a-f]{64}$/ })
const manufacturerId = t.string({ bytesMax: 64, pattern: manufacturerIdPattern })

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

/** The attestation carried by a request (tag `kind`); TPM evidence is not accepted on chain yet. */
export const attestationEvidenceSchema = t.variant('kind', { x509: x509EvidenceSchema })

/** The fields the owner signs: exactly @terrane/device's onboardingBodySchema. */
export const onboardingBodySchema = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  deviceId: deviceIdString,
  /** Owner account (bech32m `trn1...`): must be the transaction's sender. */
  owner: t.string({ bytesMax: 90 }),
  ownerPublicKey: t.bytes({ length: 32 }),
  location: h3Res12,
  capabilities: capabilitiesSchema,
  /** Most the owner agrees to pay. */
  feeMaxMicroTrn: t.u64(),
  anchorBlockHash: t.bytes({ length: 32 }),
  anchorTimeMs: t.uint(),
  attestation: attestationEvidenceSchema,
})
export type OnboardingBody = Infer<typeof onboardingBodySchema>

/** @terrane/device's onboardingRequestSchema: the fields of the `devices/onboard` message. */
export const onboardingRequestSchema = t.struct({
  body: onboardingBodySchema,
  /** Ed25519 over domainMessage({ chainId, kind: 'device-onboarding' }, encode(onboardingBodySchema, body)). */
  ownerSignature: t.bytes({ length: 64 }),
})
export type OnboardingRequest = Infer<typeof onboardingRequestSchema>

/** The challenge nonce the device signs (same derivation as @terrane/device onboardingNonce). */
export function onboardingNonce(fields: {
  chainId: string
  deviceId: string
  owner: string
  location: string
  anchorBlockHash: Uint8Array
}): Uint8Array {
  const utf8 = new TextEncoder()
  const nonce = sha256(
    encode(t.array(t.bytes()), [
      utf8.encode(onboardingNonceTag),
      utf8.encode(fields.chainId),
      utf8.encode(fields.deviceId),
      utf8.encode(fields.owner),
      utf8.encode(fields.location),
      fields.anchorBlockHash,
    ]),
  )
  if (nonce.length !== challengeNonceBytes) throw new Error('nonce size mismatch')
  return nonce
}

export const bootEventSchema = t.struct({
  pcrIndex: t.uint({ max: 23 }),
  component: t.enumOf(['bootloader', 'firmware'] as const),
  digest: t.bytes({ length: 32 }),
})

/** What the device signs for a measured-boot report (see bootReportSigningBytes). */
export const bootReportBodySchema = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  deviceId: deviceIdString,
  reportedAtMs: t.uint(),
  events: t.array(bootEventSchema, { lengthMin: 1, lengthMax: bootEventsMax }),
  pcrs: t.array(t.struct({ index: t.uint({ max: 23 }), value: t.bytes({ length: 32 }) }), { lengthMin: 1, lengthMax: 24 }),
})
export type BootReportBody = Infer<typeof bootReportBodySchema>

/** Bytes the device key signs (ECDSA P-256, P1363): tag || 0x00 || canonical body. */
export function bootReportSigningBytes(body: BootReportBody): Uint8Array {
  const tag = new TextEncoder().encode(bootReportTag)
  const payload = encode(bootReportBodySchema, body)
  const out = new Uint8Array(tag.length + 1 + payload.length)
  out.set(tag)
  out.set(payload, tag.length + 1)
  return out
}

/** Messages of the module (wire type `devices/<name>`). */
export const devicesMessages = {
  onboard: onboardingRequestSchema,
  'assert-location': t.struct({ deviceId: deviceIdString, location: h3Res12, feeMaxMicroTrn: t.u64() }),
  'boot-report': t.struct({ body: bootReportBodySchema, signature: t.bytes({ length: 64 }) }),
  'add-manufacturer': t.struct({
    manufacturerId,
    rootCertificatesDer: t.array(t.bytes({ lengthMax: certificateBytesMax }), { lengthMin: 1, lengthMax: rootsPerManufacturerMax }),
  }),
  'revoke-certificate': t.struct({
    manufacturerId,
    fingerprintSha256: t.optional(sha256Hex),
    serial: t.optional(t.string({ bytesMax: 42, pattern: /^[0-9a-f]{1,42}$/ })),
  }),
  'set-firmware-release': t.struct({
    releaseId: t.string({ bytesMax: 64, pattern: /^[A-Za-z0-9._+-]{1,64}$/ }),
    bootloaderSha256: sha256Hex,
    firmwareSha256: sha256Hex,
    isRevoked: t.bool(),
  }),
} as const

// ------------------------------------------------------------------ state

export const devicesParamsSchema = t.struct({
  /** Charged at onboarding, locked in the module's escrow (the onboarding pool). */
  onboardingFeeMicro: t.u64(),
  /** Charged per location re-assertion. */
  locationFeeMicro: t.u64(),
  /** Minimum time between two assertions of one device. */
  locationIntervalMsMin: t.uint(),
  /** Assertions (onboarding included) allowed per locationPeriodMs. */
  locationAssertionsPerPeriodMax: t.uint({ max: 64 }),
  locationPeriodMs: t.uint(),
  /** How old the attestation challenge (anchorTimeMs) may be at block time. */
  challengeAgeMsMax: t.uint(),
  /** How old a boot report may be at block time. */
  bootReportAgeMsMax: t.uint(),
  /** Whether a device that never reported a measured boot is flagged (earns nothing). */
  isBootReportRequired: t.bool(),
})
export type DevicesParams = Infer<typeof devicesParamsSchema>

export const adminSchema = t.struct({ address: t.bytes({ length: 20 }) })

export const manufacturerSchema = t.struct({
  manufacturerId,
  rootCertificatesDer: t.array(t.bytes({ lengthMax: certificateBytesMax }), { lengthMax: rootsPerManufacturerMax }),
  revokedFingerprintsSha256: t.array(sha256Hex, { lengthMax: revocationsPerManufacturerMax }),
  revokedSerials: t.array(t.string({ bytesMax: 42 }), { lengthMax: revocationsPerManufacturerMax }),
  addedHeight: t.uint(),
})
export type ManufacturerState = Infer<typeof manufacturerSchema>

export const firmwareReleaseSchema = t.struct({
  releaseId: t.string({ bytesMax: 64 }),
  bootloaderSha256: sha256Hex,
  firmwareSha256: sha256Hex,
  isRevoked: t.bool(),
})
export type FirmwareRelease = Infer<typeof firmwareReleaseSchema>

export const deviceSchema = t.struct({
  deviceId: deviceIdString,
  /** Compressed SEC1 P-256 key (33 bytes). */
  publicKey: t.bytes({ length: 33 }),
  owner: t.bytes({ length: 20 }),
  manufacturerId,
  /** Fingerprints and serials of the verified path, leaf first, root last: re-checked against revocations. */
  pathFingerprintsSha256: t.array(sha256Hex, { lengthMax: 8 }),
  pathSerials: t.array(t.string({ bytesMax: 42 }), { lengthMax: 8 }),
  location: h3Res12,
  capabilities: capabilitiesSchema,
  onboardedHeight: t.uint(),
  onboardedAtMs: t.uint(),
  /** Block times of the assertions inside the current period (onboarding counts as one). */
  locationAssertedAtMs: t.array(t.uint(), { lengthMax: 64 }),
  /** Last measured boot: the measured bootloader and firmware digests (hex). */
  boot: t.optional(t.struct({ reportedAtMs: t.uint(), bootloaderSha256: sha256Hex, firmwareSha256: sha256Hex })),
})
export type DeviceState = Infer<typeof deviceSchema>

export const markerSchema = t.struct({})
export const nonceSchema = t.struct({ expiresAtMs: t.uint() })
export const feesSchema = t.struct({ collectedMicro: t.u64() })
