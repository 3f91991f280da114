import { runEpoch, type EpochResult } from '../epoch.ts'
import type { CoverageParams } from '../params.ts'
import { adversaryKinds, buildWorld, simulateEpoch, warmHistory, type AdversaryKind, type DeviceKind, type World } from './world.ts'

export interface CoverageSimInit {
  devices: number
  seed: number | string
  adversaryShare?: number
  adversaries?: readonly AdversaryKind[]
  params?: Partial<CoverageParams>
}

export interface KindRow {
  kind: DeviceKind
  devices: number
  /** Detected: flagged, location trust < 1, availability < 1, or every report rejected for a cheating reason. */
  detected: number
  /** Share of detected (recall for adversaries, false-positive rate for honest). */
  detectedShare: number
  /** Honest only: devices with at least one report rejected for a cheating reason. */
  wronglyRejected: number
  /** Share of this epoch's coverage pool paid out now (escrow excluded). */
  paidShare: number
  /** Share of the pool earned, escrow included. */
  earnedShare: number
  /** Device count share: what the kind would get if every device earned alike. */
  fairShare: number
}

export interface CoverageSimResult {
  world: World
  result: EpochResult
  rows: KindRow[]
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

/** Builds a world, simulates one epoch of radio, runs the real verifier and reward code, and measures it. */
export function runCoverageSim(init: CoverageSimInit): CoverageSimResult {
  const worldInit: Parameters<typeof buildWorld>[0] = { devices: init.devices, seed: init.seed }
  if (init.adversaryShare !== undefined) worldInit.adversaryShare = init.adversaryShare
  if (init.adversaries !== undefined) worldInit.adversaries = init.adversaries
  if (init.params !== undefined) worldInit.params = init.params
  const world = buildWorld(worldInit)
  const startMs = 1_767_225_600_000 // 2026-01-01T00:00:00Z
  const epoch = 1
  const sim = simulateEpoch(world, epoch, startMs)
  const result = runEpoch({
    epoch,
    params: world.params,
    devices: world.devices.map((d) => d.record),
    slots: sim.slots,
    reports: sim.reports,
    history: warmHistory(world, startMs),
  })
  const cheated = new Map<string, { any: boolean; all: boolean; count: number }>()
  for (const v of result.verdicts) {
    const c = cheated.get(v.deviceId) ?? { any: false, all: true, count: 0 }
    const isCheat = v.status === 'rejected' && cheatingReasons.has(v.reason ?? '')
    c.any ||= isCheat
    c.all &&= isCheat
    c.count++
    cheated.set(v.deviceId, c)
  }
  const pool = result.digest.poolMicro
  const kinds: DeviceKind[] = ['honest', ...adversaryKinds]
  const rows: KindRow[] = []
  for (const kind of kinds) {
    const members = world.devices.filter((d) => d.kind === kind)
    if (members.length === 0) continue
    let detected = 0
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
      if (c?.any === true) wronglyRejected++
      paid += e?.payout?.paidMicro ?? 0n
      earned += e?.payout?.earnedMicro ?? 0n
    }
    const share = (x: bigint): number => (pool === 0n ? 0 : Number((x * 1_000_000n) / pool) / 1_000_000)
    rows.push({
      kind,
      devices: members.length,
      detected,
      detectedShare: detected / members.length,
      wronglyRejected: kind === 'honest' ? wronglyRejected : 0,
      paidShare: share(paid),
      earnedShare: share(earned),
      fairShare: members.length / world.devices.length,
    })
  }
  const witnessReports = sim.reports.filter((r) => r.report.kind === 'witness').length
  return { world, result, rows, reports: sim.reports.length, witnessReports }
}

/** The result table as text (the README's table comes from this). */
export function formatSimTable(sim: CoverageSimResult): string[] {
  const attackers = sim.rows.filter((r) => r.kind !== 'honest')
  const attackerPaid = attackers.reduce((a, r) => a + r.paidShare, 0)
  const attackerFair = attackers.reduce((a, r) => a + r.fairShare, 0)
  const lines = [
    '| kind | devices | detected | rate | paid share | earned share (incl. escrow) | fair share | paid / fair |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const r of sim.rows)
    lines.push(
      `| ${r.kind} | ${r.devices} | ${r.detected} | ${(r.detectedShare * 100).toFixed(1)}% ${r.kind === 'honest' ? '(false positives)' : '(recall)'} | ${(r.paidShare * 100).toFixed(2)}% | ${(r.earnedShare * 100).toFixed(2)}% | ${(r.fairShare * 100).toFixed(2)}% | ${(r.paidShare / r.fairShare).toFixed(2)} |`,
    )
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
  return lines
}
