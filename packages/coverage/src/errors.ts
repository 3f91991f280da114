import { ChainError, type ChainErrorCode } from '@terrane/chain'

/**
 * Stable error codes of the coverage module, each mapped to the chain's numeric TxResult code
 * (module rules are CHAIN_BAD_MESSAGE, as the chain README says). The module code is the first
 * word of the message: a TxResult log reads `CHAIN_BAD_MESSAGE: COVERAGE_NOT_AGREED: ...`.
 */
export const coverageErrorCodes = {
  COVERAGE_NOT_VERIFIER: 'CHAIN_UNAUTHORIZED', // the sender is not an active registered verifier
  COVERAGE_VERIFIER_EXISTS: 'CHAIN_BAD_MESSAGE',
  COVERAGE_BOND_TOO_LOW: 'CHAIN_BAD_MESSAGE', // below bondMinMicro
  COVERAGE_EPOCH_NOT_OVER: 'CHAIN_BAD_MESSAGE', // a digest for the current or a future epoch
  COVERAGE_EPOCH_TOO_OLD: 'CHAIN_BAD_MESSAGE', // outside submitWindowEpochs
  COVERAGE_ALREADY_SUBMITTED: 'CHAIN_BAD_MESSAGE', // one digest per verifier per epoch
  COVERAGE_NOT_AGREED: 'CHAIN_BAD_MESSAGE', // no quorum digest for this epoch yet
  COVERAGE_ALREADY_COMPLETE: 'CHAIN_BAD_MESSAGE', // the payout list of this epoch is already on chain
  COVERAGE_BAD_CHUNK: 'CHAIN_BAD_MESSAGE', // chunk out of order
  COVERAGE_PAYOUTS_ROOT_MISMATCH: 'CHAIN_BAD_MESSAGE', // the uploaded list does not hash to the agreed payoutsRoot
  COVERAGE_BAD_PAYOUT: 'CHAIN_BAD_MESSAGE', // amounts that do not add up, a bad owner address, a duplicate device
  COVERAGE_UNKNOWN_REVIEWER: 'CHAIN_UNAUTHORIZED', // appeal signed by a key not in the reviewer list
  COVERAGE_BAD_APPEAL_SIGNATURE: 'CHAIN_BAD_SIGNATURE',
  COVERAGE_APPEAL_USED: 'CHAIN_BAD_MESSAGE', // the same ruling twice
  COVERAGE_NO_ESCROW: 'CHAIN_BAD_MESSAGE', // nothing held for this device
  COVERAGE_NO_SUBMISSION: 'CHAIN_BAD_MESSAGE', // the accused verifier submitted nothing for this epoch
  COVERAGE_NOT_DISAGREEING: 'CHAIN_BAD_MESSAGE', // the accused verifier signed the agreed digest
  COVERAGE_BAD_PROOF: 'CHAIN_BAD_MESSAGE', // a Merkle proof does not verify against its root
  COVERAGE_PAYOUT_NOT_WRONG: 'CHAIN_BAD_MESSAGE', // the two proven payouts are for different devices or equal
  COVERAGE_ALREADY_SLASHED: 'CHAIN_BAD_MESSAGE', // this submission was already proven wrong
} as const satisfies Record<string, ChainErrorCode>

export type CoverageErrorCode = keyof typeof coverageErrorCodes

/** A refusal by the coverage module: a ChainError carrying the module's own code. */
export class CoverageError extends ChainError {
  static override name = 'CoverageError'
  override name = 'CoverageError'
  readonly moduleCode: CoverageErrorCode

  constructor(moduleCode: CoverageErrorCode, message: string) {
    super(coverageErrorCodes[moduleCode], `${moduleCode}: ${message}`)
    this.moduleCode = moduleCode
  }
}

const logPattern = /^[A-Z_]+: (COVERAGE_[A-Z_]+):/

/** The module code inside a TxResult log (undefined if the failure is not the coverage module's). */
export function coverageErrorCodeOfLog(log: string): CoverageErrorCode | undefined {
  const code = logPattern.exec(log)?.[1]
  return code !== undefined && code in coverageErrorCodes ? (code as CoverageErrorCode) : undefined
}
