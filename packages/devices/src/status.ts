import { normalizeSerial } from '@terrane/attestation'
import type { DeviceState, FirmwareRelease, ManufacturerState } from './schemas.ts'

/** Why a device does not earn. These names are the vocabulary of dashboards and appeals: add, never rename. */
export const deviceStatusReasons = [
  'manufacturer_unknown', // its manufacturer is no longer registered
  'certificate_revoked', // a certificate of its chain (device, intermediate or root) was revoked
  'firmware_unreported', // no measured-boot report yet (only when isBootReportRequired)
  'firmware_unknown', // the measured bootloader + firmware pair is not an allowed release
  'firmware_revoked', // its release was revoked: it must update
] as const
export type DeviceStatusReason = (typeof deviceStatusReasons)[number]

export interface DeviceStatus {
  deviceId: string
  /** True when nothing flags the device: it may earn. */
  isEarning: boolean
  attestation: 'ok' | 'revoked' | 'manufacturer_unknown'
  firmware: 'ok' | 'unreported' | 'unknown' | 'revoked'
  /** The release the device runs, when known. */
  releaseId?: string
  reasons: DeviceStatusReason[]
  /** Which certificate was revoked (fingerprint or `serial:<hex>`), when attestation is 'revoked'. */
  revokedCertificate?: string
}

/** The status of a device against the current registry and release list (pure). */
export function statusOf(
  device: DeviceState,
  manufacturer: ManufacturerState | undefined,
  releases: readonly FirmwareRelease[],
  isBootReportRequired: boolean,
): DeviceStatus {
  const reasons: DeviceStatusReason[] = []
  const status: DeviceStatus = { deviceId: device.deviceId, isEarning: true, attestation: 'ok', firmware: 'ok', reasons }
  if (manufacturer === undefined) {
    status.attestation = 'manufacturer_unknown'
    reasons.push('manufacturer_unknown')
  } else {
    const fingerprints = new Set(manufacturer.revokedFingerprintsSha256)
    const serials = new Set(manufacturer.revokedSerials)
    const byFingerprint = device.pathFingerprintsSha256.find((f) => fingerprints.has(f))
    const bySerial = device.pathSerials.find((s) => serials.has(normalizeSerial(s)))
    if (byFingerprint !== undefined || bySerial !== undefined) {
      status.attestation = 'revoked'
      status.revokedCertificate = byFingerprint ?? `serial:${bySerial}`
      reasons.push('certificate_revoked')
    }
  }
  if (device.boot === undefined) {
    status.firmware = 'unreported'
    if (isBootReportRequired) reasons.push('firmware_unreported')
  } else {
    const { bootloaderSha256, firmwareSha256 } = device.boot
    const release = releases.find((r) => r.bootloaderSha256 === bootloaderSha256 && r.firmwareSha256 === firmwareSha256)
    if (release === undefined) {
      status.firmware = 'unknown'
      reasons.push('firmware_unknown')
    } else {
      status.releaseId = release.releaseId
      if (release.isRevoked) {
        status.firmware = 'revoked'
        reasons.push('firmware_revoked')
      }
    }
  }
  status.isEarning = reasons.length === 0
  return status
}
