/** Stable codes for every way the state store refuses a request or its own data. */
export type StateErrorCode =
  | 'STATE_INVALID_ARGUMENT' // a key, value or version of the wrong type or size
  | 'STATE_VERSION_PRUNED' // the version is older than the oldest one kept
  | 'STATE_VERSION_UNKNOWN' // the version has not been committed yet
  | 'STATE_BATCH_COMMITTED' // a batch was used after its commit
  | 'STATE_CLOSED' // the store was closed
  | 'STATE_PROOF_MALFORMED' // proof bytes of the wrong shape or length
  | 'STATE_CORRUPT' // the database holds bytes this code never writes

/** Raised for requests the store refuses; match on `code`, never on the message. */
export class StateError extends Error {
  static override name = 'StateError'
  override name = 'StateError'
  readonly code: StateErrorCode

  constructor(code: StateErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
