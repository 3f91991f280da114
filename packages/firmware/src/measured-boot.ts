import { createHash, timingSafeEqual } from 'node:crypto'

/** Events in one boot log (bootloader stages + firmware + config). */
export const bootEventsMax = 16
/** PCR indices accepted (TPM 2.0 PC Client: 24 PCRs). */
export const pcrIndexMax = 23

export type BootComponent = 'bootloader' | 'firmware'

export interface BootEvent {
  readonly pcrIndex: number
  readonly component: BootComponent
  /** SHA-256 of the measured image, 32 bytes. */
  readonly digest: Uint8Array
}

/** What a device reports: its boot event log and the PCR values the TPM (or boot ROM) holds. */
export interface MeasuredBootReport {
  readonly events: readonly BootEvent[]
  /** PCR values by index, 32 bytes each; must come from a verified quote to mean anything. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>
}

/** A firmware release allowed on chain: the bootloader and firmware images it consists of. */
export interface AllowedRelease {
  readonly releaseId: string
  readonly bootloaderSha256: string
  readonly firmwareSha256: string
  readonly isRevoked: boolean
}

export type MeasuredBootRejectReason =
  | 'malformed' // bad lengths, indices, too many events, missing components
  | 'pcr_mismatch' // replaying the event log does not give the reported PCRs
  | 'unknown_firmware' // no allowed release has this bootloader + firmware pair
  | 'revoked_firmware' // the release is known but revoked: the device must update

export type MeasuredBootVerdict =
  | { readonly ok: true; readonly releaseId: string }
  | { readonly ok: false; readonly reason: MeasuredBootRejectReason; readonly detail: string }

/** PCR extend as a TPM does it: pcr' = SHA-256(pcr || measurement). */
export function extendPcr(pcr: Uint8Array, measurement: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(pcr).update(measurement).digest())
}

/** Replays an event log from zeroed PCRs; returns the PCR values it implies. */
export function replayBootEvents(events: readonly BootEvent[]): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>()
  for (const e of events) pcrs.set(e.pcrIndex, extendPcr(pcrs.get(e.pcrIndex) ?? new Uint8Array(32), e.digest))
  return pcrs
}

function reject(reason: MeasuredBootRejectReason, detail: string): MeasuredBootVerdict {
  return { ok: false, reason, detail }
}

/**
 * Checks a measured boot: the event log must replay to exactly the reported PCRs, and its one
 * bootloader and one firmware measurement must form a release in `allowedReleases` that is not
 * revoked. Pure; never throws on bad input.
 */
export function verifyMeasuredBoot(report: MeasuredBootReport, allowedReleases: readonly AllowedRelease[]): MeasuredBootVerdict {
  const events = report?.events
  if (!Array.isArray(events) || events.length === 0 || events.length > bootEventsMax)
    return reject('malformed', 'event log empty or too long')
  if (!(report.pcrs instanceof Map)) return reject('malformed', 'pcrs must be a Map')
  for (const e of events) {
    if (!Number.isInteger(e?.pcrIndex) || e.pcrIndex < 0 || e.pcrIndex > pcrIndexMax) return reject('malformed', 'PCR index out of range')
    if (!(e.digest instanceof Uint8Array) || e.digest.length !== 32) return reject('malformed', 'digest must be 32 bytes')
    if (e.component !== 'bootloader' && e.component !== 'firmware') return reject('malformed', 'unknown boot component')
  }
  const bootloaders = events.filter((e) => e.component === 'bootloader')
  const firmwares = events.filter((e) => e.component === 'firmware')
  if (bootloaders.length !== 1 || firmwares.length !== 1)
    return reject('malformed', 'exactly one bootloader and one firmware measurement expected')

  const replayed = replayBootEvents(events)
  if (replayed.size !== report.pcrs.size) return reject('pcr_mismatch', 'reported PCR set differs from the event log')
  for (const [index, value] of replayed) {
    const reported = report.pcrs.get(index)
    if (!(reported instanceof Uint8Array) || reported.length !== 32 || !timingSafeEqual(reported, value))
      return reject('pcr_mismatch', `PCR ${index} does not match the event log`)
  }

  const bootloaderHex = Buffer.from(bootloaders[0]!.digest).toString('hex')
  const firmwareHex = Buffer.from(firmwares[0]!.digest).toString('hex')
  const release = allowedReleases.find(
    (r) => r.bootloaderSha256.toLowerCase() === bootloaderHex && r.firmwareSha256.toLowerCase() === firmwareHex,
  )
  if (release === undefined)
    return reject(
      'unknown_firmware',
      `firmware ${firmwareHex.slice(0, 16)} with bootloader ${bootloaderHex.slice(0, 16)} is not an allowed release`,
    )
  if (release.isRevoked) return reject('revoked_firmware', `release ${release.releaseId} is revoked`)
  return { ok: true, releaseId: release.releaseId }
}
