import { latLngToCell } from 'h3-js'
import { makeReport, signReport, beaconPayload, beaconPayloadHash, type SignedDeviceReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { sha256 } from '@terrane/codec'
import { SeededRng, hashDraw } from '../rng.ts'
import { cellCentre, distanceMeters, fromPlane, type LatLng } from '../geo.ts'
import { distanceForLossMeters, freeSpaceRssiMaxDbm, pathLossDb } from '../model.ts'
import { coverageParams, type CoverageParams } from '../params.ts'
import type { ChallengeSlot } from '../challenges.ts'
import type { CoverageHistory, DeviceHistory, DeviceRecord } from '../types.ts'

export const adversaryKinds = ['spoofer', 'grid_cluster', 'witness_ring', 'rssi_forger', 'sybil_owners', 'witness_only'] as const
export type AdversaryKind = (typeof adversaryKinds)[number]
export type DeviceKind = 'honest' | AdversaryKind

/** Real places with realistic hotspot densities (dense metros, a sparse rural region). */
export const simRegions = [
  { name: 'london', lat: 51.507, lng: -0.128, radiusKm: 40, share: 0.24, region: 'EU868', frequencyHz: 868_100_000 },
  { name: 'berlin', lat: 52.52, lng: 13.405, radiusKm: 32, share: 0.16, region: 'EU868', frequencyHz: 868_100_000 },
  { name: 'san-francisco', lat: 37.77, lng: -122.42, radiusKm: 36, share: 0.2, region: 'US915', frequencyHz: 904_300_000 },
  { name: 'lagos', lat: 6.524, lng: 3.379, radiusKm: 32, share: 0.12, region: 'EU868', frequencyHz: 868_100_000 },
  { name: 'austin', lat: 30.267, lng: -97.743, radiusKm: 30, share: 0.1, region: 'US915', frequencyHz: 904_300_000 },
  { name: 'iowa-rural', lat: 42.0, lng: -93.5, radiusKm: 70, share: 0.18, region: 'US915', frequencyHz: 904_300_000 },
] as const

export interface SimDevice {
  index: number
  kind: DeviceKind
  /** Adversary group (cluster, ring, sybil set), -1 if none. */
  group: number
  key: ReturnType<typeof deviceKeyFromSeed>
  record: DeviceRecord
  physical: LatLng
  asserted: LatLng
  frequencyHz: number
  txPowerDbm: number
  antennaGainDbi: number
  seq: number
}

export interface WorldInit {
  devices: number
  seed: number | string
  /** Share of devices that are adversaries. @default 0.1 */
  adversaryShare?: number
  /** Adversary kinds mixed in (equal shares). @default all */
  adversaries?: readonly AdversaryKind[]
  params?: Partial<CoverageParams>
}

export interface World {
  params: CoverageParams
  devices: SimDevice[]
  rng: SeededRng
  /** Static shadowing (dB) per transmitter spot and receiver: spots at the same place share it. */
  staticShadowSigmaDb: number
  fastFadingSigmaDb: number
}

const groupSizes: Record<AdversaryKind, number> = {
  spoofer: 1,
  grid_cluster: 9,
  witness_ring: 6,
  rssi_forger: 1,
  sybil_owners: 8,
  witness_only: 1,
}

function offset(origin: LatLng, distanceM: number, bearing: number): LatLng {
  return fromPlane(origin, distanceM * Math.sin(bearing), distanceM * Math.cos(bearing))
}

/** Places honest devices and adversaries on real geography, with keys from the seed. */
export function buildWorld(init: WorldInit): World {
  const rng = new SeededRng(init.seed)
  const params = coverageParams({ slotsPerEpoch: 1, challengePpm: 1_000_000, ...init.params })
  const scale = Math.sqrt(init.devices / 10_000)
  const adversaryShare = init.adversaryShare ?? 0.1
  const kinds = init.adversaries ?? adversaryKinds
  const adversaryTotal = kinds.length === 0 ? 0 : Math.round(init.devices * adversaryShare)
  const plan: Array<{ kind: AdversaryKind; size: number }> = []
  let planned = 0
  for (let k = 0; planned < adversaryTotal; k++) {
    const kind = kinds[k % kinds.length] as AdversaryKind
    const size = Math.min(groupSizes[kind], adversaryTotal - planned)
    plan.push({ kind, size })
    planned += size
  }
  const devices: SimDevice[] = []
  const make = (
    kind: DeviceKind,
    group: number,
    owner: string,
    physical: LatLng,
    asserted: LatLng,
    region: (typeof simRegions)[number],
  ): void => {
    const index = devices.length
    const key = deviceKeyFromSeed(`${init.seed}:${index}`)
    devices.push({
      index,
      kind,
      group,
      key,
      record: {
        deviceId: key.deviceId,
        publicKey: key.publicKey,
        owner,
        location: latLngToCell(asserted.lat, asserted.lng, 12),
        region: region.region,
        antennaGainDbi: 3,
      },
      physical,
      asserted,
      frequencyHz: region.frequencyHz,
      txPowerDbm: region.region === 'EU868' ? 14 : 27,
      antennaGainDbi: 3,
      seq: 0,
    })
  }
  const pickRegion = (): (typeof simRegions)[number] => {
    let u = rng.next()
    for (const r of simRegions) {
      u -= r.share
      if (u < 0) return r
    }
    return simRegions[0]
  }
  const pointIn = (r: (typeof simRegions)[number]): LatLng => {
    const radius = r.radiusKm * 1000 * scale
    const d = r.name === 'iowa-rural' ? radius * Math.sqrt(rng.next()) : Math.min(radius, Math.abs(rng.normal()) * radius * 0.5)
    return offset({ lat: r.lat, lng: r.lng }, d, rng.next() * 2 * Math.PI)
  }
  // Honest operators: fleets of 1-4 devices, each placed independently in one region.
  let ownerIndex = 0
  while (devices.length < init.devices - adversaryTotal) {
    const owner = `owner${ownerIndex++}`
    const fleet = 1 + rng.int(4)
    const region = pickRegion()
    for (let i = 0; i < fleet && devices.length < init.devices - adversaryTotal; i++) {
      const p = pointIn(region)
      make('honest', -1, owner, p, p, region)
    }
  }
  plan.forEach(({ kind, size }, group) => {
    const region = simRegions[rng.int(5)] as (typeof simRegions)[number] // attackers live in cities
    const owner = `attacker${group}`
    const home = pointIn(region)
    for (let i = 0; i < size; i++) {
      const member = kind === 'sybil_owners' ? `sybil${group}-${i}` : owner
      if (kind === 'spoofer') make(kind, group, member, home, offset(home, 3_000 + rng.next() * 17_000, rng.next() * 2 * Math.PI), region)
      else if (kind === 'grid_cluster') {
        // A regular 3x3 grid, 500 m apart (beyond the too-close rule), all hardware in one room.
        const gx = (i % 3) - 1
        const gy = Math.floor(i / 3) - 1
        make(kind, group, member, home, fromPlane(home, gx * 500, gy * 500), region)
      } else if (kind === 'witness_ring' || kind === 'sybil_owners')
        make(kind, group, member, home, offset(home, 800 + rng.next() * 4_000, rng.next() * 2 * Math.PI), region)
      else {
        const p = pointIn(region)
        make(kind, group, member, p, p, region)
      }
    }
  })
  return { params, devices, rng, staticShadowSigmaDb: 5.6, fastFadingSigmaDb: 2 }
}

/** Reciprocity history as if every device that beacons had been active in the last day. */
export function warmHistory(world: World, nowMs: number): CoverageHistory {
  const devices = new Map<string, DeviceHistory>()
  for (const d of world.devices) {
    const h: DeviceHistory = { lastSeq: -1, cleanEpochs: 0, escrow: [], rssiScoreSum: 0, rssiScoreSquares: 0, rssiScoreCount: 0 }
    h.lastWitnessMs = nowMs - 3_600_000
    if (d.kind !== 'witness_only') h.lastBeaconMs = nowMs - 8 * 3_600_000
    devices.set(d.record.deviceId, h)
  }
  return { epoch: -1, devices }
}

function gaussianFromHash(...parts: string[]): number {
  const a = Number(hashDraw(...parts) >> 11n) / 2 ** 53
  const b = Number(hashDraw(...parts, 'b') >> 11n) / 2 ** 53
  return Math.sqrt(-2 * Math.log(1 - a)) * Math.cos(2 * Math.PI * b)
}

export interface SimEpoch {
  slots: ChallengeSlot[]
  reports: SignedDeviceReport[]
}

/**
 * Simulates one epoch of radio: challenged devices beacon, beacons propagate with log-distance path
 * loss and log-normal shadowing (static per place and receiver, plus fast fading), devices that hear
 * them file signed witness reports; adversaries add their fabrications.
 */
export function simulateEpoch(world: World, epoch: number, startMs: number): SimEpoch {
  const { params, rng, devices } = world
  const model = params.pathLoss
  const entropy = sha256(new TextEncoder().encode(`sim-entropy:${epoch}:${rng.nextUint32()}`))
  const slot: ChallengeSlot = { slot: 0, entropy, startMs, endMs: startMs + params.epochMs }
  const reports: SignedDeviceReport[] = []
  const sign = (d: SimDevice, kind: 'beacon' | 'witness', timeMs: number, body: never): void => {
    const report = makeReport({ deviceId: d.record.deviceId, seq: ++d.seq, timeMs, kind }, body)
    reports.push(signReport(params.chainId, report, d.key.sign))
  }
  const reach = distanceForLossMeters(model, 33 + 3 - (model.sensitivityDbm - 3 * model.shadowingDb), 868_000_000)
  const bucketDeg = reach / 111_000
  const buckets = new Map<string, SimDevice[]>()
  const keyOf = (p: LatLng, dx = 0, dy = 0): string =>
    `${Math.floor(p.lat / bucketDeg) + dx},${Math.floor(p.lng / (bucketDeg / Math.cos((p.lat * Math.PI) / 180))) + dy}`
  for (const d of devices) {
    const k = keyOf(d.physical)
    const list = buckets.get(k)
    if (list === undefined) buckets.set(k, [d])
    else list.push(d)
  }
  const byGroup = new Map<number, SimDevice[]>()
  for (const d of devices)
    if (d.group >= 0) {
      const list = byGroup.get(d.group)
      if (list === undefined) byGroup.set(d.group, [d])
      else list.push(d)
    }
  const witness = (w: SimDevice, b: SimDevice, payload: Uint8Array, timeMs: number, rssiDbm: number, frequencyHz: number): void => {
    sign(w, 'witness', timeMs, {
      beaconDeviceId: b.record.deviceId,
      beaconPayloadHash: beaconPayloadHash(payload),
      epoch,
      rssiCentiDbm: Math.round(rssiDbm * 100),
      snrCentiDb: Math.round((rssiDbm - model.sensitivityDbm - 10) * 100),
      frequencyHz,
      receivedAtMs: timeMs,
      location: w.record.location as string,
    } as never)
  }
  const predictedAt = (b: SimDevice, w: SimDevice, d: number): number =>
    b.txPowerDbm + b.antennaGainDbi + w.antennaGainDbi - pathLossDb(model, d, b.frequencyHz)
  const fsplCap = (b: SimDevice, w: SimDevice): number =>
    freeSpaceRssiMaxDbm(
      distanceMeters(cellCentre(b.record.location as string), cellCentre(w.record.location as string)),
      b.frequencyHz,
      b.txPowerDbm + b.antennaGainDbi,
      w.antennaGainDbi,
    ) - 0.5
  for (const b of devices) {
    if (b.kind === 'witness_only') continue // never answers challenges
    const timeMs = startMs + 60_000 + rng.int(params.epochMs - 120_000)
    const payload = beaconPayload(entropy, b.record.deviceId)
    sign(b, 'beacon', timeMs, {
      epoch,
      entropy,
      payload,
      frequencyHz: b.frequencyHz,
      txPowerDbm: b.txPowerDbm,
      antennaGainDbi: b.antennaGainDbi,
    } as never)
    const spot = latLngToCell(b.physical.lat, b.physical.lng, 12)
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const w of buckets.get(keyOf(b.physical, dx, dy)) ?? []) {
          if (w === b || w.frequencyHz !== b.frequencyHz) continue
          if (w.kind === 'witness_ring' || w.kind === 'sybil_owners') continue // colluders only vouch for each other
          if (w.group >= 0 && w.group === b.group) continue
          const d = distanceMeters(b.physical, w.physical)
          if (d > reach) continue
          const rssi =
            predictedAt(b, w, d) +
            world.staticShadowSigmaDb * gaussianFromHash('shadow', spot, w.record.deviceId) +
            world.fastFadingSigmaDb * rng.normal()
          if (rssi < model.sensitivityDbm) continue
          const reported = w.kind === 'rssi_forger' ? Math.min(rssi + 8, fsplCap(b, w)) : rssi
          witness(w, b, payload, timeMs + 200 + rng.int(1_500), reported, b.frequencyHz)
        }
    // Colluders fabricate reports for each other's beacons, with RSSI from the model at the asserted distance.
    if (b.group >= 0 && b.kind !== 'spoofer' && b.kind !== 'rssi_forger') {
      for (const w of byGroup.get(b.group) ?? []) {
        if (w === b) continue
        const d = distanceMeters(b.asserted, w.asserted)
        const rssi = Math.max(model.sensitivityDbm + 1, Math.min(predictedAt(b, w, d) + model.shadowingDb * rng.normal(), fsplCap(b, w)))
        witness(w, b, payload, timeMs + 200 + rng.int(1_500), rssi, b.frequencyHz)
      }
    }
  }
  // RSSI forgers also claim beacons they never heard, 6-15 km away, with strong signals.
  const beacons = new Map<string, { b: SimDevice; timeMs: number }>()
  for (const r of reports)
    if (r.report.kind === 'beacon')
      beacons.set(r.report.deviceId, {
        b: devices.find((d) => d.record.deviceId === r.report.deviceId) as SimDevice,
        timeMs: r.report.timeMs,
      })
  for (const w of devices) {
    if (w.kind !== 'rssi_forger') continue
    let claimed = 0
    for (let dx = -2; dx <= 2 && claimed < 6; dx++)
      for (let dy = -2; dy <= 2 && claimed < 6; dy++)
        for (const b of buckets.get(keyOf(w.physical, dx, dy)) ?? []) {
          const d = distanceMeters(b.physical, w.physical)
          const beacon = beacons.get(b.record.deviceId)
          if (beacon === undefined || d < 6_000 || d > 15_000 || b.frequencyHz !== w.frequencyHz || claimed >= 6) continue
          claimed++
          const rssi = Math.min(predictedAt(b, w, d) + 15, fsplCap(b, w))
          witness(
            w,
            b,
            beaconPayload(entropy, b.record.deviceId),
            beacon.timeMs + 300 + rng.int(1_000),
            Math.max(rssi, model.sensitivityDbm + 2),
            b.frequencyHz,
          )
        }
  }
  return { slots: [slot], reports }
}
