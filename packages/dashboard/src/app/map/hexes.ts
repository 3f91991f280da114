/**
 * Devices grouped by the H3 cell they asserted, with a density count and a
 * coverage quality share per cell. Pure (h3-js is WebAssembly-free JavaScript),
 * tested in node.
 */
import { cellToBoundary, cellToLatLng, cellToParent, getHexagonEdgeLengthAvg, getResolution, isValidCell, UNITS } from 'h3-js'
import type { DeviceDto, DeviceProofDto } from '@terrane/sdk'

export interface HexSummary {
  cell: string
  resolution: number
  /** [lng, lat] of the cell centre. */
  center: [number, number]
  /** [lng, lat] vertices, GeoJSON order. */
  boundary: Array<[number, number]>
  deviceIds: string[]
  /** Devices active with a verified attestation. */
  healthyCount: number
  /** Devices with an accepted proof in the epoch the quality was computed for. */
  provenCount: number
  /**
   * Share of the cell's devices that proved coverage or service in the last
   * epoch; when no proofs exist for that epoch, the share that is healthy.
   */
  quality: number
}

export interface CoverageSummary {
  hexes: HexSummary[]
  /** The epoch whose proofs set the quality, or null when none were found. */
  epoch: number | null
  /** Devices whose cell did not parse (kept out of the map, counted here). */
  invalidCellCount: number
  densityMax: number
}

/**
 * Groups devices by their asserted cell, or by its parent at `resolution` when
 * that is coarser (zoomed out, cells are aggregated so they stay visible and
 * their density stays meaningful).
 */
export function summariseCoverage(
  devices: readonly DeviceDto[],
  proofs: readonly DeviceProofDto[],
  epoch: number | null,
  resolution = 15,
): CoverageSummary {
  const provenIds = new Set(proofs.filter((p) => p.verdict === 'accepted' && p.epoch === epoch).map((p) => p.deviceId))
  const hasProofs = epoch !== null && proofs.some((p) => p.epoch === epoch)
  const byCell = new Map<string, DeviceDto[]>()
  let invalidCellCount = 0
  for (const d of devices) {
    if (!isValidCell(d.h3Cell)) {
      invalidCellCount++
      continue
    }
    const cell = getResolution(d.h3Cell) > resolution ? cellToParent(d.h3Cell, resolution) : d.h3Cell
    const list = byCell.get(cell) ?? []
    list.push(d)
    byCell.set(cell, list)
  }
  const hexes: HexSummary[] = []
  for (const [cell, list] of byCell) {
    const [lat, lng] = cellToLatLng(cell)
    const healthyCount = list.filter((d) => d.isActive && d.attestation.status === 'verified').length
    const provenCount = list.filter((d) => provenIds.has(d.id)).length
    hexes.push({
      cell,
      resolution: getResolution(cell),
      center: [lng, lat],
      boundary: cellToBoundary(cell, true).slice(0, -1) as Array<[number, number]>,
      deviceIds: list.map((d) => d.id).sort(),
      healthyCount,
      provenCount,
      quality: (hasProofs ? provenCount : healthyCount) / list.length,
    })
  }
  hexes.sort((a, b) => b.deviceIds.length - a.deviceIds.length || a.cell.localeCompare(b.cell))
  return {
    hexes,
    epoch: hasProofs ? epoch : null,
    invalidCellCount,
    densityMax: hexes.reduce((m, h) => Math.max(m, h.deviceIds.length), 0),
  }
}

type Rgb = [number, number, number]

function mix(stops: readonly Rgb[], t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1)
  const i = Math.min(stops.length - 2, Math.floor(x))
  const a = stops[i] as Rgb
  const b = stops[i + 1] as Rgb
  const f = x - i
  const c = a.map((v, k) => Math.round(v + ((b[k] as number) - v) * f))
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`
}

// Sequential (density) and diverging (quality) palettes after ColorBrewer YlGnBu and RdYlGn.
const densityStops: Rgb[] = [
  [199, 233, 180],
  [65, 182, 196],
  [34, 94, 168],
  [37, 52, 148],
]
const qualityStops: Rgb[] = [
  [215, 48, 39],
  [252, 141, 89],
  [254, 224, 139],
  [145, 207, 96],
  [26, 152, 80],
]

/** Density on a log scale so one crowded cell does not wash out the rest. */
export function densityColour(count: number, countMax: number): string {
  return mix(densityStops, countMax <= 1 ? 1 : Math.log(count) / Math.log(countMax))
}

export function qualityColour(quality: number): string {
  return mix(qualityStops, quality)
}

/** [[west, south], [east, north]] around the hexes, or null when there are none. */
export function boundsOf(hexes: readonly HexSummary[]): [[number, number], [number, number]] | null {
  if (hexes.length === 0) return null
  let west = Infinity
  let south = Infinity
  let east = -Infinity
  let north = -Infinity
  for (const h of hexes)
    for (const [lng, lat] of h.boundary) {
      west = Math.min(west, lng)
      east = Math.max(east, lng)
      south = Math.min(south, lat)
      north = Math.max(north, lat)
    }
  return [
    [west, south],
    [east, north],
  ]
}

/** Earth radius of the Mercator projection (WGS 84 semi-major axis), metres. */
const earthRadiusM = 6_378_137

/**
 * The finest H3 resolution (at most `resolutionMax`) whose cells are at least
 * `pixelsMin` across at this Mercator scale and latitude.
 */
export function displayResolution(scale: number, latitudeDeg: number, resolutionMax: number, pixelsMin = 20): number {
  const pixelsPerM = scale / (earthRadiusM * Math.cos((latitudeDeg * Math.PI) / 180))
  for (let r = Math.min(15, resolutionMax); r > 0; r--) {
    // A hexagon is two edges across, corner to corner.
    if (2 * getHexagonEdgeLengthAvg(r, UNITS.m) * pixelsPerM >= pixelsMin) return r
  }
  return 0
}
