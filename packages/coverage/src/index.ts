export { coverageErrorCodes, coverageErrorCodeOfLog, CoverageError, type CoverageErrorCode } from './errors.ts'
export { defaultCoverageChainParams, defaultShareSchedule, parseCoverageGenesis, shareBpsAt, type CoverageGenesis } from './genesis.ts'
export { coverageKeys } from './keys.ts'
export {
  accountedEscrowMicro,
  coverage,
  escrowTransitAddress,
  settlementsPerBoundaryMax,
  type Coverage,
  type CoverageInit,
} from './module.ts'
export {
  acceptedPayouts,
  committedModuleStore,
  coverageParamsOf,
  epochState,
  escrowOf,
  escrowTotalMicro,
  reserve,
  shareSchedule,
  submissions,
  verifierOf,
  verifiers,
} from './queries.ts'
export {
  chunksPerEpochMax,
  coverageMessages,
  merkleProofSchema,
  payoutsPerChunkMax,
  proofSiblingsMax,
  reviewersMax,
  scheduleStepsMax,
  type CoverageParamsOnChain,
  type DeviceEscrow,
  type EpochState,
  type Reserve,
  type ShareStep,
  type Submission,
  type VerifierState,
} from './schemas.ts'
