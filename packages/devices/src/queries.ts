import { encodeAddress, decodeAddress } from '@terrane/crypto'
import { committedModuleStore as chainCommittedModuleStore, type ChainStore, type ModuleStore } from '@terrane/chain'
import { cellToChildren, cellToParent, getResolution, isValidCell } from 'h3-js'
import { DevicesError } from './errors.ts'
import { devicesKeys as k } from './keys.ts'
import {
  deviceSchema,
  devicesParamsSchema,
  feesSchema,
  firmwareReleaseSchema,
  indexResolution,
  manufacturerSchema,
  markerSchema,
  type DevicesParams,
  type DeviceState,
  type FirmwareRelease,
} from './schemas.ts'
import { statusOf, type DeviceStatus } from './status.ts'

/** Index cells read for one coarse-cell query (res 5 -> 343 res-8 cells). */
export const cellQueryCellsMax = 343

/** A read-only ModuleStore over a chain store's committed state (for the node and the API). */
export function committedModuleStore(store: ChainStore, moduleName = 'devices'): ModuleStore {
  return chainCommittedModuleStore(store, moduleName)
}

/** A device as the API shows it. */
export interface DeviceView {
  deviceId: string
  /** Compressed SEC1 P-256 key. */
  publicKey: Uint8Array
  /** `trn1...` address of the owner. */
  owner: string
  manufacturerId: string
  location: string
  capabilities: DeviceState['capabilities']
  onboardedHeight: number
  onboardedAtMs: number
  locationAssertedAtMs: number[]
  boot?: NonNullable<DeviceState['boot']>
}

function view(d: DeviceState): DeviceView {
  const v: DeviceView = {
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    owner: encodeAddress(d.owner),
    manufacturerId: d.manufacturerId,
    location: d.location,
    capabilities: d.capabilities,
    onboardedHeight: d.onboardedHeight,
    onboardedAtMs: d.onboardedAtMs,
    locationAssertedAtMs: d.locationAssertedAtMs,
  }
  if (d.boot !== undefined) v.boot = d.boot
  return v
}

export function deviceById(store: ModuleStore, deviceId: string): DeviceView | undefined {
  const d = store.get(deviceSchema, k.device(deviceId))
  return d === undefined ? undefined : view(d)
}

/** Devices of an owner (`trn1...` address or 20 raw bytes), in device-id order. */
export function devicesByOwner(store: ModuleStore, owner: string | Uint8Array): DeviceView[] {
  const address = typeof owner === 'string' ? decodeAddress(owner) : owner
  return idsUnder(store, k.byOwner(address)).flatMap((id) => deviceById(store, id) ?? [])
}

function idsUnder(store: ModuleStore, prefix: string): string[] {
  return store.scan(markerSchema, prefix).map(([key]) => key.slice(prefix.length))
}

/**
 * Devices located in an H3 cell of any resolution from 5 to 15 (coarser cells would read too many
 * index buckets). Throws DevicesError DEVICES_BAD_LOCATION for an invalid or too coarse cell.
 */
export function devicesInCell(store: ModuleStore, cell: string): DeviceView[] {
  if (!isValidCell(cell)) throw new DevicesError('DEVICES_BAD_LOCATION', `${cell} is not an H3 cell`)
  const resolution = getResolution(cell)
  if (resolution < indexResolution && 7 ** (indexResolution - resolution) > cellQueryCellsMax)
    throw new DevicesError('DEVICES_BAD_LOCATION', `resolution ${resolution} is too coarse (min 5)`)
  const buckets = resolution >= indexResolution ? [cellToParent(cell, indexResolution)] : cellToChildren(cell, indexResolution)
  const out: DeviceView[] = []
  for (const bucket of buckets)
    for (const id of idsUnder(store, k.byCell(bucket))) {
      const d = deviceById(store, id)
      if (d === undefined) continue
      const isInside =
        resolution <= indexResolution || (resolution <= getResolution(d.location) && cellToParent(d.location, resolution) === cell)
      if (isInside) out.push(d)
    }
  return out.sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
}

export interface ManufacturerView {
  manufacturerId: string
  rootCertificatesDer: Uint8Array[]
  revokedFingerprintsSha256: string[]
  revokedSerials: string[]
  addedHeight: number
}

export function manufacturers(store: ModuleStore): ManufacturerView[] {
  return store.scan(manufacturerSchema, k.manufacturers()).map(([, m]) => m)
}

export function firmwareReleases(store: ModuleStore): FirmwareRelease[] {
  return store.scan(firmwareReleaseSchema, k.releases()).map(([, r]) => r)
}

export function devicesParams(store: ModuleStore): DevicesParams | undefined {
  return store.get(devicesParamsSchema, k.params())
}

/** Fees collected into the onboarding pool (the module's escrow). */
export function feesCollectedMicro(store: ModuleStore): bigint {
  return store.get(feesSchema, k.fees())?.collectedMicro ?? 0n
}

/** Why a device does or does not earn, against the current registry and release list. */
export function deviceStatus(store: ModuleStore, deviceId: string): DeviceStatus | undefined {
  const d = store.get(deviceSchema, k.device(deviceId))
  if (d === undefined) return undefined
  const params = devicesParams(store)
  return statusOf(
    d,
    store.get(manufacturerSchema, k.manufacturer(d.manufacturerId)),
    firmwareReleases(store),
    params?.isBootReportRequired ?? false,
  )
}

/**
 * Every registered device with its status, in device-id order: what the Proof-of-Coverage
 * verifier reads each epoch (devices not earning go into its `attestationFailed` input).
 */
export function allDeviceStatuses(store: ModuleStore): Array<{ device: DeviceView; status: DeviceStatus }> {
  const releases = firmwareReleases(store)
  const byId = new Map(manufacturers(store).map((m) => [m.manufacturerId, m]))
  const isRequired = devicesParams(store)?.isBootReportRequired ?? false
  return store
    .scan(deviceSchema, k.devices())
    .map(([, d]) => ({ device: view(d), status: statusOf(d, byId.get(d.manufacturerId), releases, isRequired) }))
}
