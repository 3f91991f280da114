/** Stable codes for operating errors of the verifier (verdicts are values, not errors). */
export type VerifierErrorCode =
  | 'VERIFIER_BAD_PARAMS' // chain parameters out of range
  | 'VERIFIER_BAD_INPUT' // epoch inputs inconsistent (e.g. an epoch out of order, a slot without entropy)

export class VerifierError extends Error {
  static override name = 'VerifierError'
  override name = 'VerifierError'
  readonly code: VerifierErrorCode

  constructor(code: VerifierErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
