import { ChainError, type ChainErrorCode } from '@terrane/chain'
import type { AttestationRejectReason } from '@terrane/attestation'

/** Every reason @terrane/attestation may give, each surfaced as its own module code. */
export const attestationReasons = [
  'malformed',
  'unknown_root',
  'bad_chain',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'revoked',
  'ca_as_device',
  'wrong_key_usage',
  'path_length_exceeded',
  'unsupported_key',
  'key_mismatch',
  'bad_challenge_signature',
  'stale_challenge',
  'replayed_challenge',
  'bad_attestation_key',
  'credential_mismatch',
  'bad_quote_signature',
  'nonce_mismatch',
  'pcr_mismatch',
] as const satisfies readonly AttestationRejectReason[]

type AttestationCode = `DEVICES_ATTESTATION_${Uppercase<(typeof attestationReasons)[number]>}`

const attestationCodes = Object.fromEntries(
  attestationReasons.map((r) => [`DEVICES_ATTESTATION_${r.toUpperCase()}`, 'CHAIN_BAD_MESSAGE']),
) as Record<AttestationCode, 'CHAIN_BAD_MESSAGE'>

/**
 * Stable error codes of the devices module, each mapped to the chain's numeric
 * TxResult code (the chain knows only its own codes). The module code is the
 * first word of the message, so a TxResult log reads
 * `CHAIN_BAD_MESSAGE: DEVICES_LOCATION_TOO_SOON: ...` (see devicesErrorCodeOfLog).
 */
export const devicesErrorCodes = {
  DEVICES_UNAUTHORIZED: 'CHAIN_UNAUTHORIZED', // the sender is not the module admin
  DEVICES_NOT_OWNER: 'CHAIN_UNAUTHORIZED', // the sender does not own the device
  DEVICES_WRONG_CHAIN: 'CHAIN_BAD_MESSAGE', // the request names another chain
  DEVICES_OWNER_MISMATCH: 'CHAIN_UNAUTHORIZED', // request owner is not the tx sender, or not the owner key's address
  DEVICES_BAD_OWNER_SIGNATURE: 'CHAIN_BAD_SIGNATURE', // the owner signature over the request does not verify
  DEVICES_BAD_LOCATION: 'CHAIN_BAD_MESSAGE', // not a valid H3 cell at the location resolution
  DEVICES_LOCATION_UNCHANGED: 'CHAIN_BAD_MESSAGE', // re-assertion of the current location
  DEVICES_LOCATION_TOO_SOON: 'CHAIN_BAD_MESSAGE', // re-assertion before locationIntervalMsMin elapsed
  DEVICES_LOCATION_LIMIT: 'CHAIN_BAD_MESSAGE', // locationAssertionsPerPeriodMax reached
  DEVICES_DEVICE_ID_MISMATCH: 'CHAIN_BAD_MESSAGE', // deviceId is not the id of the attested key
  DEVICES_CHALLENGE_MISMATCH: 'CHAIN_BAD_MESSAGE', // the attested challenge is not bound to this request
  DEVICES_ALREADY_REGISTERED: 'CHAIN_BAD_MESSAGE',
  DEVICES_UNKNOWN_DEVICE: 'CHAIN_BAD_MESSAGE',
  DEVICES_FEE_TOO_LOW: 'CHAIN_BAD_MESSAGE', // the fee the owner accepts is below the chain's current fee
  DEVICES_MANUFACTURER_EXISTS: 'CHAIN_BAD_MESSAGE',
  DEVICES_UNKNOWN_MANUFACTURER: 'CHAIN_BAD_MESSAGE',
  DEVICES_BAD_CERTIFICATE: 'CHAIN_BAD_MESSAGE', // a root certificate that does not parse or is not a CA
  DEVICES_BAD_REVOCATION: 'CHAIN_BAD_MESSAGE', // neither or both of fingerprint and serial, or a malformed one
  DEVICES_BAD_RELEASE: 'CHAIN_BAD_MESSAGE', // firmware release with malformed digests
  DEVICES_BAD_BOOT_REPORT: 'CHAIN_BAD_MESSAGE', // malformed boot log, or its PCRs do not replay
  DEVICES_BAD_DEVICE_SIGNATURE: 'CHAIN_BAD_SIGNATURE', // boot report not signed by the device key
  DEVICES_STALE_REPORT: 'CHAIN_BAD_MESSAGE', // boot report older than the last one, or outside the age window
  ...attestationCodes,
} as const satisfies Record<string, ChainErrorCode>

export type DevicesErrorCode = keyof typeof devicesErrorCodes

/** A refusal by the devices module: a ChainError (so the chain maps it) that carries the module's own code. */
export class DevicesError extends ChainError {
  static override name = 'DevicesError'
  override name = 'DevicesError'
  readonly moduleCode: DevicesErrorCode

  constructor(moduleCode: DevicesErrorCode, message: string) {
    super(devicesErrorCodes[moduleCode], `${moduleCode}: ${message}`)
    this.moduleCode = moduleCode
  }
}

/** The attestation reason as a module code. */
export function attestationErrorCode(reason: AttestationRejectReason): DevicesErrorCode {
  return `DEVICES_ATTESTATION_${reason.toUpperCase()}` as DevicesErrorCode
}

const logPattern = /^[A-Z_]+: (DEVICES_[A-Z_]+):/

/** The module code inside a TxResult log (undefined if the failure is not the devices module's). */
export function devicesErrorCodeOfLog(log: string): DevicesErrorCode | undefined {
  const code = logPattern.exec(log)?.[1]
  return code !== undefined && code in devicesErrorCodes ? (code as DevicesErrorCode) : undefined
}
