/** Stable codes of operating errors in @terrane/service (verdicts are values, not errors). */
export const serviceErrorCodes = [
  'SERVICE_BAD_CONFIG', // a parameter out of range (interval, window, weights)
  'SERVICE_BAD_INPUT', // untrusted bytes that do not decode (probe frames)
  'SERVICE_PROBE_FAILED', // a probe's response was wrong (bad signature, wrong payload)
] as const
export type ServiceErrorCode = (typeof serviceErrorCodes)[number]

export class ServiceError extends Error {
  static override name = 'ServiceError'
  override name = 'ServiceError'
  readonly code: ServiceErrorCode
  readonly details: Record<string, unknown>

  constructor(code: ServiceErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.details = details
  }
}
