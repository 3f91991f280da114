/**
 * Stable error codes of the state machine. Each one is also a numeric
 * `TxResult.code` (the table below never reorders: new codes are appended).
 */
export const chainErrorCodes = {
  CHAIN_BAD_ENCODING: 1, // the transaction bytes are not a canonical envelope/body
  CHAIN_TX_TOO_LARGE: 2, // over txBytesMax
  CHAIN_WRONG_CHAIN: 3, // body.chainId is another chain's
  CHAIN_EXPIRED: 4, // current height > body.expiryHeight
  CHAIN_BAD_SIGNATURE: 5, // a signature does not verify, or a key does not belong to the sender
  CHAIN_BAD_NONCE: 6, // not exactly the sender's next nonce
  CHAIN_INSUFFICIENT_FUNDS: 7, // balance below fee or amount
  CHAIN_FEE_TOO_LOW: 8, // below txFeeMinMicro + txFeePerByteMicro * bytes
  CHAIN_UNKNOWN_MESSAGE: 9, // no registered module handles this message type
  CHAIN_BAD_MULTISIG: 10, // multisig config invalid or not matching the sender address
  CHAIN_MULTISIG_THRESHOLD: 11, // valid signatures whose weights do not reach the threshold
  CHAIN_ZERO_AMOUNT: 12, // an amount that must be positive is zero
  CHAIN_VALIDATOR_EXISTS: 13, // the sender already operates a validator
  CHAIN_VALIDATOR_NOT_FOUND: 14,
  CHAIN_CONSENSUS_KEY_IN_USE: 15, // another validator registered this consensus key
  CHAIN_BAD_COMMISSION: 16, // commission outside [0, 10000] bps
  CHAIN_DELEGATION_NOT_FOUND: 17,
  CHAIN_INSUFFICIENT_SHARES: 18, // undelegating or redelegating more than is delegated
  CHAIN_TOO_MANY_ENTRIES: 19, // unbondingEntriesMax reached for this pair
  CHAIN_REDELEGATION_TRANSITIVE: 20, // redelegating stake that is itself still redelegating in
  CHAIN_SELF_REDELEGATION: 21, // source and destination are the same validator
  CHAIN_NOT_JAILED: 22,
  CHAIN_JAIL_NOT_EXPIRED: 23,
  CHAIN_TOMBSTONED: 24, // double-signed: jailed forever
  CHAIN_SELF_STAKE_TOO_LOW: 25, // below selfStakeMinMicro
  CHAIN_VALIDATOR_SLASHED_OUT: 26, // the validator has shares but no tokens left: no new delegations
  CHAIN_BAD_KEY: 27, // a public key that is not a valid Ed25519 key
  CHAIN_UNAUTHORIZED: 28, // the sender may not do this (e.g. a multisig account registering a validator key)
  CHAIN_OVERFLOW: 29, // an amount would leave the u64 range
  CHAIN_BAD_MESSAGE: 30, // a message that decodes but breaks a module rule not covered above
  CHAIN_BAD_GENESIS: 100, // genesis file invalid (not a TxResult code; thrown by parseGenesis)
  CHAIN_BAD_HEIGHT: 101, // the driver called finalizeBlock out of order
  CHAIN_BAD_STATE: 102, // the driver called commit/finalize in the wrong sequence
  CHAIN_MODULE_CONFLICT: 103, // two modules claim the same name or message type
} as const

export type ChainErrorCode = keyof typeof chainErrorCodes

/** An operating error of the state machine, with a stable code and, where it applies, a path. */
export class ChainError extends Error {
  static override name = 'ChainError'
  override name = 'ChainError'
  readonly code: ChainErrorCode
  /** Where in the input the problem is, e.g. `validators[2].selfStake` for genesis. */
  readonly path: string

  constructor(code: ChainErrorCode, message: string, path = '') {
    super(path === '' ? message : `${path}: ${message}`)
    this.code = code
    this.path = path
  }

  /** The numeric TxResult code for this error. */
  get resultCode(): number {
    return chainErrorCodes[this.code]
  }
}

const byNumber = new Map<number, ChainErrorCode>(Object.entries(chainErrorCodes).map(([name, n]) => [n, name as ChainErrorCode]))

/** The error code name of a numeric TxResult code (undefined for 0 or an unknown number). */
export function chainErrorCodeOf(resultCode: number): ChainErrorCode | undefined {
  return byNumber.get(resultCode)
}
