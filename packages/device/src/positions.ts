import { cellToLatLng, greatCircleDistance } from 'h3-js'
import { DeviceError } from './errors.ts'
import { locationCell } from './onboarding.ts'
import type { Rng } from './rng.ts'

export interface Region {
  lat: number
  lng: number
  radiusKm: number
}

export interface Position {
  lat: number
  lng: number
  /** H3 resolution-12 cell. */
  location: string
  /** Which population point the device clusters around. */
  cluster: number
}

/** Kilometres per degree of latitude (mean Earth radius 6371.0088 km). */
const kmPerDegree = 111.195

function offset(lat: number, lng: number, northKm: number, eastKm: number): { lat: number; lng: number } {
  return { lat: lat + northKm / kmPerDegree, lng: lng + eastKm / (kmPerDegree * Math.cos((lat * Math.PI) / 180)) }
}

/**
 * Realistic device positions: a few population points inside the region with Zipf-like sizes
 * (a city, towns, villages), devices scattered around them with a normal spread that grows with
 * the point's size, every position inside the region, snapped to an H3 resolution-12 cell.
 * Deterministic for a given RNG state.
 */
export function simulatePositions(count: number, region: Region, rng: Rng): Position[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new DeviceError('DEVICE_CONFIG', 'count must be a non-negative integer')
  if (!(region.radiusKm > 0 && region.radiusKm <= 2000)) throw new DeviceError('DEVICE_CONFIG', 'radiusKm must be in (0, 2000]')
  if (!(Math.abs(region.lat) <= 85)) throw new DeviceError('DEVICE_CONFIG', 'lat must be within ±85°')
  const clusterCount = Math.max(1, Math.min(40, Math.round(Math.sqrt(count) / 2)))
  const clusters = Array.from({ length: clusterCount }, (_, i) => {
    // Uniform in the disc: r = R sqrt(u).
    const r = region.radiusKm * Math.sqrt(rng.next()) * (i === 0 ? 0.3 : 0.9)
    const theta = 2 * Math.PI * rng.next()
    const center = offset(region.lat, region.lng, r * Math.cos(theta), r * Math.sin(theta))
    const weight = 1 / (i + 1) // Zipf's law for city sizes
    const spreadKm = Math.max(0.2, region.radiusKm * 0.08 * Math.sqrt(weight))
    return { ...center, weight, spreadKm }
  })
  const totalWeight = clusters.reduce((s, c) => s + c.weight, 0)
  const out: Position[] = []
  for (let i = 0; i < count; i++) {
    let pick = rng.next() * totalWeight
    let cluster = 0
    while (cluster < clusters.length - 1 && pick >= (clusters[cluster]?.weight ?? 0)) pick -= clusters[cluster++]?.weight ?? 0
    const c = clusters[cluster] ?? clusters[0]
    if (c === undefined) throw new DeviceError('DEVICE_CONFIG', 'no cluster')
    let position = { lat: c.lat, lng: c.lng }
    for (let attempt = 0; attempt < 16; attempt++) {
      const candidate = offset(c.lat, c.lng, rng.normal() * c.spreadKm, rng.normal() * c.spreadKm)
      if (greatCircleDistance([candidate.lat, candidate.lng], [region.lat, region.lng], 'km') <= region.radiusKm) {
        position = candidate
        break
      }
    }
    const location = locationCell(position.lat, position.lng)
    const [lat, lng] = cellToLatLng(location)
    out.push({ lat, lng, location, cluster })
  }
  return out
}
