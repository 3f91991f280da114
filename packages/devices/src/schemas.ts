import { encode, t, type Infer } from '@terrane/codec'
import { certificateBytesMax } from '@terrane/attestation'
import { capabilitiesSchema, deviceIdSchema, locationCellSchema, onboardingRequestSchema } from '@terrane/device/onboarding'

// The `devices/onboard` message is the agent's onboarding request, defined once in @terrane/device
// (a layer below this module: scripts/check-deps.mjs), so the bytes the agent signs and the bytes the
// chain decodes cannot drift apart.
export {
  attestationEvidenceSchema,
  capabilitiesSchema,
  locationResolution,
  onboardingBodySchema,
  onboardingNonce,
  onboardingNonceTag,
  onboardingRequestSchema,
  onboardingSignatureKind,
  radioBands,
  x509EvidenceSchema,
  type Capabilities,
  type OnboardingBody,
  type OnboardingRequest,
  type RadioBand,
} from '@terrane/device/onboarding'

/** The cell index resolution (about 0.74 km² per cell): `devicesInCell` reads one res-8 bucket per cell. */
export const indexResolution = 8
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

const sha256Hex = t.string({ bytesMax: 64, pattern: /^[0-9a-f]{64}$/ })
const manufacturerId = t.string({ bytesMax: 64, pattern: manufacturerIdPattern })

export const bootEventSchema = t.struct({
  pcrIndex: t.uint({ max: 23 }),
  component: t.enumOf(['bootloader', 'firmware'] as const),
  digest: t.bytes({ length: 32 }),
})

/** What the device signs for a measured-boot report (see bootReportSigningBytes). */
export const bootReportBodySchema = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  deviceId: deviceIdSchema,
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
  'assert-location': t.struct({ deviceId: deviceIdSchema, location: locationCellSchema, feeMaxMicroTrn: t.u64() }),
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
  deviceId: deviceIdSchema,
  /** Compressed SEC1 P-256 key (33 bytes). */
  publicKey: t.bytes({ length: 33 }),
  owner: t.bytes({ length: 20 }),
  manufacturerId,
  /** Fingerprints and serials of the verified path, leaf first, root last: re-checked against revocations. */
  pathFingerprintsSha256: t.array(sha256Hex, { lengthMax: 8 }),
  pathSerials: t.array(t.string({ bytesMax: 42 }), { lengthMax: 8 }),
  location: locationCellSchema,
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
