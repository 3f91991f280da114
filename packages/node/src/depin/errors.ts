/** Operating errors of the node's DePIN service (verdicts such as rejected onboardings are values). */
export const depinErrorCodes = ['DEPIN_MANUFACTURER_FILE', 'DEPIN_BAD_RESULT_FILE', 'DEPIN_SIMULATION', 'DEPIN_TX_REJECTED'] as const
export type DepinErrorCode = (typeof depinErrorCodes)[number]

export class DepinError extends Error {
  static override name = 'DepinError'
  override name = 'DepinError'
  constructor(
    readonly code: DepinErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}
