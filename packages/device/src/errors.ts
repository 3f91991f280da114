/** Stable codes for the device agent's operating errors. */
export type DeviceErrorCode =
  | 'DEVICE_CONFIG' // an Init value out of range, or a missing component for the chosen mode
  | 'DEVICE_KEY_FILE' // the key file cannot be read, is not a P-256 PKCS#8 key, or is readable by others
  | 'DEVICE_SEQUENCE_FILE' // the sequence file cannot be read or written
  | 'DEVICE_NOT_CONNECTED' // a publish before start() or after stop()
  | 'DEVICE_CHALLENGE' // the ingest refused or failed to hand out a session challenge
  | 'DEVICE_CONNECT' // the broker refused the connection
  | 'DEVICE_NO_ATTESTATION' // attest() on a secure element that has no certificate chain
  | 'DEVICE_TPM' // a TPM command failed (tpm2-tools missing, no signing key, TPM error)

export class DeviceError extends Error {
  static override name = 'DeviceError'
  override name = 'DeviceError'
  readonly code: DeviceErrorCode
  constructor(code: DeviceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
