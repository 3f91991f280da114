export type FirmwareErrorCode =
  | 'FIRMWARE_BAD_INPUT' // a publisher or client argument out of range
  | 'FIRMWARE_METADATA_EXPIRED' // a TUF role's metadata is past its expiry (freeze attack)
  | 'FIRMWARE_ROLLBACK' // metadata older than what the device already trusts
  | 'FIRMWARE_BAD_SIGNATURE' // signatures missing, invalid, or below the role's threshold
  | 'FIRMWARE_TARGET_MISMATCH' // downloaded firmware differs in length or hash from targets metadata
  | 'FIRMWARE_NOT_FOUND' // no such firmware target in signed metadata
  | 'FIRMWARE_FETCH' // the repository could not be reached or returned an HTTP error
  | 'FIRMWARE_UPDATE_FAILED' // any other tuf-js refusal

export class FirmwareError extends Error {
  static override name = 'FirmwareError'
  override name = 'FirmwareError'
  readonly code: FirmwareErrorCode
  constructor(code: FirmwareErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
