import type { EpochResult } from './epoch.ts'

const micro = (x: bigint): string => `${x / 1_000_000n}.${(x % 1_000_000n).toString().padStart(6, '0')} TRN`
const pct = (ppm: number): string => `${(ppm / 10_000).toFixed(1)}%`

/**
 * Why a device is or is not earning, in operator language (`terrane device diagnose <id>`).
 * Built from the same epoch result the payouts came from.
 */
export function diagnose(deviceId: string, result: EpochResult): string[] {
  const e = result.explanations.get(deviceId)
  if (e === undefined) return [`${deviceId}: not registered, or no data in epoch ${result.epoch}.`]
  const lines = [`Device ${deviceId}, epoch ${e.epoch}`]
  lines.push(`Challenges: ${e.challenged} issued, ${e.answered} answered correctly.`)
  if (e.challenged > e.answered) lines.push('  Missed challenges lower availability, which scales all rewards: check power and backhaul.')
  if (e.beacons.length === 0) lines.push('Beacons: none filed this epoch.')
  for (const b of e.beacons)
    lines.push(
      b.status === 'valid'
        ? `Beacon: valid, ${b.validWitnesses} valid witnesses, ${b.selectedWitnesses} selected for rewards.`
        : `Beacon: rejected (${b.reason}).`,
    )
  const w = Object.entries(e.witnessReports)
  lines.push(w.length === 0 ? 'Witness reports: none filed.' : `Witness reports: ${w.map(([k, n]) => `${n} ${k}`).join(', ')}.`)
  if ((e.witnessReports.unselected ?? 0) > 0)
    lines.push('  "unselected" witnesses were valid but not drawn: at most 14 per beacon are chosen by block entropy, not arrival time.')
  if (e.location !== undefined)
    lines.push(
      `Location: radio evidence places it within ${Math.round(e.location.excessMeters)} m beyond the uncertainty of its assertion: trust ${pct(e.location.trustPpm)}.`,
    )
  if (e.score !== undefined)
    lines.push(
      `Multipliers: density ${pct(e.score.densityPpm)}, location ${pct(e.score.locationPpm)}, availability ${pct(e.score.availabilityPpm)}.`,
    )
  for (const f of e.flags)
    lines.push(`Flag ${f.kind}: ${f.detail}. Earnings go to escrow until later epochs are clean or an appeal is granted.`)
  if (e.payout === undefined) lines.push('Payout: nothing this epoch.')
  else
    lines.push(
      `Payout: earned ${micro(e.payout.earnedMicro)}, paid ${micro(e.payout.paidMicro)}, escrowed ${micro(e.payout.escrowedMicro)}, released ${micro(e.payout.releasedMicro)}, forfeited ${micro(e.payout.forfeitedMicro)}.`,
    )
  if (e.escrowHeldMicro > 0n) lines.push(`Escrow held: ${micro(e.escrowHeldMicro)}.`)
  return lines
}
