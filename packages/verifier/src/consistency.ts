import type { PathLossModel } from './params.ts'
import { normalQuantile } from './model.ts'
import { chiSquareUpper, logNormalUpper, normalUpper } from './prob.ts'

/**
 * Link consistency: every reception of a link, in both directions and every epoch, against what the
 * link's other receptions (and misses) say about its static shadowing, with the sensitivity's truncation
 * in the likelihood.
 *
 * A link's path gain is m + S + fading: m the model's mean at the asserted distance, S its static
 * shadowing (one draw, shared by both directions: reciprocity), fading drawn afresh per reception. A
 * receiver reports a beacon only if the gain clears its floor (sensitivity minus EIRP minus its antenna
 * gain). For a reception g reported by R, the posterior of S given everything else the pair's window holds
 * (the partner's receptions and misses, R's misses, R's earlier receptions, and that R's later ones were
 * heard) gives the predictive distribution of g given that it was heard; its probability-integral transform,
 * mapped through the normal quantile, is N(0, 1) and independent across R's receptions for an honest pair
 * (Rosenblatt's sequential transform), whatever the distance and however close to the floor. A forger that
 * reports model draws instead of measurements ignores S: its values scatter by the whole shadowing spread
 * around where the partner's receptions put the link. R's sum of z^2 is chi-square with one degree of
 * freedom per reception.
 *
 * Why this and not only the chi-square differences of rssi_not_reciprocal and rssi_unstable: those must
 * leave out receptions near the sensitivity (selection compresses them, and the plain differences would
 * be miscalibrated), which is where the forgers they miss live: in sparse places every link of a device is
 * weak. Here the truncation is part of the likelihood, so those receptions count at their true weight.
 *
 * The posterior is computed on a grid of S (a quarter of the fading's standard deviation apart, 0.5 dB, over six
 * shadowing standard deviations each way), with the model's prior N(0, shadowing^2 - fading^2).
 */

/** One direction of a link in one epoch. */
export interface LinkDirectionEpoch {
  /** Beacons the receiver had the chance to hear: the transmitter's beacons while the receiver was listening. */
  attempts: number
  /** Lowest decodable path gain, dB: sensitivity minus the transmitter's EIRP minus the receive antenna gain. */
  floorDb: number
  /** Path gains the receiver reported, dB (RSSI minus EIRP minus receive antenna gain). */
  gainsDb: readonly number[]
}

export interface LinkWindowEpoch {
  epoch: number
  /** a -> b (received by b) and b -> a (received by a); absent when no attempt was possible. */
  ab?: LinkDirectionEpoch
  ba?: LinkDirectionEpoch
}

/** A pair's evidence over the window, misses included; `a` < `b`. */
export interface LinkWindow {
  a: string
  b: string
  /** Asserted cells of both ends: the window is dropped when either re-asserts. */
  aLocation: string
  bLocation: string
  /** Model mean path gain at the asserted distance, dB (minus the path loss). */
  meanGainDb: number
  epochs: readonly LinkWindowEpoch[]
}

export function linkWindowKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
}

/** This epoch's radio, as the link windows need it. */
export interface LinkEpochInputs {
  epoch: number
  /** Epochs a window keeps (params.evidenceEpochs). */
  windowEpochs: number
  sensitivityDbm: number
  /** Receptions this epoch: transmitter -> receiver -> path gains, dB. */
  receptions: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>
  /** Beacons a transmitter sent this epoch and their EIRP, dBm. */
  beaconsOf(id: string): { count: number; eirpDbm: number } | undefined
  /** The device reported hearing something this epoch (an offline receiver misses nothing). */
  isListening(id: string): boolean
  rxGainDbi(id: string): number | undefined
  location(id: string): string | undefined
  /** Model mean path gain between the two asserted locations of a pair first heard now, dB. */
  meanGainDb(a: string, b: string): number | undefined
}

/**
 * The windows after this epoch: every pair heard in either direction within the window, with this epoch's
 * attempts, receptions and misses added and epochs older than the window dropped. Pairs whose ends
 * re-asserted, or with no reception left in the window, are dropped. The previous windows are not changed.
 */
export function advanceLinkWindows(prev: ReadonlyMap<string, LinkWindow> | undefined, input: LinkEpochInputs): Map<string, LinkWindow> {
  const next = new Map<string, LinkWindow>()
  const direction = (tx: string, rx: string): LinkDirectionEpoch | undefined => {
    const gainsDb = input.receptions.get(tx)?.get(rx) ?? []
    const beacons = input.beaconsOf(tx)
    const rxGain = input.rxGainDbi(rx)
    if (beacons === undefined || rxGain === undefined || !(gainsDb.length > 0 || input.isListening(rx))) return undefined
    return { attempts: Math.max(beacons.count, gainsDb.length), floorDb: input.sensitivityDbm - beacons.eirpDbm - rxGain, gainsDb }
  }
  const visit = (a: string, b: string, carried: LinkWindow | undefined): void => {
    const key = linkWindowKey(a, b)
    if (next.has(key)) return
    const aLocation = input.location(a)
    const bLocation = input.location(b)
    const meanGainDb = carried?.meanGainDb ?? input.meanGainDb(a, b)
    const earlier = carried?.epochs ?? []
    if (aLocation === undefined || bLocation === undefined || meanGainDb === undefined) return
    const now: LinkWindowEpoch = { epoch: input.epoch }
    const ab = direction(a, b)
    const ba = direction(b, a)
    if (ab !== undefined) now.ab = ab
    if (ba !== undefined) now.ba = ba
    const epochs = earlier.filter((e) => e.epoch > input.epoch - input.windowEpochs && e.epoch < input.epoch)
    if (ab !== undefined || ba !== undefined) epochs.push(now)
    const heard = (d: LinkDirectionEpoch | undefined): boolean => d !== undefined && d.gainsDb.length > 0
    if (!epochs.some((e) => heard(e.ab) || heard(e.ba))) return
    next.set(key, { a, b, aLocation, bLocation, meanGainDb, epochs })
  }
  for (const w of prev?.values() ?? []) if (input.location(w.a) === w.aLocation && input.location(w.b) === w.bLocation) visit(w.a, w.b, w)
  for (const [tx, out] of input.receptions)
    for (const rx of out.keys()) {
      const [a, b] = tx < rx ? [tx, rx] : [rx, tx]
      if (!next.has(linkWindowKey(a, b))) visit(a, b, undefined)
    }
  return next
}

/** One reception's term: z is N(0, 1) for an honest pair. */
export interface ConsistencyTerm {
  partner: string
  z: number
}

interface Observation {
  gainDb: number
  /** Log-likelihood of the reception's value over the grid, and log P(heard) and P(heard) over the grid. */
  value: Float64Array
  heard: Float64Array
  heardMass: Float64Array
  floorIndex: number
}

/** The grid of static shadowing values, dB, and the log prior over it. */
function shadowGrid(model: PathLossModel): { s: Float64Array; logPrior: Float64Array } {
  const sigma = Math.sqrt(model.shadowingDb ** 2 - model.fastFadingDb ** 2)
  const step = model.fastFadingDb / 4
  const half = Math.ceil((6 * sigma) / step)
  const s = new Float64Array(2 * half + 1)
  const logPrior = new Float64Array(s.length)
  for (let i = 0; i < s.length; i++) {
    s[i] = (i - half) * step
    logPrior[i] = -0.5 * ((s[i] as number) / sigma) ** 2
  }
  return { s, logPrior }
}

/** Grid points this far (in log weight) below the posterior's peak carry nothing and are skipped. */
const negligibleLogWeight = 40

/**
 * Every reception's term in every window, per reporting device. Deterministic: windows in map order,
 * receptions in epoch and report order. The misses of receivers in `missesIgnored` (deaf or selective
 * listeners: their silence is no evidence about the link) are left out; their receptions count.
 */
export function linkConsistencyTerms(
  model: PathLossModel,
  windows: Iterable<LinkWindow>,
  missesIgnored: ReadonlySet<string> = new Set(),
): Map<string, ConsistencyTerm[]> {
  const { s, logPrior } = shadowGrid(model)
  const f = model.fastFadingDb
  const n = s.length
  const out = new Map<string, ConsistencyTerm[]>()
  const base = new Float64Array(n)
  const lw = new Float64Array(n)
  for (const w of windows) {
    base.set(logPrior)
    const m = w.meanGainDb
    // Per distinct floor: log P(heard) and log P(missed) over the grid (floors rarely differ within a pair).
    const floors: number[] = []
    const floorHeard: Float64Array[] = []
    const floorHeardMass: Float64Array[] = []
    const floorMissed: Float64Array[] = []
    const floorIndexOf = (floorDb: number): number => {
      let i = floors.indexOf(floorDb)
      if (i < 0) {
        i = floors.length
        floors.push(floorDb)
        const heard = new Float64Array(n)
        const missed = new Float64Array(n)
        for (let j = 0; j < n; j++) {
          heard[j] = logNormalUpper((floorDb - m - (s[j] as number)) / f)
          missed[j] = logNormalUpper((m + (s[j] as number) - floorDb) / f)
        }
        floorHeard.push(heard)
        floorHeardMass.push(heard.map(Math.exp))
        floorMissed.push(missed)
      }
      return i
    }
    const byReceiver: [Observation[], Observation[]] = [[], []]
    for (const e of w.epochs)
      for (const [side, d] of [
        [0, e.ab],
        [1, e.ba],
      ] as const) {
        if (d === undefined) continue
        const fi = floorIndexOf(d.floorDb)
        const heard = floorHeard[fi] as Float64Array
        const misses = missesIgnored.has(side === 0 ? w.b : w.a) ? 0 : d.attempts - d.gainsDb.length
        if (misses > 0) {
          const missed = floorMissed[fi] as Float64Array
          for (let j = 0; j < n; j++) base[j] = (base[j] as number) + misses * (missed[j] as number)
        }
        for (const g of d.gainsDb) {
          const value = new Float64Array(n)
          for (let j = 0; j < n; j++) {
            const x = (g - m - (s[j] as number)) / f
            value[j] = -0.5 * x * x
            base[j] = (base[j] as number) - 0.5 * x * x
          }
          byReceiver[side].push({ gainDb: g, value, heard, heardMass: floorHeardMass[fi] as Float64Array, floorIndex: fi })
        }
      }
    for (const side of [0, 1] as const) {
      const obs = byReceiver[side]
      if (obs.length === 0) continue
      const reporter = side === 0 ? w.b : w.a
      const partner = side === 0 ? w.a : w.b
      // Reception t conditions on the receiver's receptions before it (values) and after it (only that they
      // were heard): lw_t = base - sum_{u >= t} value_u + sum_{u > t} heard_u.
      lw.set(base)
      for (let u = 0; u < obs.length; u++) {
        const o = obs[u] as Observation
        for (let j = 0; j < n; j++) lw[j] = (lw[j] as number) - (o.value[j] as number) + (u > 0 ? (o.heard[j] as number) : 0)
      }
      let terms = out.get(reporter)
      if (terms === undefined) out.set(reporter, (terms = []))
      for (let t = 0; t < obs.length; t++) {
        const o = obs[t] as Observation
        if (t > 0) {
          const prev = obs[t - 1] as Observation
          for (let j = 0; j < n; j++) lw[j] = (lw[j] as number) + (prev.value[j] as number) - (o.heard[j] as number)
        }
        terms.push({ partner, z: predictiveScore(s, lw, o, m, f, floors[o.floorIndex] as number) })
      }
    }
  }
  return out
}

/**
 * The reception's normal score under the grid posterior: P(G <= g | heard) mapped through the normal
 * quantile, each tail computed from its own side so that neither loses its digits. Reports are rounded
 * to 0.01 dB, so a value at the floor is taken half a step above it.
 */
function predictiveScore(s: Float64Array, lw: Float64Array, o: Observation, m: number, f: number, floorDb: number): number {
  let peak = -Infinity
  for (let j = 0; j < lw.length; j++) if ((lw[j] as number) > peak) peak = lw[j] as number
  const g = Math.max(o.gainDb, floorDb + 0.005)
  let below = 0
  let above = 0
  for (let j = 0; j < lw.length; j++) {
    const l = (lw[j] as number) - peak
    if (l < -negligibleLogWeight) continue
    const wj = Math.exp(l)
    const sj = s[j] as number
    const heardMass = o.heardMass[j] as number
    const aboveMass = normalUpper((g - m - sj) / f)
    above += wj * aboveMass
    below += wj * Math.max(0, heardMass - aboveMass)
  }
  const total = below + above
  if (!(total > 0)) return 0
  return below <= above ? normalQuantile(below / total) : -normalQuantile(above / total)
}

export interface ConsistencyFinding {
  chiSquare: number
  terms: number
  pValue: number
}

/**
 * Receptions an anchor must have passed on: a device whose only substantial partner is the one it failed
 * with (a liar and its lone honest neighbour) would otherwise clear itself on one stray term and then
 * condemn that neighbour. Six is one link over the full window.
 */
export const consistencyAnchorTermsMin = 6

/**
 * Devices whose receptions fail the test at `pMax`, with blame by trusted anchors (as the location test):
 * a forger's partner conditions on the forger's values and fails with it at first. Devices that pass on at
 * least `consistencyAnchorTermsMin` receptions, counting terms with partners not in `excluded` (flagged by
 * another test), are anchors; a failed device is re-tested on its terms with anchors only: if it passes it
 * is cleared (and becomes an anchor if it passed on enough receptions), in rounds until nothing changes.
 * The devices still failing against anchors are returned, with that test; a pair that failed only with
 * each other, neither end backed by anchors, flags neither (nothing tells the liar from the victim).
 */
export function linkConsistencyFindings(
  terms: ReadonlyMap<string, readonly ConsistencyTerm[]>,
  excluded: ReadonlySet<string>,
  pMax: number,
): Map<string, ConsistencyFinding> {
  const test = (id: string, counts: (partner: string) => boolean): ConsistencyFinding => {
    let chiSquare = 0
    let k = 0
    for (const t of terms.get(id) ?? [])
      if (counts(t.partner)) {
        chiSquare += t.z * t.z
        k++
      }
    return { chiSquare, terms: k, pValue: k === 0 ? 1 : chiSquareUpper(chiSquare, k) }
  }
  const failed = new Set<string>()
  const anchors = new Set<string>()
  for (const id of terms.keys()) {
    if (excluded.has(id)) continue
    const r = test(id, (p) => !excluded.has(p))
    if (r.pValue < pMax) failed.add(id)
    else if (r.terms >= consistencyAnchorTermsMin) anchors.add(id)
  }
  // Partners that never reported anything are tested on nothing: their beacons' receptions still tell
  // whether their partners report consistently, so they count as anchors unless flagged elsewhere.
  const isAnchor = (id: string): boolean => anchors.has(id) || (!excluded.has(id) && !failed.has(id) && !terms.has(id))
  // Rounds, not one sweep: what a round clears counts from the next, so the order of visits does not matter.
  for (;;) {
    const cleared: string[] = []
    const trusted: string[] = []
    for (const id of failed) {
      const r = test(id, isAnchor)
      if (r.terms === 0 || r.pValue < pMax) continue
      cleared.push(id)
      if (r.terms >= consistencyAnchorTermsMin) trusted.push(id)
    }
    for (const id of cleared) failed.delete(id)
    for (const id of trusted) anchors.add(id)
    if (cleared.length === 0) break
  }
  const found = new Map<string, ConsistencyFinding>()
  for (const id of failed) {
    const r = test(id, isAnchor)
    if (r.terms > 0 && r.pValue < pMax) found.set(id, r)
  }
  return found
}
