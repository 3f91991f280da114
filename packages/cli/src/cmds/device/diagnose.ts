import type { DeviceDto, DeviceProofDto, RewardDto, TerraneClient } from '@terrane/sdk'
import { CliError } from '../../errors.ts'

/** Epochs `diagnose` reads by default: the newest scored epochs that mention the device. */
export const diagnoseEpochsDefault = 5
/** At most one API page of epochs (the API's pageItemsMax). */
export const diagnoseEpochsMax = 100
/** Proofs read per epoch: one API page (pageItemsMax); more are counted as truncated. */
const proofsPerEpochMax = 100

/** The device's standing on chain: what decides whether it may earn at all. */
export interface DeviceStanding {
  deviceId: string
  owner: string
  manufacturer: string
  /** Asserted location (H3 resolution 12). */
  location: string
  onboardedHeight: number
  /** Attestation verified at onboarding and no certificate of its chain revoked since. */
  isAttested: boolean
  /** `ok` unless the chain records a firmware reason (unknown or revoked release, or no report when one is required). */
  firmware: 'ok' | 'unreported' | 'unknown' | 'revoked'
  /** Allowed to earn: attested and no firmware reason. */
  isEarning: boolean
  /** The chain's status reasons (`@terrane/devices` deviceStatusReasons). */
  reasons: string[]
}

/** One scored epoch, as this node's verifier explained it. */
export interface EpochDiagnosis {
  epoch: number
  height: number
  /** Micro-TRN: earned (escrow included), escrowed now, released from earlier escrow, paid. */
  earnedMicro: string
  escrowedMicro: string
  releasedMicro: string
  paidMicro: string
  /** This device's coverage reports in the epoch: accepted, and rejected by verifier reason. */
  proofs: { accepted: number; rejected: Record<string, number>; isTruncated: boolean }
  /** The verifier's `diagnose(deviceId, result)` lines: challenges, beacons, witnesses, location, multipliers, flags, escrow. */
  diagnosis: string[]
}

export interface Diagnosis {
  device: DeviceStanding
  epochs: EpochDiagnosis[]
  /** One sentence: why the device is or is not earning. */
  summary: string
}

const firmwareOf = (reasons: readonly string[]): DeviceStanding['firmware'] =>
  reasons.includes('firmware_revoked')
    ? 'revoked'
    : reasons.includes('firmware_unknown')
      ? 'unknown'
      : reasons.includes('firmware_unreported')
        ? 'unreported'
        : 'ok'

function standingOf(d: DeviceDto): DeviceStanding {
  const reasons = d.attestation.reason === '' ? [] : d.attestation.reason.split(',')
  return {
    deviceId: d.id,
    owner: d.owner,
    manufacturer: d.model,
    location: d.h3Cell,
    onboardedHeight: d.registeredHeight,
    isAttested: !reasons.includes('certificate_revoked') && !reasons.includes('manufacturer_unknown'),
    firmware: firmwareOf(reasons),
    isEarning: d.isActive,
    reasons,
  }
}

function amountOf(reward: RewardDto, name: string): string {
  return reward.explanation.find((e) => e.name === name)?.amount ?? '0'
}

function proofSummary(proofs: readonly DeviceProofDto[], isTruncated: boolean): EpochDiagnosis['proofs'] {
  const rejected: Record<string, number> = {}
  let accepted = 0
  for (const p of proofs)
    if (p.verdict === 'accepted') accepted++
    else rejected[p.reason] = (rejected[p.reason] ?? 0) + 1
  return { accepted, rejected, isTruncated }
}

function summaryOf(device: DeviceStanding, epochs: readonly EpochDiagnosis[]): string {
  if (!device.isEarning)
    return `Not earning: the chain does not let it earn (${device.reasons.join(', ')}); every report it files is rejected until that is fixed.`
  const latest = epochs[0]
  if (latest === undefined)
    return 'Not earning yet: no scored epoch mentions it. The verifier has received no beacon or witness report from it: check that it is connected to an ingest and that its clock is right.'
  const escrowed = BigInt(latest.escrowedMicro)
  if (BigInt(latest.paidMicro) > 0n)
    return `Earning: paid ${trn(latest.paidMicro)} in epoch ${latest.epoch}${escrowed > 0n ? `, and ${trn(latest.escrowedMicro)} held in escrow (a statistical flag)` : ''}.`
  if (escrowed > 0n)
    return `Earning into escrow: ${trn(latest.escrowedMicro)} in epoch ${latest.epoch} is held because of a flag; it is released if later epochs are clean or an appeal is granted.`
  const rejected = Object.entries(latest.proofs.rejected)
  if (latest.proofs.accepted === 0 && rejected.length > 0)
    return `Not earning: every report in epoch ${latest.epoch} was rejected (${rejected.map(([r, n]) => `${n} ${r}`).join(', ')}).`
  return `Not earning in epoch ${latest.epoch}: see the verifier's explanation below.`
}

/** Micro-TRN as `1.234567 TRN`. */
export function trn(micro: string): string {
  const x = BigInt(micro)
  return `${x / 1_000_000n}.${(x % 1_000_000n).toString().padStart(6, '0')} TRN`
}

/**
 * Everything the node knows about why a device is or is not earning: its standing in the devices
 * module, and for each of its newest scored epochs the verdicts on its reports, the payout terms
 * and the verifier's own explanation (the `diagnose` lines of `@terrane/verifier`).
 */
export async function diagnoseDevice(
  client: Pick<TerraneClient, 'device' | 'deviceRewards' | 'deviceProofs'>,
  deviceId: string,
  epochsMax: number,
): Promise<Diagnosis> {
  const dto = await client.device(deviceId)
  if (dto === null) throw new CliError('CLI_NOT_FOUND', `device ${deviceId} is not registered on this chain`)
  const device = standingOf(dto)
  const rewards = (await client.deviceRewards(deviceId, { limit: epochsMax })).items
  const epochs: EpochDiagnosis[] = []
  for (const reward of rewards) {
    const page = await client.deviceProofs(deviceId, { epoch: reward.epoch, kind: 'coverage', limit: proofsPerEpochMax })
    epochs.push({
      epoch: reward.epoch,
      height: reward.height,
      earnedMicro: amountOf(reward, 'coverage'),
      escrowedMicro: amountOf(reward, 'escrowed'),
      releasedMicro: amountOf(reward, 'released'),
      paidMicro: reward.amount,
      proofs: proofSummary(page.items, page.nextCursor !== null),
      diagnosis: reward.explanation.filter((e) => e.name === 'diagnose').map((e) => e.detail),
    })
  }
  return { device, epochs, summary: summaryOf(device, epochs) }
}

/** The diagnosis for people: the summary first, then the standing, then one block per epoch. */
export function formatDiagnosis(d: Diagnosis): string[] {
  const s = d.device
  const lines = [
    d.summary,
    '',
    `Device ${s.deviceId}`,
    `  owner:        ${s.owner}`,
    `  manufacturer: ${s.manufacturer}`,
    `  attested:     ${s.isAttested ? 'yes (attestation verified at onboarding, no certificate revoked since)' : `no (${s.reasons.filter((r) => !r.startsWith('firmware_')).join(', ')})`}`,
    `  firmware:     ${s.firmware === 'ok' ? 'ok (no firmware reason on chain)' : `${s.firmware} (firmware_${s.firmware})`}`,
    `  location:     ${s.location} (asserted, H3 resolution 12)`,
    `  onboarded:    height ${s.onboardedHeight}`,
    `  may earn:     ${s.isEarning ? 'yes' : `no: ${s.reasons.join(', ')}`}`,
  ]
  if (d.epochs.length === 0) lines.push('', 'Epochs: none scored by this node mention the device.')
  for (const e of d.epochs) {
    const rejected = Object.entries(e.proofs.rejected)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([reason, n]) => `${n} ${reason}`)
    lines.push(
      '',
      `Epoch ${e.epoch} (closed at height ${e.height})`,
      `  reports:  ${e.proofs.accepted} accepted, ${rejected.length === 0 ? 'none rejected' : `rejected: ${rejected.join(', ')}`}${e.proofs.isTruncated ? ` (first ${proofsPerEpochMax} only)` : ''}`,
      `  earnings: earned ${trn(e.earnedMicro)}, paid ${trn(e.paidMicro)}, escrowed ${trn(e.escrowedMicro)}, released ${trn(e.releasedMicro)}`,
      '  verifier:',
      ...e.diagnosis.map((line) => `    ${line}`),
    )
  }
  return lines
}
