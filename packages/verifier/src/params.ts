import { VerifierError } from './errors.ts'

const hourMs = 3_600_000

/** Path-loss model shared by the RSSI rules, the statistics and multilateration. */
export interface PathLossModel {
  /** Log-distance exponent n (2 = free space; 2.7-3.5 urban). */
  exponent: number
  /** Reference distance d0 for PL(d0) = free-space loss at d0. */
  referenceMeters: number
  /** Standard deviation of log-normal shadowing, dB. */
  shadowingDb: number
  /** Weakest signal a receiver decodes (LoRa SF9 about -126 dBm; we use a margin). */
  sensitivityDbm: number
  /**
   * Fast fading, dB: the part of the shadowing that changes from one reception to the next (the rest is
   * static: the same obstacles every time, and the same in both directions of a link). Reciprocity and
   * co-location tests compare receptions that share the static part, so they need only this one.
   */
  fastFadingDb: number
}

/** A step of the genesis coverage-share schedule: from `fromEpoch` on, coverage gets `shareBps` of emission. */
export interface CoverageShareStep {
  fromEpoch: number
  shareBps: number
}

/** Chain parameters of Proof-of-Coverage (genesis; changeable by governance only). */
export interface CoverageParams {
  chainId: string
  /** Epoch length; challenges are scheduled in slots inside it. @default 6 h */
  epochMs: number
  /** Challenge slots per epoch; each slot has its own block entropy. @default 6 */
  slotsPerEpoch: number
  /** Probability (parts per million) that an eligible device is challenged in a slot. @default 166_667 */
  challengePpm: number
  /** Rate limit: one beacon per device per this interval (Helium: 6 h). */
  beaconIntervalMsMin: number
  /** Helium: 4,000 ms. */
  witnessDelayMsMax: number
  /** Helium: 100 kHz. */
  frequencyOffsetHzMax: number
  /** Helium: 8 cells at H3 resolution 11. */
  witnessCellsMin: number
  /** Helium: 100 km. */
  witnessDistanceMetersMax: number
  /** Helium: 14 witnesses rewarded per beacon. */
  witnessesPerBeaconMax: number
  /** Helium: a valid beacon / witness within 48 h. */
  reciprocityWindowMs: number
  /** Helium HIP-17/104: active = reciprocal beacon in the last 60 h. */
  densityActiveWindowMs: number
  pathLoss: PathLossModel
  /** Device-level RSSI plausibility: flag when the mean probit score exceeds this many standard errors. */
  rssiZMax: number
  /** Samples needed before the RSSI statistics may flag. */
  rssiSamplesMin: number
  /** Flag regular RSSI when the variance of probit scores falls below this (honest: 1). */
  rssiVarianceMin: number
  /** Expected witnesses (by the model) above which an empty neighbourhood is suspicious. */
  silenceExpectedMin: number
  /** Flag when fewer than this share (ppm) of the expected nearby devices heard the device. */
  silenceHeardPpmMin: number
  /**
   * Significance of every statistical flag: the probability that an honest device trips one test in an
   * epoch, under the path-loss model. @default 1e-5
   */
  flagPValueMax: number
  /** Co-location: fewest common observations (shared witnesses plus shared beacons heard) for a verdict. */
  colocationCommonMin: number
  /** Co-location is only suspicious between devices asserted at least this far apart. */
  colocationApartMetersMin: number
  /** Reciprocity: floor on the probability that a reception is missed (collisions, duty cycle, downtime). */
  receptionLossPpm: number
  /** Reciprocity: fewest unreciprocated links before a flag. */
  reciprocityMissesMin: number
  /** Owner affinity: flag owners whose devices interact mostly with each other. */
  ownerAffinityPpmMax: number
  ownerInteractionsMin: number
  /** Location trust: standard errors of the estimate forgiven before the HIP-119 distance table applies. */
  locationSigmaAllowance: number
  /**
   * Epochs of statistical tallies (reciprocity, selective listening, unreciprocated claims) summed for the
   * cross-epoch tests, the current one included. 1 = single-epoch evidence only. @default 6
   */
  evidenceEpochs: number
  /** Weight kept per epoch by carried link evidence (location, co-location). 0 = none carried. @default 0.5 */
  linkEvidenceDecay: number
  /** Beacons must carry local entropy mixed into their payload (Helium's remote + local entropy). @default true */
  localEntropyRequired: boolean
  /** Escrow released after this many consecutive clean epochs (automatic re-check). */
  escrowRecheckEpochs: number
  /** Escrow forfeited when older than this many epochs. */
  escrowHoldEpochs: number
  /** DePIN emission per epoch, micro-TRN. */
  emissionPerEpochMicro: bigint
  /** Coverage share of emission by epoch (step function, sorted by fromEpoch). Data-only phase: shareBps 0. */
  coverageSchedule: CoverageShareStep[]
  /** Share of the coverage pool for beaconers (Helium 6 of 30); the rest pays witnesses. */
  beaconShareBps: number
  /** Ed25519 keys (hex) of appeal reviewers appointed by governance. */
  appealReviewerKeys: string[]
}

export const defaultCoverageParams: CoverageParams = {
  chainId: 'terrane-devnet',
  epochMs: 6 * hourMs,
  slotsPerEpoch: 6,
  challengePpm: 166_667,
  beaconIntervalMsMin: 6 * hourMs,
  witnessDelayMsMax: 4_000,
  frequencyOffsetHzMax: 100_000,
  witnessCellsMin: 8,
  witnessDistanceMetersMax: 100_000,
  witnessesPerBeaconMax: 14,
  reciprocityWindowMs: 48 * hourMs,
  densityActiveWindowMs: 60 * hourMs,
  pathLoss: { exponent: 3.5, referenceMeters: 1, shadowingDb: 6, sensitivityDbm: -120, fastFadingDb: 2 },
  rssiZMax: 4,
  rssiSamplesMin: 6,
  rssiVarianceMin: 0.15,
  silenceExpectedMin: 4,
  silenceHeardPpmMin: 200_000,
  flagPValueMax: 1e-5,
  colocationCommonMin: 12,
  colocationApartMetersMin: 300,
  receptionLossPpm: 20_000,
  reciprocityMissesMin: 3,
  ownerAffinityPpmMax: 600_000,
  ownerInteractionsMin: 8,
  locationSigmaAllowance: 4,
  evidenceEpochs: 6,
  linkEvidenceDecay: 0.5,
  // The device simulator and the devnet's simulated devices send it; a network of older agents sets it false.
  localEntropyRequired: true,
  escrowRecheckEpochs: 3,
  escrowHoldEpochs: 12,
  emissionPerEpochMicro: 1_000_000_000_000n,
  // Coverage is a bootstrap subsidy (Helium removed it in 2026, HIP-147): 30% of emission, then 20%,
  // 10%, then the data-only phase.
  coverageSchedule: [
    { fromEpoch: 0, shareBps: 3_000 },
    { fromEpoch: 1_460, shareBps: 2_000 },
    { fromEpoch: 2_920, shareBps: 1_000 },
    { fromEpoch: 4_380, shareBps: 0 },
  ],
  beaconShareBps: 2_000,
  appealReviewerKeys: [],
}

/** Merges overrides into the defaults and checks every bound once. */
export function coverageParams(overrides: Partial<CoverageParams> = {}): CoverageParams {
  const p: CoverageParams = { ...defaultCoverageParams, ...overrides }
  const bad = (m: string): never => {
    throw new VerifierError('VERIFIER_BAD_PARAMS', m)
  }
  if (p.slotsPerEpoch < 1 || p.slotsPerEpoch > 1_440) bad('slotsPerEpoch outside 1..1440')
  if (p.challengePpm < 0 || p.challengePpm > 1_000_000) bad('challengePpm outside 0..1e6')
  if (p.witnessesPerBeaconMax < 1) bad('witnessesPerBeaconMax must be at least 1')
  if (p.beaconShareBps < 0 || p.beaconShareBps > 10_000) bad('beaconShareBps outside 0..10000')
  if (p.emissionPerEpochMicro < 0n) bad('emissionPerEpochMicro negative')
  if (p.pathLoss.exponent < 2 || p.pathLoss.exponent > 6) bad('path-loss exponent outside 2..6')
  if (!(p.pathLoss.fastFadingDb > 0) || p.pathLoss.fastFadingDb > p.pathLoss.shadowingDb) bad('fastFadingDb outside (0, shadowingDb]')
  if (!(p.flagPValueMax > 0 && p.flagPValueMax < 0.05)) bad('flagPValueMax outside (0, 0.05)')
  if (!Number.isInteger(p.evidenceEpochs) || p.evidenceEpochs < 1 || p.evidenceEpochs > 64) bad('evidenceEpochs outside 1..64')
  if (!(p.linkEvidenceDecay >= 0 && p.linkEvidenceDecay < 1)) bad('linkEvidenceDecay outside [0, 1)')
  if (p.receptionLossPpm < 0 || p.receptionLossPpm >= 1_000_000) bad('receptionLossPpm outside 0..1e6')
  if (p.coverageSchedule.length === 0 || p.coverageSchedule[0]?.fromEpoch !== 0) bad('coverageSchedule must start at epoch 0')
  for (let i = 1; i < p.coverageSchedule.length; i++)
    if ((p.coverageSchedule[i]?.fromEpoch ?? 0) <= (p.coverageSchedule[i - 1]?.fromEpoch ?? 0)) bad('coverageSchedule not sorted')
  for (const s of p.coverageSchedule) if (s.shareBps < 0 || s.shareBps > 10_000) bad('coverage shareBps outside 0..10000')
  return p
}

/** The coverage share (bps) of emission in an epoch, from the genesis schedule. */
export function coverageShareBps(params: CoverageParams, epoch: number): number {
  let share = 0
  for (const step of params.coverageSchedule) if (epoch >= step.fromEpoch) share = step.shareBps
  return share
}
