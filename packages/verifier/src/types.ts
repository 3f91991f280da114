import { t, type Infer } from '@terrane/codec'
import type { SignedDeviceReport } from '@terrane/reports'
import type { ChallengeSlot } from './challenges.ts'
import type { LinkWindow } from './consistency.ts'
import type { CoverageParams } from './params.ts'

/** Why a beacon was refused (the vocabulary of dashboards and appeals). */
export const beaconReasons = [
  'unknown_device',
  'bad_signature',
  'malformed_body',
  'replayed',
  'denylisted_key',
  'attestation_failed',
  'no_location',
  'stale_entropy',
  'not_challenged',
  'payload_mismatch',
  'duplicate',
  'no_witnesses',
  'not_reciprocal',
] as const
export type BeaconReason = (typeof beaconReasons)[number]

/** Why a witness report was refused, in the order the rules run (Helium's order, plus ours). */
export const witnessReasons = [
  'unknown_device',
  'bad_signature',
  'malformed_body',
  'replayed',
  'denylisted_key',
  'attestation_failed',
  'self_witness',
  'stale_entropy',
  'unknown_beacon',
  'denylisted_pair',
  'beacon_invalid',
  'late_witness',
  'payload_mismatch',
  'frequency_mismatch',
  'region_mismatch',
  'no_location',
  'too_close',
  'too_far',
  'rssi_above_free_space',
  'duplicate',
  'not_reciprocal',
] as const
export type WitnessReason = (typeof witnessReasons)[number]

/** Statistical defences: flags put earnings into escrow, they never deny. */
export const flagKinds = [
  'rssi_implausible',
  'rssi_too_regular',
  'pair_rssi_implausible',
  'silent_neighbourhood',
  'colocated',
  'regular_grid',
  'location_mismatch',
  'selective_witness',
  'reception_unreciprocated',
  'reception_improbable',
  'rssi_not_reciprocal',
  'owner_affinity',
  'witness_ring',
  'rssi_unstable',
  'owner_links_inconsistent',
  'rssi_inconsistent',
] as const
export type FlagKind = (typeof flagKinds)[number]

export type VerdictStatus = 'valid' | 'selected' | 'unselected' | 'rejected' | 'other_kind'

export const verdictSchema = t.struct({
  reportId: t.bytes({ length: 32 }),
  deviceId: t.string({ bytesMax: 90 }),
  kind: t.string({ bytesMax: 16 }),
  status: t.enumOf(['valid', 'selected', 'unselected', 'rejected', 'other_kind'] as const),
  reason: t.optional(t.string({ bytesMax: 32 })),
  /** For witness reports: the beacon report judged against. */
  beaconReportId: t.optional(t.bytes({ length: 32 })),
})
export type Verdict = Infer<typeof verdictSchema>

export const payoutSchema = t.struct({
  deviceId: t.string({ bytesMax: 90 }),
  owner: t.string({ bytesMax: 128 }),
  /** This epoch's allocation from the coverage pool. */
  earnedMicro: t.u64(),
  /** Transferred now: earned (if not flagged) plus released escrow. */
  paidMicro: t.u64(),
  escrowedMicro: t.u64(),
  releasedMicro: t.u64(),
  forfeitedMicro: t.u64(),
})
export type Payout = Infer<typeof payoutSchema>

/** A device as registered on chain (attested key, owner, asserted location). */
export interface DeviceRecord {
  deviceId: string
  /** SEC1 P-256 public key of the attested device key. */
  publicKey: Uint8Array
  owner: string
  /** Asserted location: an H3 resolution-12 cell. Absent until asserted. */
  location?: string
  /** Radio region, e.g. 'EU868'. */
  region: string
  /** Receive antenna gain (for the free-space bound). */
  antennaGainDbi: number
}

export interface EscrowEntry {
  epoch: number
  amountMicro: bigint
}

/** What the verifier carries from one epoch to the next (replayable: a function of all past inputs). */
export interface DeviceHistory {
  lastSeq: number
  lastChallengeMs?: number
  lastBeaconMs?: number
  lastWitnessMs?: number
  /** Consecutive epochs without a flag (automatic escrow re-check). */
  cleanEpochs: number
  escrow: EscrowEntry[]
  /** This epoch's RSSI probit scores as a witness (sum, squares, count); earlier epochs count through carried links. */
  rssiScoreSum: number
  rssiScoreSquares: number
  rssiScoreCount: number
  /** Statistical tallies of the last `evidenceEpochs` epochs with evidence (oldest first). */
  evidence?: EpochEvidence[]
}

/**
 * One epoch's statistical tallies of a device, carried so that evidence accumulates across epochs. Each
 * tally is a sum over independent terms under the honest model (fast fading is drawn afresh for every
 * reception), so the window's sums keep their distributions: chi-square sums add their degrees of freedom,
 * miss counts stay Poisson-binomial (tested as Poisson of the summed mean: conservative).
 */
export interface EpochEvidence {
  epoch: number
  /** Reciprocity: sum of squared direction differences in fading units, and the number of links (degrees of freedom). */
  reciprocalChiSquare: number
  reciprocalLinks: number
  /** The terms above `evidenceOutlierChiSquare`, with the partner (included in the sum). */
  reciprocalOutliers: Array<{ partner: string; z2: number }>
  /** As a listener: links whose partner heard it; summed miss probabilities; the links it missed. */
  silentLinks: number
  silentMissExpected: number
  silentMissed: Array<{ partner: string; q: number }>
  /** As a claimer: links it claims to hear whose partner was listening; summed miss probabilities; links never heard back. */
  claimedLinks: number
  claimedMissExpected: number
  claimedMissed: Array<{ partner: string; q: number }>
  /** Link stability (src/stability.ts): as receiver, z^2 of its links' gain innovations and their count; as transmitter, the same over its beacons' receivers. Absent in evidence from before it existed. */
  stabilityChiSquare?: number
  stabilityLinks?: number
  stabilityTxChiSquare?: number
  stabilityTxLinks?: number
}

/**
 * A directed link's radio evidence carried across epochs (decayed weights), for the location and
 * co-location tests: more epochs hear more of a device's weak links, and average out fast fading.
 */
export interface CarriedLink {
  /** Weighted sum of path gains (dB) and the weight (receptions, decayed by `linkEvidenceDecay` per epoch). */
  gainSumDb: number
  weight: number
  /** Link budget (EIRP + receive gain), dB, and frequency of the last reception. */
  budgetDbm: number
  frequencyHz: number
  /** Asserted cells of both ends when heard: evidence is dropped when either end re-asserts elsewhere. */
  txLocation: string
  rxLocation: string
  /** Undecayed reception count and gain sum over the epochs the link was heard (the stability test's baseline). */
  rawWeight?: number
  rawGainSumDb?: number
}

export interface CoverageHistory {
  /** Last epoch applied, -1 before the first. */
  epoch: number
  devices: Map<string, DeviceHistory>
  /** Carried radio evidence: transmitter -> receiver -> link. Absent in histories from before it existed. */
  links?: Map<string, Map<string, CarriedLink>>
  /** Per-pair reception windows (link consistency test). Absent in histories from before it existed. */
  linkWindows?: Map<string, LinkWindow>
}

export function emptyHistory(): CoverageHistory {
  return { epoch: -1, devices: new Map(), links: new Map(), linkWindows: new Map() }
}

export interface Denylist {
  deviceIds: readonly string[]
  /** [beaconer, witness] */
  pairs: ReadonlyArray<readonly [string, string]>
}

/** A reviewer's signed ruling on an appeal (the evidence itself is referenced by hash). */
export interface AppealRuling {
  deviceId: string
  /** Epoch the appeal was decided in. */
  epoch: number
  /** SHA-256 of the evidence bundle the operator submitted (signed device reports, photos, surveys). */
  evidenceHash: Uint8Array
  /** Ed25519 public key of the reviewer (must be in params.appealReviewerKeys). */
  reviewerKey: Uint8Array
  signature: Uint8Array
}

export const appealSchema = t.struct({
  deviceId: t.string({ bytesMax: 90 }),
  epoch: t.uint(),
  evidenceHash: t.bytes({ length: 32 }),
})

export interface EpochInputs {
  epoch: number
  params: CoverageParams
  devices: readonly DeviceRecord[]
  slots: readonly ChallengeSlot[]
  reports: readonly SignedDeviceReport[]
  denylist?: Denylist
  /** Devices whose attestation or firmware check failed (from the attestation service). */
  attestationFailed?: readonly string[]
  appeals?: readonly AppealRuling[]
  history: CoverageHistory
}
