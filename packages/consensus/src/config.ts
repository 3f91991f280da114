import { ConsensusError } from './errors.ts'

/** Node options of the consensus engine (per node; not chain parameters except the evidence age). */
export interface ConsensusInit {
  chainId: string
  /** This node's validator address; null for a full node that follows without signing. */
  address: Uint8Array | null
  /** @default 3000 (CometBFT timeout_propose) */
  timeoutProposeMs?: number
  /** @default 500 (CometBFT timeout_propose_delta) */
  timeoutProposeDeltaMs?: number
  /** @default 1000 (CometBFT timeout_prevote) */
  timeoutPrevoteMs?: number
  /** @default 500 */
  timeoutPrevoteDeltaMs?: number
  /** @default 1000 (CometBFT timeout_precommit) */
  timeoutPrecommitMs?: number
  /** @default 500 */
  timeoutPrecommitDeltaMs?: number
  /** Pause after a decision to collect more precommits. @default 1000 (CometBFT timeout_commit) */
  timeoutCommitMs?: number
  /** Propose blocks without transactions. @default true (CometBFT create_empty_blocks) */
  isCreatingEmptyBlocks?: boolean
  /** When not creating empty blocks, propose one anyway after this long; 0 waits for transactions forever. @default 0 */
  emptyBlocksIntervalMs?: number
  /** Bound on a block's transaction bytes. @default 4 MiB */
  blockTxBytesMax?: number
  /** Evidence older than this many blocks is refused. Chain parameter. @default 100_000 (CometBFT max_age_num_blocks) */
  evidenceMaxAgeBlocks?: number
  /** Evidence older than this is refused; keep it below the unbonding period. Chain parameter. @default 48 h (CometBFT max_age_duration) */
  evidenceMaxAgeMs?: number
  /** Votes kept from rounds ahead of the current one (bounds memory against spam). @default 50 */
  roundsAheadMax?: number
}

export type ConsensusConfig = Required<ConsensusInit>

/** CometBFT's default timeouts (config/config.go). */
export const cometBftTimeouts = {
  timeoutProposeMs: 3000,
  timeoutProposeDeltaMs: 500,
  timeoutPrevoteMs: 1000,
  timeoutPrevoteDeltaMs: 500,
  timeoutPrecommitMs: 1000,
  timeoutPrecommitDeltaMs: 500,
  timeoutCommitMs: 1000,
} as const

/** Faster timeouts for a local devnet and the simulator (sub-second blocks under load). */
export const devnetTimeouts = {
  timeoutProposeMs: 1000,
  timeoutProposeDeltaMs: 200,
  timeoutPrevoteMs: 300,
  timeoutPrevoteDeltaMs: 100,
  timeoutPrecommitMs: 300,
  timeoutPrecommitDeltaMs: 100,
  timeoutCommitMs: 200,
} as const

function nonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ConsensusError('CONSENSUS_INVALID_ARGUMENT', `${name} must be a non-negative integer`)
  return value
}

/** Validates the options once, with defaults filled in. */
export function consensusConfig(init: ConsensusInit): ConsensusConfig {
  if (init.chainId.length === 0) throw new ConsensusError('CONSENSUS_INVALID_ARGUMENT', 'chainId must not be empty')
  if (init.address !== null && init.address.length !== 20)
    throw new ConsensusError('CONSENSUS_INVALID_ARGUMENT', 'address must be 20 bytes')
  const c: ConsensusConfig = {
    chainId: init.chainId,
    address: init.address,
    timeoutProposeMs: init.timeoutProposeMs ?? cometBftTimeouts.timeoutProposeMs,
    timeoutProposeDeltaMs: init.timeoutProposeDeltaMs ?? cometBftTimeouts.timeoutProposeDeltaMs,
    timeoutPrevoteMs: init.timeoutPrevoteMs ?? cometBftTimeouts.timeoutPrevoteMs,
    timeoutPrevoteDeltaMs: init.timeoutPrevoteDeltaMs ?? cometBftTimeouts.timeoutPrevoteDeltaMs,
    timeoutPrecommitMs: init.timeoutPrecommitMs ?? cometBftTimeouts.timeoutPrecommitMs,
    timeoutPrecommitDeltaMs: init.timeoutPrecommitDeltaMs ?? cometBftTimeouts.timeoutPrecommitDeltaMs,
    timeoutCommitMs: init.timeoutCommitMs ?? cometBftTimeouts.timeoutCommitMs,
    isCreatingEmptyBlocks: init.isCreatingEmptyBlocks ?? true,
    emptyBlocksIntervalMs: init.emptyBlocksIntervalMs ?? 0,
    blockTxBytesMax: init.blockTxBytesMax ?? 4 * 1024 * 1024,
    evidenceMaxAgeBlocks: init.evidenceMaxAgeBlocks ?? 100_000,
    evidenceMaxAgeMs: init.evidenceMaxAgeMs ?? 48 * 3600 * 1000,
    roundsAheadMax: init.roundsAheadMax ?? 50,
  }
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number') nonNegative(k, v)
  return c
}

export type TimeoutStep = 'propose' | 'prevote' | 'precommit' | 'commit' | 'wait-txs'

/** Timeouts grow linearly with the round so that eventually they exceed the (unknown) message delay. */
export function timeoutMs(config: ConsensusConfig, step: TimeoutStep, round: number): number {
  switch (step) {
    case 'propose':
      return config.timeoutProposeMs + round * config.timeoutProposeDeltaMs
    case 'prevote':
      return config.timeoutPrevoteMs + round * config.timeoutPrevoteDeltaMs
    case 'precommit':
      return config.timeoutPrecommitMs + round * config.timeoutPrecommitDeltaMs
    case 'commit':
      return config.timeoutCommitMs
    case 'wait-txs':
      return config.emptyBlocksIntervalMs
  }
}
