export {
  runCoverageSim,
  formatSimTable,
  honestFlagBreakdown,
  cheatingReasons,
  type CoverageSimInit,
  type CoverageSimResult,
  type KindRow,
  type SimEpochSummary,
} from './run.ts'
export {
  buildWorld,
  simulateEpoch,
  warmHistory,
  adversaryKinds,
  simRegions,
  type World,
  type WorldInit,
  type SimDevice,
  type AdversaryKind,
  type DeviceKind,
} from './world.ts'
