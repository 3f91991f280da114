import type { Validator } from './types.ts'

/**
 * The contract between consensus and the state machine (ABCI++ in CometBFT terms).
 * Consensus decides blocks; its driver (the simulator, the node) hands each decided
 * block to the Application and feeds the result back into the reducer.
 */

/** What a validator did wrong, as the application sees it (from committed evidence). */
export interface Misbehavior {
  kind: 'duplicate-vote'
  validator: Uint8Array
  /** Height of the offence (the votes' height). */
  height: number
  /** Time of the block at the offence height. */
  timeMs: number
  validatorPower: number
  totalPower: number
}

export interface LastCommitVote {
  validator: Uint8Array
  power: number
  signed: boolean
}

export interface FinalizeBlockRequest {
  height: number
  timeMs: number
  proposer: Uint8Array
  txs: Uint8Array[]
  /** Who signed the previous block's commit (for downtime tracking and proposer/validator rewards). Empty at height 1. */
  lastCommitVotes: LastCommitVote[]
  misbehavior: Misbehavior[]
}

export interface AppEvent {
  type: string
  attributes: Record<string, string>
}

export interface TxResult {
  /** 0 = ok. */
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
  /**
   * Changes by public key (power 0 removes, an unknown key is added, a known key
   * gets the new power); applied by consensus at height + 2 as in CometBFT. A full
   * replacement is expressed by listing every new key and a 0 for every old one.
   */
  validatorUpdates: ValidatorUpdate[]
  /** Goes into the header of height + 1. */
  stateRoot: Uint8Array
  events: AppEvent[]
}

export interface CheckTxResponse {
  code: number
  log: string
  sender?: Uint8Array
  nonce?: number
  fee?: bigint
}

export interface PrepareProposalRequest {
  height: number
  timeMs: number
  txs: Uint8Array[]
  bytesMax: number
}

export interface ProcessProposalRequest {
  height: number
  timeMs: number
  txs: Uint8Array[]
}

export interface Application {
  /** Called once at height 1 (or on an empty store): returns the initial validator set and state root. */
  initChain(): { validators: Validator[]; stateRoot: Uint8Array }
  /** Mempool admission (signature, nonce, balance, fee, size); deterministic given the current state. */
  checkTx(tx: Uint8Array): CheckTxResponse
  /** The proposer picks txs for a block from mempool candidates, in order, within bytesMax. */
  prepareProposal(req: PrepareProposalRequest): Uint8Array[]
  /** Validators check a proposal's txs before prevoting for it (e.g. all decode). */
  processProposal(req: ProcessProposalRequest): boolean
  /** Executes a decided block; a pure function of (state, request). Async only because computing the state root may touch the store. */
  finalizeBlock(req: FinalizeBlockRequest): Promise<FinalizeBlockResponse>
  /** Makes the finalized block's state durable; after it returns, the new state root is the committed one. */
  commit(): Promise<void>
}
