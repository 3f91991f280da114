import { cellToLatLng, cellToParent, gridDistance, isValidCell, getResolution } from 'h3-js'

/** Mean Earth radius, m (IUGG). */
export const earthRadiusMeters = 6_371_008.8

export interface LatLng {
  lat: number
  lng: number
}

const centreCache = new Map<string, LatLng>()
/** Bound on cached cell centres. */
export const cellCentreCacheEntriesMax = 2_000_000

/** Centre of an H3 cell (cached: every beacon and witness looks up the same few cells). */
export function cellCentre(cell: string): LatLng {
  const hit = centreCache.get(cell)
  if (hit !== undefined) return hit
  const [lat, lng] = cellToLatLng(cell)
  const centre = { lat, lng }
  if (centreCache.size >= cellCentreCacheEntriesMax) centreCache.clear()
  centreCache.set(cell, centre)
  return centre
}

/** Great-circle distance (haversine), m. */
export function distanceMeters(a: LatLng, b: LatLng): number {
  const toRad = Math.PI / 180
  const dLat = (b.lat - a.lat) * toRad
  const dLng = (b.lng - a.lng) * toRad
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLng / 2) ** 2
  return 2 * earthRadiusMeters * Math.asin(Math.min(1, Math.sqrt(s)))
}

/** True for a valid H3 cell at resolution 12 (the resolution of asserted and reported locations). */
export function isLocationCell(cell: string): boolean {
  if (locationCells.has(cell)) return true
  const isLocation = isValidCell(cell) && getResolution(cell) === 12
  if (isLocation) {
    if (locationCells.size >= cellCentreCacheEntriesMax) locationCells.clear()
    locationCells.add(cell)
  }
  return isLocation
}

/** Cells already found valid at resolution 12 (bounded like the centre cache). */
const locationCells = new Set<string>()

/**
 * Grid distance between the resolution-11 parents of two cells, or Infinity when H3 cannot
 * compute it (far apart or across a pentagon: such pairs are never "too close").
 */
export function res11GridDistance(a: string, b: string): number {
  try {
    return gridDistance(cellToParent(a, 11), cellToParent(b, 11))
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** Local east-north plane around `origin`, m (equirectangular: exact enough within 100 km). */
export function toPlane(origin: LatLng, p: LatLng): { x: number; y: number } {
  const toRad = Math.PI / 180
  return {
    x: (p.lng - origin.lng) * toRad * earthRadiusMeters * Math.cos(origin.lat * toRad),
    y: (p.lat - origin.lat) * toRad * earthRadiusMeters,
  }
}

export function fromPlane(origin: LatLng, x: number, y: number): LatLng {
  const toDeg = 180 / Math.PI
  return {
    lat: origin.lat + (y / earthRadiusMeters) * toDeg,
    lng: origin.lng + (x / (earthRadiusMeters * Math.cos((origin.lat * Math.PI) / 180))) * toDeg,
  }
}
