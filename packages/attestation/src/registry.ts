import { createHash } from 'node:crypto'

/**
 * A manufacturer as the chain stores it (registered by governance or the genesis admin
 * multisig). The verifier takes it as input; it never fetches anything.
 */
export interface ManufacturerRegistry {
  /** Stable id, e.g. `acme-sensors`. */
  readonly manufacturerId: string
  /** DER of each root certificate this manufacturer issues device (or TPM EK) chains under. */
  readonly rootCertificatesDer: readonly Uint8Array[]
  /** Lower-case hex SHA-256 of the DER of revoked certificates (roots, intermediates or devices). */
  readonly revokedFingerprintsSha256: readonly string[]
  /**
   * Lower-case hex serial numbers (no leading zero bytes) of revoked certificates issued anywhere
   * under this manufacturer's roots. Serials are unique per issuer only: use fingerprints when a
   * manufacturer runs several intermediates that may reuse serials.
   */
  readonly revokedSerials: readonly string[]
}

/** Lower-case hex SHA-256 of a certificate's DER: the fingerprint used for revocation. */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/** Canonical serial form: lower-case hex without leading zero bytes (`'00a1'` -> `'a1'`). */
export function normalizeSerial(serialHex: string): string {
  let s = serialHex.toLowerCase()
  if (s.length % 2 === 1) s = '0' + s
  while (s.length > 2 && s.startsWith('00')) s = s.slice(2)
  return s
}
