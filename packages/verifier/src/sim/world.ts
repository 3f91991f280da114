import { latLngToCell } from 'h3-js'
import { makeReport, signReport, beaconPayload, beaconPayloadHash, type SignedDeviceReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { sha256 } from '@terrane/codec'
import { SeededRng } from '../rng.ts'
import { cellCentre, distanceMeters, fromPlane, toPlane, type LatLng } from '../geo.ts'
import { distanceForLossMeters, freeSpaceRssiMaxDbm, hearingProbability, pathLossDb } from '../model.ts'
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
  /** Physical position in the region's local plane, m (for the spatially correlated shadowing field). */
  x: number
  y: number
  regionIndex: number
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
  /**
   * Beaconers mix signed local entropy into their payload, and the verifier requires it. @default true
   */
  localEntropy?: boolean
  /**
   * RSSI forgers have a relay: an accomplice within range of every beaconer they claim, which hears the
   * beacon and passes the payload on in time. Without local entropy no relay is needed. @default false
   */
  forgerRelay?: boolean
}

export interface World {
  params: CoverageParams
  localEntropy: boolean
  forgerRelay: boolean
  devices: SimDevice[]
  rng: SeededRng
  /** Static shadowing, dB: a reciprocal field over both link ends, correlated over `shadowCorrelationMeters`. */
  staticShadowSigmaDb: number
  /** Grid spacing of the shadowing field: links whose ends are this close share their shadowing. */
  shadowCorrelationMeters: number
  /** Fast fading, dB: independent per reception. */
  fastFadingSigmaDb: number
  /** Seed of the shadowing field (a function of the world seed). */
  fieldSeed: number
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
  const localEntropy = init.localEntropy ?? true
  const params = coverageParams({ slotsPerEpoch: 1, challengePpm: 1_000_000, localEntropyRequired: localEntropy, ...init.params })
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
    const plane = toPlane({ lat: region.lat, lng: region.lng }, physical)
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
      x: plane.x,
      y: plane.y,
      regionIndex: simRegions.indexOf(region),
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
  return {
    params,
    localEntropy,
    forgerRelay: init.forgerRelay ?? false,
    devices,
    rng,
    staticShadowSigmaDb: 5.6,
    shadowCorrelationMeters: 100,
    fastFadingSigmaDb: params.pathLoss.fastFadingDb,
    fieldSeed: rng.nextUint32(),
  }
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

/** murmur3's 32-bit finaliser: a fast integer hash for simulation noise (never for protocol decisions). */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A standard normal fixed by six integers (Box-Muller over two hashed uniforms). */
function normalFromInts(seed: number, a: number, b: number, c: number, d: number, e: number): number {
  let h = seed
  for (const v of [a, b, c, d, e]) h = fmix32((h ^ Math.imul(v | 0, 0x9e3779b1)) + 0x7f4a7c15)
  const u = (h + 0.5) / 4_294_967_296
  const v = (fmix32(h ^ 0x68e31da4) + 0.5) / 4_294_967_296
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/**
 * Static shadowing of the link a-b in units of its standard deviation: a Gaussian field over both
 * ends, bilinearly interpolated on a grid of `shadowCorrelationMeters`, so it is reciprocal
 * (S(a, b) = S(b, a)), transmitters or receivers at the same spot share it, and it decorrelates
 * beyond about two grid steps (Gudmundson's exponential correlation, here with a finite support).
 */
export function linkShadow(world: World, a: SimDevice, b: SimDevice): number {
  const g = world.shadowCorrelationMeters
  const corners = (d: SimDevice): Array<[number, number, number]> => {
    const fx = d.x / g
    const fy = d.y / g
    const i = Math.floor(fx)
    const j = Math.floor(fy)
    const tx = fx - i
    const ty = fy - j
    return [
      [i, j, (1 - tx) * (1 - ty)],
      [i + 1, j, tx * (1 - ty)],
      [i, j + 1, (1 - tx) * ty],
      [i + 1, j + 1, tx * ty],
    ]
  }
  const ca = corners(a)
  const cb = corners(b)
  let sum = 0
  let wa2 = 0
  let wb2 = 0
  for (const [, , w] of ca) wa2 += w * w
  for (const [, , w] of cb) wb2 += w * w
  for (const [ia, ja, wa] of ca)
    for (const [ib, jb, wb] of cb) {
      const isLow = ia < ib || (ia === ib && ja <= jb)
      const z = isLow
        ? normalFromInts(world.fieldSeed, a.regionIndex, ia, ja, ib, jb)
        : normalFromInts(world.fieldSeed, a.regionIndex, ib, jb, ia, ja)
      sum += wa * wb * z
    }
  return sum / Math.sqrt(wa2 * wb2)
}

export interface SimEpoch {
  slots: ChallengeSlot[]
  reports: SignedDeviceReport[]
  /** Devices with radio evidence this epoch: named in a witness report, as witness or as beaconer. */
  linked: Set<SimDevice>
}

/** RSSI forgers claim at most this many beacons per epoch that they did not hear. */
export const forgedClaimsMax = 6

/**
 * Simulates one epoch of radio: challenged devices beacon, beacons propagate with log-distance path
 * loss, reciprocal spatially correlated shadowing and fast fading, devices that hear them file signed
 * witness reports; adversaries add their fabrications.
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
  const totalSigmaDb = Math.hypot(world.staticShadowSigmaDb, world.fastFadingSigmaDb)
  // Farthest a beacon is ever heard: strongest link budget, 4.5 standard deviations of luck.
  const reach = distanceForLossMeters(model, 33 + 3 - (model.sensitivityDbm - 4.5 * totalSigmaDb), 868_000_000)
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
  const linked = new Set<SimDevice>()
  const witness = (w: SimDevice, b: SimDevice, payload: Uint8Array, timeMs: number, rssiDbm: number, frequencyHz: number): void => {
    linked.add(w).add(b)
    sign(w, 'witness', timeMs, {
      beaconDeviceId: b.record.deviceId,
      beaconPayloadHash: beaconPayloadHash(payload),
      epoch,
      rssiCentiDbm: Math.round(rssiDbm * 100),
      // LoRa SNR saturates; the schema allows -100..100 dB (a pair a metre apart would exceed it).
      snrCentiDb: Math.max(-10_000, Math.min(10_000, Math.round((rssiDbm - model.sensitivityDbm - 10) * 100))),
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
  /** A draw from the model at the asserted distance, conditioned on being decodable (the honest marginal). */
  const modelDraw = (b: SimDevice, w: SimDevice): number => {
    const mean = predictedAt(b, w, distanceMeters(b.asserted, w.asserted))
    for (let tries = 0; tries < 64; tries++) {
      const r = mean + model.shadowingDb * rng.normal()
      if (r >= model.sensitivityDbm) return Math.min(r, fsplCap(b, w))
    }
    return model.sensitivityDbm + rng.next() * 2
  }
  const beacons = new Map<SimDevice, { timeMs: number; payload: Uint8Array; heardBy: Set<SimDevice> }>()
  for (const b of devices) {
    if (b.kind === 'witness_only') continue // never answers challenges
    const timeMs = startMs + 60_000 + rng.int(params.epochMs - 120_000)
    // Local entropy: drawn by the beaconer when it transmits (here from the seeded RNG).
    const local = world.localEntropy ? sha256(new TextEncoder().encode(`sim-local:${epoch}:${b.index}:${rng.nextUint32()}`)) : undefined
    const payload = beaconPayload(entropy, b.record.deviceId, 52, local)
    const heardBy = new Set<SimDevice>()
    beacons.set(b, { timeMs, payload, heardBy })
    const body: Record<string, unknown> = {
      epoch,
      entropy,
      payload,
      frequencyHz: b.frequencyHz,
      txPowerDbm: b.txPowerDbm,
      antennaGainDbi: b.antennaGainDbi,
    }
    if (local !== undefined) body.localEntropy = local
    sign(b, 'beacon', timeMs, body as never)
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const w of buckets.get(keyOf(b.physical, dx, dy)) ?? []) {
          if (w === b || w.frequencyHz !== b.frequencyHz) continue
          const d = distanceMeters(b.physical, w.physical)
          const mean = predictedAt(b, w, d)
          if (mean + 4.5 * totalSigmaDb < model.sensitivityDbm) continue
          const rssi = mean + world.staticShadowSigmaDb * linkShadow(world, b, w) + world.fastFadingSigmaDb * rng.normal()
          if (rssi < model.sensitivityDbm) continue
          heardBy.add(w)
          if (w.kind === 'witness_ring' || w.kind === 'sybil_owners') continue // colluders only vouch for each other
          if (w.group >= 0 && w.group === b.group) continue
          // RSSI forgers report a draw from the model at the asserted distance, not what they measured.
          const reported = w.kind === 'rssi_forger' ? modelDraw(b, w) : rssi
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
  // RSSI forgers claim beacons they did not hear, from beaconers just beyond their reach, with an RSSI
  // drawn from the model at the asserted distance conditioned on being decodable: each claim, alone, looks
  // like an honest reception. They need the payload within the witness delay: without local entropy it
  // follows from public data; with it, only a relay (an accomplice that heard the beacon) can supply it.
  for (const w of devices) {
    if (w.kind !== 'rssi_forger' || (world.localEntropy && !world.forgerRelay)) continue
    const candidates: Array<{ b: SimDevice; d: number }> = []
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const b of buckets.get(keyOf(w.physical, dx, dy)) ?? []) {
          const beacon = beacons.get(b)
          if (beacon === undefined || b === w || beacon.heardBy.has(w) || b.frequencyHz !== w.frequencyHz) continue
          const d = distanceMeters(b.asserted, w.asserted)
          const p = hearingProbability(model, predictedAt(b, w, d))
          if (p >= 0.02 && p <= 0.6) candidates.push({ b, d })
        }
    candidates.sort((x, y) => x.d - y.d)
    for (const { b } of candidates.slice(0, forgedClaimsMax)) {
      const beacon = beacons.get(b) as { timeMs: number; payload: Uint8Array }
      witness(w, b, beacon.payload, beacon.timeMs + 300 + rng.int(1_000), modelDraw(b, w), b.frequencyHz)
    }
  }
  return { slots: [slot], reports, linked }
}
