import type { CoverageParams } from './params.ts'
import type { DeviceHistory, DeviceRecord, FlagKind } from './types.ts'
import type { VerificationResult, WitnessRecord } from './verify.ts'
import { cellCentre, distanceMeters, type LatLng } from './geo.ts'
import { distanceForLossMeters, hearingProbability, pathLossDb, rssiProbitScore } from './model.ts'
import { excessDistanceMeters, locationTrustPpm, multilaterate, type LocationEstimate } from './location.ts'

export interface Flag {
  kind: FlagKind
  detail: string
}

export interface StatisticsResult {
  flags: Map<string, Flag[]>
  /** Location trust (HIP-119 on the excess distance), ppm, for devices with enough evidence. */
  locationTrust: Map<string, { ppm: number; estimate: LocationEstimate; excessMeters: number }>
  /** Per witness device: this epoch's probit scores (sum, squares, count) for the decayed history. */
  rssiScores: Map<string, { sum: number; squares: number; count: number }>
}

/** History decay per epoch for the RSSI statistics (half-life one epoch). */
export const rssiHistoryDecay = 0.5
/** Pair-level statistic: samples needed and the mean score above which a pair is implausible. */
export const pairSamplesMin = 3
export const pairScoreMax = 3
/** Witness rings: smallest closed group flagged. */
export const ringSizeMin = 4

function addFlag(flags: Map<string, Flag[]>, id: string, kind: FlagKind, detail: string): void {
  const list = flags.get(id)
  if (list === undefined) flags.set(id, [{ kind, detail }])
  else if (!list.some((f) => f.kind === kind)) list.push({ kind, detail })
}

/** ln P(X <= k) for X ~ Poisson(mean). */
function poissonCdf(k: number, mean: number): number {
  let term = Math.exp(-mean)
  let sum = term
  for (let i = 1; i <= k; i++) {
    term *= mean / i
    sum += term
  }
  return sum
}

/**
 * Statistical defences over the epoch's valid witness reports. Fixed rules are what gamers tune to;
 * these test the evidence against the physics (path loss with shadowing) and the graph.
 */
export function computeStatistics(
  params: CoverageParams,
  devices: ReadonlyMap<string, DeviceRecord>,
  history: ReadonlyMap<string, DeviceHistory>,
  v: VerificationResult,
): StatisticsResult {
  const model = params.pathLoss
  const flags = new Map<string, Flag[]>()
  const valid: WitnessRecord[] = v.witnesses.filter((w) => w.status === 'selected' || w.status === 'unselected')

  // 3. Location: multilateration from valid witnesses; HIP-119 trust on the excess distance.
  const locationTrust = new Map<string, { ppm: number; estimate: LocationEstimate; excessMeters: number }>()
  const estimates = new Map<string, LocationEstimate>()
  const byBeaconer = new Map<string, WitnessRecord[]>()
  for (const w of valid) {
    const list = byBeaconer.get(w.beacon.deviceId)
    if (list === undefined) byBeaconer.set(w.beacon.deviceId, [w])
    else list.push(w)
  }
  for (const [id, list] of byBeaconer) {
    // Receptions near the sensitivity are heard only with favourable shadowing (truncation): biased ranges.
    const usable = list.filter((w) => w.rssiDbm >= model.sensitivityDbm + model.shadowingDb)
    const observations = usable.map((w) => {
      const witness = devices.get(w.deviceId) as DeviceRecord
      return {
        location: cellCentre(witness.location as string),
        rssiDbm: w.rssiDbm,
        linkBudgetDbm: w.beacon.body.txPowerDbm + w.beacon.body.antennaGainDbi + witness.antennaGainDbi,
        frequencyHz: w.beacon.body.frequencyHz,
      }
    })
    const estimate = multilaterate(model, observations)
    if (estimate === undefined || !Number.isFinite(estimate.sigmaMeters)) continue
    estimates.set(id, estimate)
    const asserted = (devices.get(id) as DeviceRecord).location as string
    const excess = excessDistanceMeters(asserted, estimate, params.locationSigmaAllowance)
    const ppm = locationTrustPpm(excess)
    locationTrust.set(id, { ppm, estimate, excessMeters: excess })
    if (ppm < 1_000_000)
      addFlag(
        flags,
        id,
        'location_mismatch',
        `radio evidence puts it ${Math.round(excess)} m beyond ${params.locationSigmaAllowance} standard errors (${Math.round(estimate.sigmaMeters)} m) of its assertion`,
      )
  }

  // RSSI of beacons whose beaconer is misplaced says nothing about the witness: leave them out.
  const misplaced = new Set([...locationTrust].filter(([, l]) => l.ppm < 1_000_000).map(([id]) => id))

  // 1. RSSI plausibility per witness device and per pair (probit scores of the truncated model).
  const rssiScores = new Map<string, { sum: number; squares: number; count: number }>()
  const pairs = new Map<string, { sum: number; count: number; witness: string; beaconer: string }>()
  for (const w of valid) {
    if (misplaced.has(w.beacon.deviceId)) continue
    const witness = devices.get(w.deviceId) as DeviceRecord
    const eirp = w.beacon.body.txPowerDbm + w.beacon.body.antennaGainDbi + witness.antennaGainDbi
    const predicted = eirp - pathLossDb(model, w.distanceMeters, w.beacon.body.frequencyHz)
    const score = rssiProbitScore(model, w.rssiDbm, predicted)
    const s = rssiScores.get(w.deviceId) ?? { sum: 0, squares: 0, count: 0 }
    s.sum += score
    s.squares += score * score
    s.count += 1
    rssiScores.set(w.deviceId, s)
    const key = `${w.beacon.deviceId}\u0000${w.deviceId}`
    const p = pairs.get(key) ?? { sum: 0, count: 0, witness: w.deviceId, beaconer: w.beacon.deviceId }
    p.sum += score
    p.count += 1
    pairs.set(key, p)
  }
  for (const [id, s] of rssiScores) {
    const h = history.get(id)
    const sum = s.sum + (h?.rssiScoreSum ?? 0) * rssiHistoryDecay
    const squares = s.squares + (h?.rssiScoreSquares ?? 0) * rssiHistoryDecay
    const count = s.count + (h?.rssiScoreCount ?? 0) * rssiHistoryDecay
    if (count < params.rssiSamplesMin) continue
    const z = sum / Math.sqrt(count)
    if (z > params.rssiZMax)
      addFlag(flags, id, 'rssi_implausible', `mean RSSI score z=${z.toFixed(1)} over ${count.toFixed(1)} samples (max ${params.rssiZMax})`)
    const mean = sum / count
    const variance = squares / count - mean * mean
    if (count >= 2 * params.rssiSamplesMin && variance < params.rssiVarianceMin)
      addFlag(flags, id, 'rssi_too_regular', `RSSI score variance ${variance.toFixed(2)} (honest: 1, min ${params.rssiVarianceMin})`)
  }
  for (const p of pairs.values()) {
    if (p.count < pairSamplesMin) continue
    const mean = p.sum / p.count
    if (mean > pairScoreMax)
      addFlag(flags, p.witness, 'pair_rssi_implausible', `RSSI from ${p.beaconer} scores ${mean.toFixed(1)} over ${p.count} beacons`)
  }

  // 2. Silent neighbourhood: nearby active devices that the model says should hear a beacon, but did not.
  const eirpMax = 36
  const reach = distanceForLossMeters(model, eirpMax + 10 - (model.sensitivityDbm - 3 * model.shadowingDb), 868_000_000)
  const bucketDeg = reach / 111_000
  const buckets = new Map<string, DeviceRecord[]>()
  const bucketOf = (p: LatLng): [number, number] => [
    Math.floor(p.lat / bucketDeg),
    Math.floor(p.lng / (bucketDeg / Math.max(0.2, Math.cos((p.lat * Math.PI) / 180)))),
  ]
  for (const id of v.active) {
    const d = devices.get(id)
    if (d?.location === undefined) continue
    const [bx, by] = bucketOf(cellCentre(d.location))
    const key = `${bx},${by}`
    const list = buckets.get(key)
    if (list === undefined) buckets.set(key, [d])
    else list.push(d)
  }
  const expected = new Map<string, number>()
  const observed = new Map<string, number>()
  for (const b of v.beacons) {
    const beaconer = devices.get(b.deviceId) as DeviceRecord
    const at = cellCentre(beaconer.location as string)
    const heardBy = new Set(b.passed.map((w) => w.deviceId))
    const [bx, by] = bucketOf(at)
    let e = 0
    let o = 0
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++) {
        for (const c of buckets.get(`${bx + dx},${by + dy}`) ?? []) {
          if (c.deviceId === b.deviceId || c.region !== beaconer.region) continue
          const d = distanceMeters(at, cellCentre(c.location as string))
          if (d > reach) continue
          const predicted = b.body.txPowerDbm + b.body.antennaGainDbi + c.antennaGainDbi - pathLossDb(model, d, b.body.frequencyHz)
          const p = hearingProbability(model, predicted)
          e += p
          if (heardBy.has(c.deviceId)) o += 1
        }
      }
    expected.set(b.deviceId, (expected.get(b.deviceId) ?? 0) + e)
    observed.set(b.deviceId, (observed.get(b.deviceId) ?? 0) + o)
  }
  for (const [id, e] of expected) {
    const o = observed.get(id) ?? 0
    if (e < params.silenceExpectedMin) continue
    if (o * 1_000_000 < params.silenceHeardPpmMin * e && poissonCdf(o, e) < 1e-4)
      addFlag(flags, id, 'silent_neighbourhood', `heard by ${o} of ${e.toFixed(1)} expected nearby devices`)
  }

  // 4. Co-location: beacons heard by the same witnesses with the same RSSI come from one place.
  const rssiByBeaconer = new Map<string, Map<string, number>>()
  for (const [id, list] of byBeaconer) rssiByBeaconer.set(id, new Map(list.map((w) => [w.deviceId, w.rssiDbm])))
  const beaconersByWitness = new Map<string, string[]>()
  for (const w of valid) {
    const list = beaconersByWitness.get(w.deviceId)
    if (list === undefined) beaconersByWitness.set(w.deviceId, [w.beacon.deviceId])
    else list.push(w.beacon.deviceId)
  }
  const colocatedWith = new Map<string, Set<string>>()
  const checked = new Set<string>()
  for (const list of beaconersByWitness.values()) {
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as string
        const b = list[j] as string
        if (a === b) continue
        const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
        if (checked.has(key)) continue
        checked.add(key)
        const ra = rssiByBeaconer.get(a) as Map<string, number>
        const rb = rssiByBeaconer.get(b) as Map<string, number>
        let common = 0
        let squares = 0
        for (const [wid, r] of ra) {
          const other = rb.get(wid)
          if (other === undefined || wid === a || wid === b) continue
          common++
          squares += (r - other) ** 2
        }
        if (common < params.colocationCommonMin) continue
        const rms = Math.sqrt(squares / common)
        const da = devices.get(a) as DeviceRecord
        const db = devices.get(b) as DeviceRecord
        const apart = distanceMeters(cellCentre(da.location as string), cellCentre(db.location as string))
        if (rms <= params.colocationRssiDbMax && apart > 300) {
          for (const [x, y] of [
            [a, b],
            [b, a],
          ] as const) {
            const set = colocatedWith.get(x) ?? new Set<string>()
            set.add(y)
            colocatedWith.set(x, set)
          }
        }
      }
  }
  for (const [id, set] of colocatedWith)
    if (set.size >= 3)
      addFlag(
        flags,
        id,
        'colocated',
        `heard like ${set.size} devices asserted more than 300 m away (RSSI within ${params.colocationRssiDbMax} dB RMS)`,
      )

  // 5. Graph: owners whose devices mostly witness each other; closed rings that only witness each other.
  const interactions = new Map<string, { total: number; sameOwner: number }>()
  const partners = new Map<string, Set<string>>()
  for (const w of valid) {
    const wo = (devices.get(w.deviceId) as DeviceRecord).owner
    const bo = (devices.get(w.beacon.deviceId) as DeviceRecord).owner
    for (const [id, owner] of [
      [w.deviceId, wo],
      [w.beacon.deviceId, bo],
    ] as const) {
      const s = interactions.get(owner) ?? { total: 0, sameOwner: 0 }
      s.total++
      if (wo === bo) s.sameOwner++
      interactions.set(owner, s)
      const p = partners.get(id) ?? new Set<string>()
      p.add(id === w.deviceId ? w.beacon.deviceId : w.deviceId)
      partners.set(id, p)
    }
  }
  const devicesByOwner = new Map<string, string[]>()
  for (const d of devices.values()) {
    const list = devicesByOwner.get(d.owner)
    if (list === undefined) devicesByOwner.set(d.owner, [d.deviceId])
    else list.push(d.deviceId)
  }
  for (const [owner, s] of interactions) {
    const fleet = devicesByOwner.get(owner) ?? []
    if (fleet.length < 3 || s.total < params.ownerInteractionsMin) continue
    if (s.sameOwner * 1_000_000 > params.ownerAffinityPpmMax * s.total)
      for (const id of fleet)
        addFlag(flags, id, 'owner_affinity', `owner ${owner}: ${s.sameOwner} of ${s.total} witness interactions are among its own devices`)
  }
  for (const [id, mine] of partners) {
    if (mine.size < ringSizeMin - 1) continue
    const group = new Set([id, ...mine])
    let isClosed = true
    for (const member of mine) {
      const theirs = partners.get(member)
      if (theirs === undefined) {
        isClosed = false
        break
      }
      for (const p of theirs)
        if (!group.has(p)) {
          isClosed = false
          break
        }
      if (!isClosed) break
      if (theirs.size < mine.size - 1) isClosed = false
    }
    if (isClosed) addFlag(flags, id, 'witness_ring', `its ${mine.size} witness partners interact only with each other`)
  }

  return { flags, locationTrust, rssiScores }
}
