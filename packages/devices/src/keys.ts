import { cellToParent } from 'h3-js'
import { indexResolution } from './schemas.ts'

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Key layout inside the module's scope (ASCII only, so keys sort as their text). */
export const devicesKeys = {
  params: (): string => 'params', //                                     -> DevicesParams
  admin: (): string => 'admin', //                                       -> { address }
  fees: (): string => 'fees', //                                         -> { collectedMicro }
  manufacturer: (id: string): string => `m/${id}`, //                    -> ManufacturerState
  manufacturers: (): string => 'm/',
  release: (id: string): string => `f/${id}`, //                          -> FirmwareRelease
  releases: (): string => 'f/',
  device: (id: string): string => `d/${id}`, //                           -> DeviceState
  devices: (): string => 'd/',
  byOwner: (owner: Uint8Array, id = ''): string => `o/${hex(owner)}/${id}`, // -> marker
  byCell: (res8Cell: string, id = ''): string => `c/${res8Cell}/${id}`, //  -> marker
  nonce: (nonceHex: string): string => `n/${nonceHex}`, //                -> { expiresAtMs }
  nonceExpiry: (expiresAtMs: number, nonceHex = ''): string => `x/${String(expiresAtMs).padStart(16, '0')}/${nonceHex}`, //            -> marker, scanned in time order
  nonceExpiries: (): string => 'x/',
}

/** The index cell of a location (its parent at indexResolution). */
export function indexCellOf(location: string): string {
  return cellToParent(location, indexResolution)
}
