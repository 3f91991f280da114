export { DeviceError, type DeviceErrorCode } from './errors.ts'
export {
  SoftwareSecureElement,
  loadOrCreateKeyFile,
  certificatePem,
  type SecureElement,
  type SoftwareSecureElementInit,
  type AttestationEvidence,
  type X509Evidence,
} from './secure-element.ts'
export { TpmSecureElement, type TpmSecureElementInit } from './tpm-secure-element.ts'
export { MemorySequenceStore, FileSequenceStore, type SequenceStore, type FileSequenceStoreInit } from './sequence.ts'
export {
  locationResolution,
  radioBands,
  onboardingSignatureKind,
  onboardingNonceTag,
  capabilitiesSchema,
  locationCellSchema,
  deviceIdSchema,
  x509EvidenceSchema,
  attestationEvidenceSchema,
  onboardingBodySchema,
  onboardingRequestSchema,
  onboardingNonce,
  onboardingChallenge,
  onboardingSigningBytes,
  locationCell,
  isValidLocation,
  buildOnboardingRequest,
  encodeOnboardingRequest,
  type RadioBand,
  type Capabilities,
  type OnboardingBody,
  type OnboardingRequest,
  type BuildOnboardingInit,
} from './onboarding.ts'
export {
  verifyOnboardingRequest,
  type OnboardingContext,
  type OnboardingVerdict,
  type OnboardingRejectReason,
} from './onboarding-verify.ts'
export {
  deviceAgent,
  systemTimers,
  type DeviceAgent,
  type DeviceAgentInit,
  type DeviceAgentComponents,
  type AgentAuth,
  type Clock,
  type Timers,
  type FirmwareChecker,
  type FirmwareStatus,
} from './agent.ts'
export {
  createSimulatedManufacturer,
  createSimulatedRootCertificate,
  type SimulatedManufacturer,
  type SimulatedManufacturerInit,
} from './manufacturer.ts'
export { seededRng, type Rng } from './rng.ts'
export { simulatePositions, type Region, type Position } from './positions.ts'
export {
  simulateDevices,
  freeSpacePathLossDb,
  connectConcurrencyMax,
  witnessesPerBeaconMax,
  witnessDistanceKmMax,
  type SimulateDevicesInit,
  type SimulateDevicesComponents,
  type SimulatedDevice,
  type Simulation,
  type ConnectInit,
  type BeaconRoundResult,
} from './simulator.ts'
export { parseSimulateArgs, runSimulation, simulateUsage, type SimulateOptions, type SimulateSummary } from './simulate-command.ts'
