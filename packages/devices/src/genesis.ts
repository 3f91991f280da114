import { X509Certificate } from 'node:crypto'
import { ChainError } from '@terrane/chain'
import { decodeAddress } from '@terrane/crypto'
import { normalizeSerial } from '@terrane/attestation'
import {
  manufacturerIdPattern,
  revocationsPerManufacturerMax,
  rootsPerManufacturerMax,
  type DevicesParams,
  type FirmwareRelease,
} from './schemas.ts'

const dayMs = 86_400_000

/**
 * Defaults of the module's chain parameters (genesis; changeable by governance only).
 * Helium charges a fee per onboarding and per location assertion (paid in data credits);
 * Terrane keeps both and bounds re-assertions so a device cannot hop around to chase rewards.
 */
export const defaultDevicesParams: DevicesParams = {
  onboardingFeeMicro: 10_000_000n, // Terrane: 10 TRN, locked in the onboarding pool
  locationFeeMicro: 1_000_000n, // Terrane: 1 TRN per re-assertion
  locationIntervalMsMin: dayMs, // Terrane: at most one move a day
  locationAssertionsPerPeriodMax: 5, // Terrane: 5 assertions per 30 days (onboarding counts)
  locationPeriodMs: 30 * dayMs,
  challengeAgeMsMax: 5 * 60_000, // @terrane/attestation challengeAgeMsMaxDefault
  bootReportAgeMsMax: 10 * 60_000, // Terrane: a report must reach the chain within 10 minutes
  isBootReportRequired: false, // Terrane: devnets run devices without measured boot
}

/** The module's genesis section, validated. */
export interface DevicesGenesis {
  /** Account (usually a multisig) allowed to add manufacturers, revoke certificates and manage firmware releases. */
  admin: Uint8Array
  params: DevicesParams
  manufacturers: Array<{
    manufacturerId: string
    rootCertificatesDer: Uint8Array[]
    revokedFingerprintsSha256: string[]
    revokedSerials: string[]
  }>
  firmwareReleases: FirmwareRelease[]
}

function fail(path: string, message: string): never {
  throw new ChainError('CHAIN_BAD_GENESIS', message, `modules.devices${path === '' ? '' : '.' + path}`)
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object')
  return v as Record<string, unknown>
}

function only(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path === '' ? k : `${path}.${k}`, 'unknown field')
}

function arr(v: unknown, path: string, lengthMax: number): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) fail(path, 'expected an array')
  if (v.length > lengthMax) fail(path, `more than ${lengthMax} entries`)
  return v
}

function sha256Hex(v: unknown, path: string): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) fail(path, 'expected 32 bytes as lowercase hex')
  return v
}

/** DER as lowercase hex, or base64 (standard alphabet). */
export function parseDer(v: unknown, path: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'expected a DER certificate as hex or base64')
  const bytes = /^([0-9a-f]{2})+$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')
  if (!/^([0-9a-f]{2})+$/.test(v) && bytes.toString('base64').replace(/=+$/, '') !== v.replace(/=+$/, '')) fail(path, 'not hex nor base64')
  const der = Uint8Array.from(bytes)
  checkRootCertificate(der, (m) => fail(path, m))
  return der
}

/** A root must parse and be a CA certificate. */
export function checkRootCertificate(der: Uint8Array, onError: (message: string) => never): void {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch (err) {
    onError(`not an X.509 certificate: ${(err as Error).message}`)
  }
  if (!cert.ca) onError('a root must be a CA certificate')
}

function amount(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v)) fail(path, 'expected an amount as a decimal string')
  const n = BigInt(v)
  if (n >= 1n << 64n) fail(path, 'amount exceeds u64')
  return n
}

function int(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(path, `expected an integer in [0, ${max}]`)
  return v
}

function parseParams(v: unknown): DevicesParams {
  const out: DevicesParams = { ...defaultDevicesParams }
  if (v === undefined) return out
  const o = obj(v, 'params')
  only(o, Object.keys(defaultDevicesParams), 'params')
  const w = out as unknown as Record<string, unknown>
  for (const [name, d] of Object.entries(defaultDevicesParams)) {
    const raw = o[name]
    if (raw === undefined) continue
    const p = `params.${name}`
    if (typeof d === 'bigint') w[name] = amount(raw, p)
    else if (typeof d === 'boolean') {
      if (typeof raw !== 'boolean') fail(p, 'expected a boolean')
      w[name] = raw
    } else w[name] = int(raw, p, name === 'locationAssertionsPerPeriodMax' ? 64 : Number.MAX_SAFE_INTEGER)
  }
  if (out.locationAssertionsPerPeriodMax < 1) fail('params.locationAssertionsPerPeriodMax', 'must be at least 1')
  return out
}

/** Validates the `modules.devices` genesis section; problems are CHAIN_BAD_GENESIS with a path. */
export function parseDevicesGenesis(json: unknown): DevicesGenesis {
  if (json === undefined) fail('', 'the devices module needs a genesis section with its admin')
  const root = obj(json, '')
  only(root, ['admin', 'params', 'manufacturers', 'firmwareReleases'], '')
  let admin: Uint8Array
  try {
    admin = decodeAddress(String(root.admin))
  } catch (err) {
    fail('admin', (err as Error).message)
  }
  const params = parseParams(root.params)
  const seen = new Set<string>()
  const manufacturers = arr(root.manufacturers, 'manufacturers', 1000).map((raw, i) => {
    const p = `manufacturers[${i}]`
    const o = obj(raw, p)
    only(o, ['manufacturerId', 'rootCertificates', 'revokedFingerprints', 'revokedSerials'], p)
    if (typeof o.manufacturerId !== 'string' || !manufacturerIdPattern.test(o.manufacturerId))
      fail(`${p}.manufacturerId`, 'expected [a-z0-9][a-z0-9-]{0,63}')
    if (seen.has(o.manufacturerId)) fail(`${p}.manufacturerId`, 'duplicate manufacturer')
    seen.add(o.manufacturerId)
    const roots = arr(o.rootCertificates, `${p}.rootCertificates`, rootsPerManufacturerMax).map((r, j) =>
      parseDer(r, `${p}.rootCertificates[${j}]`),
    )
    if (roots.length === 0) fail(`${p}.rootCertificates`, 'at least one root certificate')
    return {
      manufacturerId: o.manufacturerId,
      rootCertificatesDer: roots,
      revokedFingerprintsSha256: arr(o.revokedFingerprints, `${p}.revokedFingerprints`, revocationsPerManufacturerMax).map((f, j) =>
        sha256Hex(f, `${p}.revokedFingerprints[${j}]`),
      ),
      revokedSerials: arr(o.revokedSerials, `${p}.revokedSerials`, revocationsPerManufacturerMax).map((s, j) => {
        if (typeof s !== 'string' || !/^[0-9a-fA-F]{1,42}$/.test(s)) fail(`${p}.revokedSerials[${j}]`, 'expected a hex serial')
        return normalizeSerial(s)
      }),
    }
  })
  const releaseIds = new Set<string>()
  const firmwareReleases = arr(root.firmwareReleases, 'firmwareReleases', 10_000).map((raw, i) => {
    const p = `firmwareReleases[${i}]`
    const o = obj(raw, p)
    only(o, ['releaseId', 'bootloaderSha256', 'firmwareSha256', 'isRevoked'], p)
    if (typeof o.releaseId !== 'string' || !/^[A-Za-z0-9._+-]{1,64}$/.test(o.releaseId))
      fail(`${p}.releaseId`, 'expected 1-64 of [A-Za-z0-9._+-]')
    if (releaseIds.has(o.releaseId)) fail(`${p}.releaseId`, 'duplicate release')
    releaseIds.add(o.releaseId)
    if (o.isRevoked !== undefined && typeof o.isRevoked !== 'boolean') fail(`${p}.isRevoked`, 'expected a boolean')
    return {
      releaseId: o.releaseId,
      bootloaderSha256: sha256Hex(o.bootloaderSha256, `${p}.bootloaderSha256`),
      firmwareSha256: sha256Hex(o.firmwareSha256, `${p}.firmwareSha256`),
      isRevoked: o.isRevoked === true,
    }
  })
  return { admin, params, manufacturers, firmwareReleases }
}
