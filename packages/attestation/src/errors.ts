/**
 * Operating errors of @terrane/attestation. Expected outcomes (an attestation refused) are
 * verdicts with a reason, never these; these are for inputs a caller must not pass on
 * (a malformed key handed to a function that returns bytes) and for the TPM driver.
 */
export type AttestationErrorCode =
  | 'ATTESTATION_BAD_KEY' // not a 33- or 65-byte SEC1 P-256 point on the curve
  | 'ATTESTATION_BAD_DEVICE_ID' // wrong prefix, checksum or length
  | 'ATTESTATION_BAD_INPUT' // a structure that cannot be parsed (challenge, TPM blob, certificate)
  | 'ATTESTATION_TPM_COMMAND' // a tpm2-tools command failed (driver only)

export class AttestationError extends Error {
  static override name = 'AttestationError'
  override name = 'AttestationError'
  readonly code: AttestationErrorCode
  constructor(code: AttestationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
