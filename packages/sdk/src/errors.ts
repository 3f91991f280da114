/** Errors the SDK raises. API errors keep the server's code (`API_*`). */
export type SdkErrorCode = 'SDK_HTTP' | 'SDK_NETWORK' | 'SDK_BAD_RESPONSE' | 'SDK_PROOF_INVALID' | 'SDK_GRAPHQL' | 'SDK_MULTISIG'

export class SdkError extends Error {
  static override name = 'SdkError'
  override name = 'SdkError'
  readonly code: SdkErrorCode | `API_${string}`
  readonly status: number | null
  readonly details: unknown
  constructor(code: SdkErrorCode | `API_${string}`, message: string, init: { status?: number; details?: unknown } = {}) {
    super(message)
    this.code = code
    this.status = init.status ?? null
    this.details = init.details
  }
}
