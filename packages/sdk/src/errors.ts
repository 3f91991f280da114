/** Errors the SDK raises. API errors keep the server's code (`API_*`). */
export type SdkErrorCode = 'SDK_HTTP' | 'SDK_NETWORK' | 'SDK_BAD_RESPONSE' | 'SDK_PROOF_INVALID' | 'SDK_GRAPHQL' | 'SDK_MULTISIG'

export class SdkError extends Error {
  static override name = 'SdkError'
  override name = 'SdkError'
  readonly code: SdkErrorCode | `API_${string}`
  readonly status: number | null
  readonly details: unknown
  /**
   * When the server said to come back (HTTP Retry-After, in ms): set for `API_MEMPOOL_FULL`
   * (503, the node is overloaded: nothing was pooled) and `API_RATE_LIMITED` (429). Null otherwise.
   */
  readonly retryAfterMs: number | null
  constructor(
    code: SdkErrorCode | `API_${string}`,
    message: string,
    init: { status?: number; details?: unknown; retryAfterMs?: number | null } = {},
  ) {
    super(message)
    this.code = code
    this.status = init.status ?? null
    this.details = init.details
    this.retryAfterMs = init.retryAfterMs ?? null
  }

  /** Whether the node refused for overload or rate (retry later, unchanged), not for the request itself. */
  get isRetryable(): boolean {
    return this.retryAfterMs !== null
  }
}
