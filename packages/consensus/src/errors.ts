export type ConsensusErrorCode =
  | 'CONSENSUS_INVALID_ARGUMENT'
  | 'CONSENSUS_INVALID_VALIDATOR_SET'
  | 'CONSENSUS_INVALID_BLOCK'
  | 'CONSENSUS_INVALID_COMMIT'
  | 'CONSENSUS_INVALID_EVIDENCE'
  | 'CONSENSUS_DOUBLE_SIGN_REFUSED'
  | 'CONSENSUS_SIGNER_STORE'

/** Operating errors of consensus: bad input, a refused signature, an invalid certificate. */
export class ConsensusError extends Error {
  static override name = 'ConsensusError'
  override name = 'ConsensusError'
  readonly code: ConsensusErrorCode
  constructor(code: ConsensusErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
