export { VerifierError, type VerifierErrorCode } from './errors.ts'
export {
  coverageParams,
  coverageShareBps,
  defaultCoverageParams,
  type CoverageParams,
  type PathLossModel,
  type CoverageShareStep,
} from './params.ts'
export { scheduleChallenges, type ChallengeSlot, type ChallengeSchedule, type ScheduleInput } from './challenges.ts'
export { hashDraw, SeededRng } from './rng.ts'
export {
  freeSpaceLossDb,
  freeSpaceRssiMaxDbm,
  pathLossDb,
  distanceForLossMeters,
  normalCdf,
  normalQuantile,
  rssiProbitScore,
  hearingProbability,
  speedOfLightMps,
} from './model.ts'
export { cellCentre, distanceMeters, res11GridDistance, isLocationCell, type LatLng } from './geo.ts'
export { multilaterate, locationTrustPpm, excessDistanceMeters, type LocationEstimate, type RangeObservation } from './location.ts'
export { hexDensityScales, hexDensityTable, scalePpm, type DensityScale } from './density.ts'
export { allocate, beaconUnitsPpm, witnessUnitsPpm, rewardUnitTarget } from './rewards.ts'
export { verifyReports, type VerificationResult, type BeaconRecord, type WitnessRecord } from './verify.ts'
export { computeStatistics, type Flag, type StatisticsResult } from './stats.ts'
export { scoreEpoch, type ScoringInput, type ScoringResult, type BeaconSummary, type DeviceScore } from './score.ts'
export {
  runEpoch,
  payoutProof,
  settlementPayload,
  settlementSchema,
  epochDigestSchema,
  type EpochResult,
  type EpochDigest,
  type Explanation,
  type Settlement,
} from './epoch.ts'
export { diagnose } from './explain.ts'
export {
  beaconReasons,
  witnessReasons,
  flagKinds,
  verdictSchema,
  payoutSchema,
  appealSchema,
  emptyHistory,
  type BeaconReason,
  type WitnessReason,
  type FlagKind,
  type Verdict,
  type Payout,
  type DeviceRecord,
  type DeviceHistory,
  type CoverageHistory,
  type EscrowEntry,
  type Denylist,
  type AppealRuling,
  type EpochInputs,
} from './types.ts'
