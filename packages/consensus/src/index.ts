export * from './types.ts'
export type * from './app.ts'
export { ConsensusError, type ConsensusErrorCode } from './errors.ts'
export {
  consensusConfig,
  timeoutMs,
  cometBftTimeouts,
  devnetTimeouts,
  type ConsensusInit,
  type ConsensusConfig,
  type TimeoutStep,
} from './config.ts'
export {
  createValidatorSet,
  finishSet,
  applyValidatorUpdates,
  incrementProposerPriority,
  proposerOf,
  findByAddress,
  hashOfValidatorSet,
  isTwoThirds,
  isOneThird,
  bytesEqual,
  compareBytes,
  totalPowerMax,
  priorityWindowSizeFactor,
  type ValidatorSet,
  type PrioritizedValidator,
} from './validator-set.ts'
export {
  verifyCommit,
  verifyEvidence,
  checkVotePair,
  commitVote,
  evidenceKey,
  isCanonicalVoteOrder,
  defaultVerifySignature,
  type VerifySignature,
  type VerifyCommitInit,
  type CommitTally,
  type CommitInvalidReason,
  type EvidenceInvalidReason,
  type EvidenceContext,
  type HeightRecord,
} from './verify.ts'
export {
  PrivValidator,
  memorySignerStateStore,
  signStepProposal,
  signStepPrevote,
  signStepPrecommit,
  type LastSignState,
  type SignerStateStore,
} from './signer.ts'
export {
  createConsensus,
  type Consensus,
  type ConsensusState,
  type ConsensusEvent,
  type ConsensusAction,
  type ConsensusHooks,
  type StepResult,
  type RejectReason,
  type RoundStep,
  type Genesis,
  type BlockInvalidReason,
  type VotePair,
} from './machine.ts'
export {
  verifyLightBlock,
  LightClientError,
  type LightClientErrorCode,
  type LightClientInit,
  type TrustedBlock,
  type LightBlock,
  type LightVerdict,
} from './light-client.ts'
