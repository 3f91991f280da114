import type { CoverageParams } from './params.ts'
import { coverageShareBps } from './params.ts'
import { hexDensityPpm } from './density.ts'
import { allocate, beaconUnitsPpm, witnessUnitsPpm } from './rewards.ts'
import type { DeviceHistory, EscrowEntry, Payout } from './types.ts'

/** What scoring needs from one valid beacon. */
export interface BeaconSummary {
  deviceId: string
  /** Witnesses selected for rewards (at most witnessesPerBeaconMax). */
  selectedWitnessIds: readonly string[]
}

export interface ScoringInput {
  params: CoverageParams
  epoch: number
  /** deviceId -> owner, for every device that may be paid or holds escrow. */
  owners: ReadonlyMap<string, string>
  beacons: readonly BeaconSummary[]
  /** Active devices for density (reciprocal beacon in the last 60 h) -> asserted res-12 cell. */
  activeLocations: ReadonlyMap<string, string>
  availabilityPpm: ReadonlyMap<string, number>
  locationPpm: ReadonlyMap<string, number>
  /** Devices flagged by a statistical defence this epoch (earn into escrow). */
  flagged: ReadonlySet<string>
  /** Devices whose appeal was granted this epoch (escrow released, flags lifted). */
  appealed: ReadonlySet<string>
  history: ReadonlyMap<string, DeviceHistory>
}

export interface DeviceScore {
  beaconUnitsPpm: number
  witnessUnitsPpm: number
  densityPpm: number
  locationPpm: number
  availabilityPpm: number
  beaconWeight: bigint
  witnessWeight: bigint
  escrowState: 'none' | 'held' | 'released' | 'forfeited' | 'appealed'
}

export interface ScoringResult {
  poolMicro: bigint
  beaconPoolMicro: bigint
  witnessPoolMicro: bigint
  /** Pool left unallocated (no weight at all): returned to the emission treasury. */
  unallocatedMicro: bigint
  payouts: Payout[]
  scores: Map<string, DeviceScore>
  escrow: Map<string, EscrowEntry[]>
  clean: Map<string, number>
}

const ppm = 1_000_000

/**
 * Turns valid beacons into payouts: Helium reward units scaled by hex density (of the beaconer, for
 * both its beacon and the witnesses of it, as HIP-17), location trust and availability, all in integer
 * ppm, split by largest remainder so payouts sum exactly to the pool. Flagged devices earn into
 * escrow; escrow is released after escrowRecheckEpochs clean epochs or a granted appeal, and
 * forfeited after escrowHoldEpochs.
 */
export function scoreEpoch(input: ScoringInput): ScoringResult {
  const { params, epoch } = input
  const poolMicro = (input.params.emissionPerEpochMicro * BigInt(coverageShareBps(params, epoch))) / 10_000n
  const beaconPoolMicro = (poolMicro * BigInt(params.beaconShareBps)) / 10_000n
  const witnessPoolMicro = poolMicro - beaconPoolMicro
  const density = hexDensityPpm(input.activeLocations)
  const scores = new Map<string, DeviceScore>()
  // Weights are sums of products of four ppm factors (up to about 2e24: bigints). The beaconer's own
  // factors, and a witness's location and availability, are the same in every term of its sum, so they
  // multiply the sum once: beaconWeight = sum(units) * d * l * a, witnessWeight = sum(units * d_beaconer) * l * a.
  // The inner sums are exact doubles below 2^53 and are carried into a bigint before they could pass it.
  const witnessSums = new Map<string, { sum: number; carried: bigint }>()
  const scoreOf = (id: string): DeviceScore => {
    let s = scores.get(id)
    if (s === undefined) {
      s = {
        beaconUnitsPpm: 0,
        witnessUnitsPpm: 0,
        densityPpm: density.get(id) ?? ppm,
        locationPpm: input.locationPpm.get(id) ?? ppm,
        availabilityPpm: input.availabilityPpm.get(id) ?? ppm,
        beaconWeight: 0n,
        witnessWeight: 0n,
        escrowState: 'none',
      }
      scores.set(id, s)
    }
    return s
  }
  for (const b of input.beacons) {
    const n = b.selectedWitnessIds.length
    const beaconer = scoreOf(b.deviceId)
    beaconer.beaconUnitsPpm += beaconUnitsPpm(n)
    const perWitness = witnessUnitsPpm(n)
    const term = perWitness * beaconer.densityPpm // <= 2e6 * 1e6
    for (const wid of b.selectedWitnessIds) {
      const w = scoreOf(wid)
      w.witnessUnitsPpm += perWitness
      let tally = witnessSums.get(wid)
      if (tally === undefined) witnessSums.set(wid, (tally = { sum: 0, carried: 0n }))
      if (tally.sum + term > Number.MAX_SAFE_INTEGER) {
        tally.carried += BigInt(tally.sum)
        tally.sum = 0
      }
      tally.sum += term
    }
  }
  const sortedIds = [...scores.keys()].sort()
  const beaconWeights = new Map<string, bigint>()
  const witnessWeights = new Map<string, bigint>()
  for (const id of sortedIds) {
    const s = scores.get(id) as DeviceScore
    const factors = BigInt(s.locationPpm) * BigInt(s.availabilityPpm)
    if (s.beaconUnitsPpm > 0) s.beaconWeight = BigInt(s.beaconUnitsPpm) * BigInt(s.densityPpm) * factors
    const tally = witnessSums.get(id)
    if (tally !== undefined) s.witnessWeight = (tally.carried + BigInt(tally.sum)) * factors
    beaconWeights.set(id, s.beaconWeight)
    witnessWeights.set(id, s.witnessWeight)
  }
  const beaconShares = allocate(beaconPoolMicro, beaconWeights)
  const witnessShares = allocate(witnessPoolMicro, witnessWeights)
  let allocated = 0n
  for (const v of beaconShares.values()) allocated += v
  for (const v of witnessShares.values()) allocated += v

  // Every scored device, then devices holding escrow, in id order.
  const extra: string[] = []
  for (const [id, h] of input.history) if (h.escrow.length > 0 && !scores.has(id)) extra.push(id)
  const ids = extra.length === 0 ? sortedIds : [...sortedIds, ...extra].sort()
  const payouts: Payout[] = []
  const escrow = new Map<string, EscrowEntry[]>()
  const clean = new Map<string, number>()
  for (const id of ids) {
    const h = input.history.get(id)
    const earned = (beaconShares.get(id) ?? 0n) + (witnessShares.get(id) ?? 0n)
    const isAppealed = input.appealed.has(id)
    const isFlagged = input.flagged.has(id) && !isAppealed
    const cleanEpochs = isFlagged ? 0 : (h?.cleanEpochs ?? 0) + 1
    clean.set(id, cleanEpochs)
    let entries = [...(h?.escrow ?? [])]
    let escrowed = 0n
    let paid = 0n
    let released = 0n
    let forfeited = 0n
    const s = scoreOf(id)
    if (isFlagged && earned > 0n) {
      entries.push({ epoch, amountMicro: earned })
      escrowed = earned
      s.escrowState = 'held'
    } else paid = earned
    if (isAppealed || (!isFlagged && cleanEpochs >= params.escrowRecheckEpochs)) {
      for (const e of entries) released += e.amountMicro
      if (entries.length > 0) s.escrowState = isAppealed ? 'appealed' : 'released'
      entries = []
    }
    const kept: EscrowEntry[] = []
    for (const e of entries) {
      if (epoch - e.epoch >= params.escrowHoldEpochs) {
        forfeited += e.amountMicro
        s.escrowState = 'forfeited'
      } else kept.push(e)
    }
    if (kept.length > 0 && s.escrowState === 'none') s.escrowState = 'held'
    escrow.set(id, kept)
    paid += released
    if (earned === 0n && paid === 0n && escrowed === 0n && forfeited === 0n) continue
    payouts.push({
      deviceId: id,
      owner: input.owners.get(id) ?? '',
      earnedMicro: earned,
      paidMicro: paid,
      escrowedMicro: escrowed,
      releasedMicro: released,
      forfeitedMicro: forfeited,
    })
  }
  return { poolMicro, beaconPoolMicro, witnessPoolMicro, unallocatedMicro: poolMicro - allocated, payouts, scores, escrow, clean }
}
