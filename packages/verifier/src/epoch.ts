import { encode, hashOf, merkleProof, merkleRoot, t, type MerkleProof } from '@terrane/codec'
import { verifyInDomain } from '@terrane/crypto'
import { VerifierError } from './errors.ts'
import { computeStatistics, type Flag, type StatisticsContext } from './stats.ts'
import { scoreEpoch, type BeaconSummary, type DeviceScore } from './score.ts'
import { verifyReports, type VerificationResult } from './verify.ts'
import {
  appealSchema,
  payoutSchema,
  verdictSchema,
  type AppealRuling,
  type CoverageHistory,
  type DeviceHistory,
  type DeviceRecord,
  type EpochInputs,
  type Payout,
  type Verdict,
} from './types.ts'
import type { LocationEstimate } from './location.ts'

export const epochDigestSchema = t.struct({
  epoch: t.uint(),
  poolMicro: t.u64(),
  unallocatedMicro: t.u64(),
  acceptedReportsRoot: t.bytes({ length: 32 }),
  verdictsRoot: t.bytes({ length: 32 }),
  payoutsRoot: t.bytes({ length: 32 }),
})
export type EpochDigest = ReturnType<typeof epochDigestSchema.parse> & { hash: Uint8Array }

/** Per device per epoch: why it earned what it earned. */
export interface Explanation {
  deviceId: string
  epoch: number
  beacons: Array<{ status: string; reason?: string; validWitnesses: number; selectedWitnesses: number }>
  /** Witness reports filed, by verdict status or rejection reason. */
  witnessReports: Record<string, number>
  challenged: number
  answered: number
  flags: Flag[]
  score: DeviceScore | undefined
  location?: { estimate: LocationEstimate; excessMeters: number; trustPpm: number }
  payout: Payout | undefined
  escrowHeldMicro: bigint
}

export interface EpochResult {
  epoch: number
  verdicts: Verdict[]
  payouts: Payout[]
  explanations: Map<string, Explanation>
  digest: EpochDigest
  /** Leaves of the three roots, in order (for proofs). */
  leaves: { acceptedReports: Uint8Array[]; verdicts: Uint8Array[]; payouts: Uint8Array[] }
  nextHistory: CoverageHistory
}

function appealGranted(inputs: EpochInputs, appeal: AppealRuling): boolean {
  if (appeal.epoch !== inputs.epoch) return false
  const reviewer = Buffer.from(appeal.reviewerKey).toString('hex')
  if (!inputs.params.appealReviewerKeys.includes(reviewer)) return false
  const payload = encode(appealSchema, { deviceId: appeal.deviceId, epoch: appeal.epoch, evidenceHash: appeal.evidenceHash })
  return verifyInDomain(appeal.reviewerKey, { chainId: inputs.params.chainId, kind: 'coverage-appeal' }, payload, appeal.signature)
}

/**
 * Runs one Proof-of-Coverage epoch: fixed rules, statistical defences, location and density scoring,
 * rewards and escrow. A pure function of its inputs: replaying the same inputs gives the same digest.
 *
 * @example
 * const result = runEpoch({ epoch: 7, params, devices, slots, reports, history })
 * result.digest.payoutsRoot // anchored on chain
 */
export function runEpoch(inputs: EpochInputs): EpochResult {
  if (inputs.history.epoch >= inputs.epoch)
    throw new VerifierError('VERIFIER_BAD_INPUT', `history already at epoch ${inputs.history.epoch}, cannot run ${inputs.epoch}`)
  if (inputs.slots.length === 0) throw new VerifierError('VERIFIER_BAD_INPUT', 'an epoch needs at least one challenge slot')
  const { params, epoch } = inputs
  const devices = new Map<string, DeviceRecord>()
  for (const d of inputs.devices) devices.set(d.deviceId, d)
  const history = inputs.history.devices
  const v: VerificationResult = verifyReports(inputs)
  const statsContext: StatisticsContext = { epoch }
  if (inputs.history.links !== undefined) statsContext.links = inputs.history.links
  if (inputs.history.linkWindows !== undefined) statsContext.linkWindows = inputs.history.linkWindows
  const stats = computeStatistics(params, devices, history, v, statsContext)

  const epochStartMs = Math.min(...inputs.slots.map((s) => s.startMs))
  const activeLocations = new Map<string, string>()
  for (const d of inputs.devices) {
    if (d.location === undefined) continue
    const last = v.beaconedAtMs.get(d.deviceId) ?? history.get(d.deviceId)?.lastBeaconMs
    if (last !== undefined && epochStartMs - last <= params.densityActiveWindowMs) activeLocations.set(d.deviceId, d.location)
  }
  const availabilityPpm = new Map<string, number>()
  for (const [id, challenged] of v.schedule.challengeCount)
    availabilityPpm.set(id, Math.floor((Math.min(v.answered.get(id) ?? 0, challenged) * 1_000_000) / challenged))
  const locationPpm = new Map<string, number>()
  for (const [id, l] of stats.locationTrust) locationPpm.set(id, l.ppm)
  const appealed = new Set((inputs.appeals ?? []).filter((a) => appealGranted(inputs, a)).map((a) => a.deviceId))
  const beacons: BeaconSummary[] = v.beacons
    .filter((b) => b.status === 'valid')
    .map((b) => ({ deviceId: b.deviceId, selectedWitnessIds: b.selected.map((w) => w.deviceId) }))
  const owners = new Map<string, string>()
  for (const d of inputs.devices) owners.set(d.deviceId, d.owner)
  const scoring = scoreEpoch({
    params,
    epoch,
    owners,
    beacons,
    activeLocations,
    availabilityPpm,
    locationPpm,
    flagged: new Set(stats.flags.keys()),
    appealed,
    history,
  })

  // Next history: a function of this epoch's inputs and the previous history only.
  const next = new Map<string, DeviceHistory>()
  for (const [id, h] of history) next.set(id, { ...h, escrow: [...h.escrow] })
  const touch = (id: string): DeviceHistory => {
    let h = next.get(id)
    if (h === undefined) {
      h = { lastSeq: -1, cleanEpochs: 0, escrow: [], rssiScoreSum: 0, rssiScoreSquares: 0, rssiScoreCount: 0 }
      next.set(id, h)
    }
    return h
  }
  for (const [id, seq] of v.lastSeq) touch(id).lastSeq = seq
  for (const [id, at] of v.schedule.lastChallengeMs) touch(id).lastChallengeMs = at
  for (const [id, at] of v.beaconedAtMs) touch(id).lastBeaconMs = at
  for (const [id, at] of v.witnessedAtMs) touch(id).lastWitnessMs = at
  // This epoch's RSSI scores (for explanations); earlier epochs reach the RSSI test through the carried links.
  for (const [id, h] of next) {
    const s = stats.rssiScores.get(id)
    h.rssiScoreSum = s?.sum ?? 0
    h.rssiScoreSquares = s?.squares ?? 0
    h.rssiScoreCount = s?.count ?? 0
  }
  // Evidence window: this epoch's tallies join the last evidenceEpochs - 1 epochs' (older ones are dropped).
  if (params.evidenceEpochs > 1) {
    for (const h of next.values()) {
      if (h.evidence === undefined) continue
      const kept = h.evidence.filter((e) => e.epoch > epoch - params.evidenceEpochs && e.epoch < epoch)
      if (kept.length > 0) h.evidence = kept
      else delete h.evidence
    }
    for (const [id, e] of stats.evidence) {
      const h = touch(id)
      h.evidence = [...(h.evidence ?? []), e]
    }
  }
  for (const [id, entries] of scoring.escrow) touch(id).escrow = entries
  for (const [id, c] of scoring.clean) touch(id).cleanEpochs = c

  const acceptedLeaves = v.acceptedReportIds
  const verdictLeaves = v.verdicts.map((x) => encode(verdictSchema, x))
  const payoutLeaves = scoring.payouts.map((p) => encode(payoutSchema, p))
  const body = {
    epoch,
    poolMicro: scoring.poolMicro,
    unallocatedMicro: scoring.unallocatedMicro,
    acceptedReportsRoot: merkleRoot(acceptedLeaves),
    verdictsRoot: merkleRoot(verdictLeaves),
    payoutsRoot: merkleRoot(payoutLeaves),
  }
  const digest: EpochDigest = { ...body, hash: hashOf(epochDigestSchema, body) }

  // Explanations.
  const explanations = new Map<string, Explanation>()
  const explain = (id: string): Explanation => {
    let e = explanations.get(id)
    if (e === undefined) {
      e = {
        deviceId: id,
        epoch,
        beacons: [],
        witnessReports: {},
        challenged: v.schedule.challengeCount.get(id) ?? 0,
        answered: v.answered.get(id) ?? 0,
        flags: stats.flags.get(id) ?? [],
        score: scoring.scores.get(id),
        payout: undefined,
        escrowHeldMicro: (scoring.escrow.get(id) ?? []).reduce((a, x) => a + x.amountMicro, 0n),
      }
      const l = stats.locationTrust.get(id)
      if (l !== undefined) e.location = { estimate: l.estimate, excessMeters: l.excessMeters, trustPpm: l.ppm }
      explanations.set(id, e)
    }
    return e
  }
  for (const d of inputs.devices) explain(d.deviceId)
  for (const b of v.beacons) {
    const item: Explanation['beacons'][number] = { status: b.status, validWitnesses: b.valid.length, selectedWitnesses: b.selected.length }
    if (b.reason !== undefined) item.reason = b.reason
    explain(b.deviceId).beacons.push(item)
  }
  for (const x of v.verdicts) {
    if (!devices.has(x.deviceId)) continue
    const e = explain(x.deviceId)
    if (x.kind === 'beacon' && x.status === 'rejected' && !v.beacons.some((b) => b.reportId === x.reportId))
      e.beacons.push({ status: 'rejected', reason: x.reason ?? '', validWitnesses: 0, selectedWitnesses: 0 })
    if (x.kind !== 'witness') continue
    const key = x.status === 'rejected' ? (x.reason ?? 'rejected') : x.status
    e.witnessReports[key] = (e.witnessReports[key] ?? 0) + 1
  }
  for (const p of scoring.payouts) explain(p.deviceId).payout = p

  return {
    epoch,
    verdicts: v.verdicts,
    payouts: scoring.payouts,
    explanations,
    digest,
    leaves: { acceptedReports: acceptedLeaves, verdicts: verdictLeaves, payouts: payoutLeaves },
    nextHistory: { epoch, devices: next, links: stats.nextLinks, linkWindows: stats.nextLinkWindows },
  }
}

/** Inclusion proof of a device's payout under `digest.payoutsRoot` (to contest a wrong settlement). */
export function payoutProof(result: EpochResult, deviceId: string): { leaf: Uint8Array; proof: MerkleProof } | undefined {
  const index = result.payouts.findIndex((p) => p.deviceId === deviceId)
  if (index < 0) return undefined
  return { leaf: result.leaves.payouts[index] as Uint8Array, proof: merkleProof(result.leaves.payouts, index) }
}

export const settlementSchema = t.struct({
  epoch: t.uint(),
  digestHash: t.bytes({ length: 32 }),
  acceptedReportsRoot: t.bytes({ length: 32 }),
  verdictsRoot: t.bytes({ length: 32 }),
  payoutsRoot: t.bytes({ length: 32 }),
  /** Amounts paid now, aggregated per owner, sorted by owner. */
  transfers: t.array(t.struct({ owner: t.string({ bytesMax: 128 }), amountMicro: t.u64() }), { lengthMax: 10_000_000 }),
  escrowedMicro: t.u64(),
  forfeitedMicro: t.u64(),
})
export type Settlement = ReturnType<typeof settlementSchema.parse>

/** The value the rewards hook settles on chain for an epoch. */
export function settlementPayload(result: EpochResult): Settlement {
  const byOwner = new Map<string, bigint>()
  let escrowed = 0n
  let forfeited = 0n
  for (const p of result.payouts) {
    if (p.paidMicro > 0n) byOwner.set(p.owner, (byOwner.get(p.owner) ?? 0n) + p.paidMicro)
    escrowed += p.escrowedMicro
    forfeited += p.forfeitedMicro
  }
  return {
    epoch: result.epoch,
    digestHash: result.digest.hash,
    acceptedReportsRoot: result.digest.acceptedReportsRoot,
    verdictsRoot: result.digest.verdictsRoot,
    payoutsRoot: result.digest.payoutsRoot,
    transfers: [...byOwner].sort(([a], [b]) => (a < b ? -1 : 1)).map(([owner, amountMicro]) => ({ owner, amountMicro })),
    escrowedMicro: escrowed,
    forfeitedMicro: forfeited,
  }
}
