/** Stable codes for the ingest's operating errors (configuration and misuse, never a bad report). */
export type IngestErrorCode =
  | 'INGEST_CONFIG' // an Init value out of range, or a missing component for the chosen mode
  | 'INGEST_BAD_TOKEN' // a session token that cannot be decoded (device side building one)
  | 'INGEST_NOT_STARTED' // a method that needs a running service
  | 'INGEST_BROKER' // the external broker refused the connection or the subscription
  | 'INGEST_VERIFIER' // a signature-pool worker failed (its reports are refused as verifier_failed)

export class IngestError extends Error {
  static override name = 'IngestError'
  override name = 'IngestError'
  readonly code: IngestErrorCode
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
