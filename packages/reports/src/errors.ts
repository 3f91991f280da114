/** Stable codes for misuse of the report API by local code (untrusted bytes raise CodecError instead). */
export type ReportErrorCode =
  | 'REPORT_BAD_CHAIN_ID' // empty or longer than chainIdBytesMax
  | 'REPORT_BAD_SIGNATURE_LENGTH' // a signer returned something other than 64 bytes
  | 'REPORT_BAD_BEACON_INPUT' // entropy of the wrong size, or an empty device id

export class ReportError extends Error {
  static override name = 'ReportError'
  override name = 'ReportError'
  readonly code: ReportErrorCode

  constructor(code: ReportErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
