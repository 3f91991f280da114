import { runEpoch, type EpochResult } from '../epoch.ts'
import type { CoverageParams } from '../params.ts'
import {
  adversaryKinds,
  buildWorld,
  simulateEpoch,
  warmHistory,
  type AdversaryKind,
  type DeviceKind,
  type SimDevice,
  type World,
} from './world.ts'

export interface CoverageSimInit {
  devices: number
  seed: number | string
  adversaryShare?: number
  adversaries?: readonly AdversaryKind[]
  params?: Partial<CoverageParams>
  /** Epochs simulated in a row (new challenge entropy and fast fading each; same shadowing and hardware). @default 1 */
  epochs?: number
  /** See WorldInit.localEntropy. @default true */
  localEntropy?: boolean
  /** See WorldInit.forgerRelay. @default false */
  forgerRelay?: boolean
}

export interface KindRow {
  kind: DeviceKind
  devices: number
  /** Detected: flagged, location trust < 1, availability < 1, or every report rejected for a cheating reason. */
  detected: number
  /** Share of detected (recall for adversaries, false-positive rate for honest). */
  detectedShare: number
  /**
   * Devices without radio evidence in the epoch: no witness report names them, as witness or beaconer
   * (nobody heard them, they claim to hear nobody). No verifier can judge them; they earn nothing.
   */
  withoutEvidence: number
  /** Detected among the devices with radio evidence. */
  detectedWithEvidence: number
  /** Honest only: devices with at least one report rejected for a cheating reason. */
  wronglyRejected: number
  /** Share of this epoch's coverage pool paid out now (escrow excluded). */
  paidShare: number
  /** Share of the pool earned, escrow included. */
  earnedShare: number
  /** Device count share: what the kind would get if every device earned alike. */
  fairShare: number
}

export interface SimEpochSummary {
  epoch: number
  /** Detection in this epoch; shares of this epoch's pool. */
  rows: KindRow[]
  digestHash: Uint8Array
}

export interface CoverageSimResult {
  world: World
  /** The last epoch's result. */
  result: EpochResult
  /** Detection in the last epoch; shares of the pools of all epochs together. */
  rows: KindRow[]
  epochs: SimEpochSummary[]
  reports: number
  witnessReports: number
}

/** Reasons that mean "this looks like cheating" (not mere circumstance such as too_close or no_witnesses). */
export const cheatingReasons = new Set([
  'bad_signature',
  'replayed',
  'stale_entropy',
  'late_witness',
  'payload_mismatch',
  'frequency_mismatch',
  'region_mismatch',
  'too_far',
  'rssi_above_free_space',
  'not_reciprocal',
])

/**
 * Builds a world, simulates `epochs` epochs of radio (fresh entropy and fast fading each, the same static
 * shadowing and hardware), runs the real verifier and reward code on each with the carried history, and
 * measures detection per epoch and at the end.
 */
export function runCoverageSim(init: CoverageSimInit): CoverageSimResult {
  const worldInit: Parameters<typeof buildWorld>[0] = { devices: init.devices, seed: init.seed }
  if (init.adversaryShare !== undefined) worldInit.adversaryShare = init.adversaryShare
  if (init.adversaries !== undefined) worldInit.adversaries = init.adversaries
  if (init.params !== undefined) worldInit.params = init.params
  if (init.localEntropy !== undefined) worldInit.localEntropy = init.localEntropy
  if (init.forgerRelay !== undefined) worldInit.forgerRelay = init.forgerRelay
  const world = buildWorld(worldInit)
  const epochCount = init.epochs ?? 1
  if (!Number.isInteger(epochCount) || epochCount < 1) throw new RangeError(`epochs must be a positive integer, got ${epochCount}`)
  const firstStartMs = 1_767_225_600_000 // 2026-01-01T00:00:00Z
  let history = warmHistory(world, firstStartMs)
  const results: EpochResult[] = []
  const epochs: SimEpochSummary[] = []
  let reports = 0
  let witnessReports = 0
  let lastLinked = new Set<SimDevice>()
  for (let epoch = 1; epoch <= epochCount; epoch++) {
    const startMs = firstStartMs + (epoch - 1) * world.params.epochMs
    const sim = simulateEpoch(world, epoch, startMs)
    const result = runEpoch({
      epoch,
      params: world.params,
      devices: world.devices.map((d) => d.record),
      slots: sim.slots,
      reports: sim.reports,
      history,
    })
    history = result.nextHistory
    results.push(result)
    reports += sim.reports.length
    witnessReports += sim.reports.filter((r) => r.report.kind === 'witness').length
    lastLinked = sim.linked
    epochs.push({ epoch, rows: measureRows(world, [result], sim.linked), digestHash: result.digest.hash })
  }
  const result = results[results.length - 1] as EpochResult
  return { world, result, rows: measureRows(world, results, lastLinked), epochs, reports, witnessReports }
}

/** Detection in the last of `results`; paid and earned shares of all their pools together. */
function measureRows(world: World, results: readonly EpochResult[], linked: ReadonlySet<SimDevice>): KindRow[] {
  const result = results[results.length - 1] as EpochResult
  const cheated = new Map<string, { any: boolean; all: boolean; count: number }>()
  for (const v of result.verdicts) {
    const c = cheated.get(v.deviceId) ?? { any: false, all: true, count: 0 }
    const isCheat = v.status === 'rejected' && cheatingReasons.has(v.reason ?? '')
    c.any ||= isCheat
    c.all &&= isCheat
    c.count++
    cheated.set(v.deviceId, c)
  }
  const paidBy = new Map<string, bigint>()
  const earnedBy = new Map<string, bigint>()
  let pool = 0n
  for (const r of results) {
    pool += r.digest.poolMicro
    for (const p of r.payouts) {
      paidBy.set(p.deviceId, (paidBy.get(p.deviceId) ?? 0n) + p.paidMicro)
      earnedBy.set(p.deviceId, (earnedBy.get(p.deviceId) ?? 0n) + p.earnedMicro)
    }
  }
  const kinds: DeviceKind[] = ['honest', ...adversaryKinds]
  const rows: KindRow[] = []
  for (const kind of kinds) {
    const members = world.devices.filter((d) => d.kind === kind)
    if (members.length === 0) continue
    let detected = 0
    let withoutEvidence = 0
    let detectedWithEvidence = 0
    let wronglyRejected = 0
    let paid = 0n
    let earned = 0n
    for (const d of members) {
      const e = result.explanations.get(d.record.deviceId)
      const c = cheated.get(d.record.deviceId)
      const isDetected =
        (e?.flags.length ?? 0) > 0 ||
        (e?.score?.locationPpm ?? 1_000_000) < 1_000_000 ||
        (e?.score?.availabilityPpm ?? 1_000_000) < 1_000_000 ||
        (e !== undefined && e.challenged > e.answered) ||
        (c !== undefined && c.count > 0 && c.all)
      if (isDetected) detected++
      if (!linked.has(d)) withoutEvidence++
      else if (isDetected) detectedWithEvidence++
      if (c?.any === true) wronglyRejected++
      paid += paidBy.get(d.record.deviceId) ?? 0n
      earned += earnedBy.get(d.record.deviceId) ?? 0n
    }
    const share = (x: bigint): number => (pool === 0n ? 0 : Number((x * 1_000_000n) / pool) / 1_000_000)
    rows.push({
      kind,
      devices: members.length,
      detected,
      detectedShare: detected / members.length,
      withoutEvidence,
      detectedWithEvidence,
      wronglyRejected: kind === 'honest' ? wronglyRejected : 0,
      paidShare: share(paid),
      earnedShare: share(earned),
      fairShare: members.length / world.devices.length,
    })
  }
  return rows
}

/** Honest devices flagged, by flag kind, in the last epoch (a false-positive breakdown). */
export function honestFlagBreakdown(sim: CoverageSimResult): Map<string, number> {
  const out = new Map<string, number>()
  for (const d of sim.world.devices) {
    if (d.kind !== 'honest') continue
    for (const f of sim.result.explanations.get(d.record.deviceId)?.flags ?? []) out.set(f.kind, (out.get(f.kind) ?? 0) + 1)
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** The result table as text (the README's table comes from this). */
export function formatSimTable(sim: CoverageSimResult): string[] {
  const attackers = sim.rows.filter((r) => r.kind !== 'honest')
  const attackerPaid = attackers.reduce((a, r) => a + r.paidShare, 0)
  const attackerFair = attackers.reduce((a, r) => a + r.fairShare, 0)
  const lines = [
    '| kind | devices | detected | rate | without radio evidence | rate among those with evidence | paid share | earned share (incl. escrow) | fair share | paid / fair |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const r of sim.rows) {
    const withEvidence = r.devices - r.withoutEvidence
    lines.push(
      `| ${r.kind} | ${r.devices} | ${r.detected} | ${(r.detectedShare * 100).toFixed(1)}% ${r.kind === 'honest' ? '(false positives)' : '(recall)'} | ${r.withoutEvidence} | ${withEvidence === 0 ? '-' : `${((r.detectedWithEvidence / withEvidence) * 100).toFixed(1)}%`} | ${(r.paidShare * 100).toFixed(2)}% | ${(r.earnedShare * 100).toFixed(2)}% | ${(r.fairShare * 100).toFixed(2)}% | ${(r.paidShare / r.fairShare).toFixed(2)} |`,
    )
  }
  const honest = sim.rows.find((r) => r.kind === 'honest')
  if (honest !== undefined)
    lines.push(
      '',
      `Honest devices with a report rejected for a cheating reason: ${honest.wronglyRejected} of ${honest.devices} (${((honest.wronglyRejected / honest.devices) * 100).toFixed(2)}%).`,
    )
  if (attackers.length > 0)
    lines.push(
      `All attackers: ${(attackerFair * 100).toFixed(1)}% of devices, paid ${(attackerPaid * 100).toFixed(2)}% of the pool: ${(attackerPaid / attackerFair).toFixed(2)}x their fair share.`,
    )
  lines.push(`Reports: ${sim.reports} (${sim.witnessReports} witness reports), all signed and verified.`)
  const breakdown = [...honestFlagBreakdown(sim)].map(([k, n]) => `${k} ${n}`).join(', ')
  lines.push(`Honest flags in the last epoch, by kind: ${breakdown === '' ? 'none' : breakdown}.`)
  if (sim.epochs.length > 1) {
    const kinds = sim.rows.map((r) => r.kind)
    lines.push(
      '',
      `Detection per epoch (honest: false positives; others: recall), evidence carried in the history:`,
      '',
      `| epoch | ${kinds.join(' | ')} | attackers paid / fair |`,
      `|---|${kinds.map(() => '---|').join('')}---|`,
    )
    for (const e of sim.epochs) {
      const att = e.rows.filter((r) => r.kind !== 'honest')
      const fair = att.reduce((a, r) => a + r.fairShare, 0)
      const ratio = fair === 0 ? '-' : (att.reduce((a, r) => a + r.paidShare, 0) / fair).toFixed(2)
      lines.push(
        `| ${e.epoch} | ${kinds
          .map((k) => {
            const r = e.rows.find((x) => x.kind === k)
            return r === undefined ? '' : `${(r.detectedShare * 100).toFixed(1)}%`
          })
          .join(' | ')} | ${ratio} |`,
      )
    }
  }
  return lines
}
