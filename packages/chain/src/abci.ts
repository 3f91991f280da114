// The contract between consensus and the state machine (issue 4), copied
// field for field from @terrane/consensus so that chain does not import from the
// layer above it. TypeScript's structural typing makes a ChainApp assignable to
// the consensus package's `Application`.

export interface Validator {
  /** 20 bytes: accountIdOfPublicKey(publicKey). */
  address: Uint8Array
  /** 32 bytes: the Ed25519 consensus key. */
  publicKey: Uint8Array
  /** Safe integer > 0. */
  power: number
}

export interface Misbehavior {
  kind: 'duplicate-vote'
  /** 20-byte consensus address of the offender. */
  validator: Uint8Array
  height: number
  timeMs: number
  validatorPower: number
  totalPower: number
}

export interface FinalizeBlockRequest {
  height: number
  timeMs: number
  /** 20-byte consensus address of the block's proposer. */
  proposer: Uint8Array
  txs: Uint8Array[]
  /** Who signed the previous block's commit (downtime tracking and rewards). */
  lastCommitVotes: Array<{ validator: Uint8Array; power: number; signed: boolean }>
  misbehavior: Misbehavior[]
}

export interface AppEvent {
  type: string
  attributes: Record<string, string>
}

export interface TxResult {
  /** 0 = ok, otherwise chainErrorCodes[code]. */
  code: number
  log: string
  gasUsed?: number
  events?: AppEvent[]
}

export interface ValidatorUpdate {
  publicKey: Uint8Array
  /** 0 removes the validator. */
  power: number
}

export interface FinalizeBlockResponse {
  txResults: TxResult[]
  /** Changes by public key (power 0 removes); consensus applies them at height + 2. */
  validatorUpdates: ValidatorUpdate[]
  /** Goes into the header of height + 1. */
  stateRoot: Uint8Array
  events: AppEvent[]
}

export interface CheckTxResult {
  code: number
  log: string
  sender?: Uint8Array
  nonce?: number
  fee?: bigint
}

export interface Application {
  initChain(): { validators: Validator[]; stateRoot: Uint8Array }
  checkTx(tx: Uint8Array): CheckTxResult
  prepareProposal(req: { height: number; timeMs: number; txs: Uint8Array[]; bytesMax: number }): Uint8Array[]
  processProposal(req: { height: number; timeMs: number; txs: Uint8Array[] }): boolean
  finalizeBlock(req: FinalizeBlockRequest): Promise<FinalizeBlockResponse>
  commit(): Promise<void>
}
