import type { CoverageParams } from './params.ts'
import type { CarriedLink, DeviceHistory, DeviceRecord, EpochEvidence, FlagKind } from './types.ts'
import type { VerificationResult, WitnessRecord } from './verify.ts'
import { cellCentre, distanceMeters, type LatLng } from './geo.ts'
import { distanceForLossMeters, hearingProbability, pathLossDb, rssiProbitScore } from './model.ts'
import {
  excessDistanceMeters,
  locateDevice,
  locationTrustPpm,
  type LocationEstimate,
  type RangeObservation,
  type SilentObservation,
} from './location.ts'
import { AudienceIndex, type Listener } from './audience.ts'
import { chiSquareLower, chiSquareUpper, poissonBinomialUpper, regularizedGammaP } from './prob.ts'
import { normalCdf } from './model.ts'
import { linkInnovation, stabilityFindings, stabilityTallies, type StabilityTerm } from './stability.ts'
import { advanceLinkWindows, linkConsistencyFindings, linkConsistencyTerms, type LinkWindow } from './consistency.ts'

export interface Flag {
  kind: FlagKind
  detail: string
}

export interface StatisticsResult {
  flags: Map<string, Flag[]>
  /** Location trust (HIP-119 on the excess distance), ppm, for devices with enough evidence. */
  locationTrust: Map<string, { ppm: number; estimate: LocationEstimate; excessMeters: number; pValue: number }>
  /** Per witness device: this epoch's probit scores (sum, squares, count) for the decayed history. */
  rssiScores: Map<string, { sum: number; squares: number; count: number }>
  /** Per device: this epoch's reciprocity tallies, for the history's evidence window. */
  evidence: Map<string, EpochEvidence>
  /** Link evidence to carry into the next epoch (carried links merged with this epoch's, then decayed). */
  nextLinks: Map<string, Map<string, CarriedLink>>
  /** Per-pair reception windows to carry into the next epoch (the link consistency test's evidence). */
  nextLinkWindows: Map<string, LinkWindow>
}

/** What the statistics read from the carried history besides per-device records. */
export interface StatisticsContext {
  epoch: number
  /** Carried link evidence (history.links). */
  links?: ReadonlyMap<string, ReadonlyMap<string, CarriedLink>>
  /** Carried per-pair reception windows (history.linkWindows). */
  linkWindows?: ReadonlyMap<string, LinkWindow>
}

/** Carried links lighter than this (in receptions, after decay) are dropped. */
export const carriedLinkWeightMin = 0.1

/** P(X >= k) for X ~ Poisson(mean). */
export function poissonUpper(k: number, mean: number): number {
  if (k <= 0) return 1
  if (mean <= 0) return 0
  return regularizedGammaP(k, mean)
}

/** Pair-level statistic: samples needed and the mean score above which a pair is implausible. */
export const pairSamplesMin = 3
export const pairScoreMax = 3
/** Witness rings: smallest closed group flagged. */
export const ringSizeMin = 4
/** Hearing probability below which a reception is improbable under the model. */
export const improbableHearing = 1e-3
/** Regular grids: fewest devices of one owner on a lattice. */
export const gridDevicesMin = 5
/** Regular grids: relative tolerance of lattice distances (H3 res-12 cells quantise assertions to about 10 m). */
export const gridTolerance = 0.04

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

interface Link {
  rssiDbm: number
  /** Path gain, dB: RSSI minus transmit EIRP minus receive antenna gain (minus the path loss and shadowing). */
  gainDb: number
  count: number
  frequencyHz: number
  /** Every reception's path gain, dB, in report order. */
  gainsDb: number[]
}

/**
 * Statistical defences over the epoch's radio evidence. Fixed rules are what gamers tune to; these test
 * the evidence against physics that a liar cannot see from where he sits: path loss with shadowing
 * (location), channel reciprocity (a link carries beacons both ways with the same static shadowing),
 * the shared shadowing of devices at one spot (co-location), and the expected witness graph.
 * Every test has a false-positive probability of at most `flagPValueMax` per honest device under the
 * model; flags escrow earnings, they never deny.
 */
export function computeStatistics(
  params: CoverageParams,
  devices: ReadonlyMap<string, DeviceRecord>,
  history: ReadonlyMap<string, DeviceHistory>,
  v: VerificationResult,
  context: StatisticsContext = { epoch: 0 },
): StatisticsResult {
  const model = params.pathLoss
  /** Strongest EIRP the network's regions allow (US915's 30 dBm plus antenna gain), dBm. */
  const eirpMax = 36
  const pMax = params.flagPValueMax
  const flags = new Map<string, Flag[]>()
  const valid: WitnessRecord[] = v.witnesses.filter((w) => w.status === 'selected' || w.status === 'unselected')
  const locationOf = (id: string): LatLng | undefined => {
    const cell = devices.get(id)?.location
    return cell === undefined ? undefined : cellCentre(cell)
  }

  // Radio evidence: tx -> rx -> link, from every reception the beacons carry (before distance rules).
  const links = new Map<string, Map<string, Link>>()
  const eirpOf = new Map<string, number>()
  const listeners = new Set<string>()
  /** Beaconers whose beacon carried local entropy: a claim to have heard it cannot be made from public data. */
  const proven = new Set<string>()
  const beaconCount = new Map<string, number>()
  for (const b of v.beacons) {
    eirpOf.set(b.deviceId, b.body.txPowerDbm + b.body.antennaGainDbi)
    beaconCount.set(b.deviceId, (beaconCount.get(b.deviceId) ?? 0) + 1)
    if (b.body.localEntropy !== undefined) proven.add(b.deviceId)
    let out = links.get(b.deviceId)
    if (out === undefined) links.set(b.deviceId, (out = new Map()))
    for (const h of b.heard) {
      const rx = devices.get(h.deviceId)
      if (rx === undefined) continue
      listeners.add(h.deviceId)
      const gainDb = h.rssiDbm - b.body.txPowerDbm - b.body.antennaGainDbi - rx.antennaGainDbi
      const l = out.get(h.deviceId)
      if (l === undefined) out.set(h.deviceId, { rssiDbm: h.rssiDbm, gainDb, count: 1, frequencyHz: b.body.frequencyHz, gainsDb: [gainDb] })
      else {
        l.gainsDb.push(gainDb)
        l.rssiDbm = (l.rssiDbm * l.count + h.rssiDbm) / (l.count + 1)
        l.gainDb = (l.gainDb * l.count + gainDb) / (l.count + 1)
        l.count++
      }
    }
  }
  const receptionsOf = new Map<string, Array<{ tx: string; link: Link }>>()
  for (const [tx, out] of links)
    for (const [rx, link] of out) {
      const list = receptionsOf.get(rx)
      if (list === undefined) receptionsOf.set(rx, [{ tx, link }])
      else list.push({ tx, link })
    }

  // Evidence across epochs: links heard in earlier epochs (decayed) join this epoch's for the location and
  // co-location tests. A link's static shadowing is the same every epoch, so a link counts once however
  // often it was heard (its gain is the weighted mean: fast fading averages out); links whose ends have
  // re-asserted since are dropped.
  const decay = params.linkEvidenceDecay
  const evidenceLinks = new Map<string, Map<string, Link>>()
  const stabilityTerms: StabilityTerm[] = []
  const nextLinks = new Map<string, Map<string, CarriedLink>>()
  const carry = (tx: string, rx: string, c: CarriedLink): void => {
    if (c.weight < carriedLinkWeightMin) return
    let m = nextLinks.get(tx)
    if (m === undefined) nextLinks.set(tx, (m = new Map()))
    m.set(rx, c)
  }
  for (const [tx, out] of links) {
    const merged = new Map<string, Link>()
    evidenceLinks.set(tx, merged)
    const txLocation = devices.get(tx)?.location
    for (const [rx, l] of out) {
      const rxLocation = devices.get(rx)?.location
      const c = context.links?.get(tx)?.get(rx)
      const isCurrent = c !== undefined && c.txLocation === txLocation && c.rxLocation === rxLocation
      const weight = l.count + (isCurrent ? c.weight : 0)
      const gainDb = (l.gainDb * l.count + (isCurrent ? c.gainSumDb : 0)) / weight
      merged.set(rx, { rssiDbm: l.rssiDbm - l.gainDb + gainDb, gainDb, count: weight, frequencyHz: l.frequencyHz, gainsDb: l.gainsDb })
      const z = linkInnovation(model.fastFadingDb, l.gainDb, l.count, isCurrent ? c : undefined)
      if (z !== undefined) stabilityTerms.push({ tx, rx, z })
      const hasRaw = isCurrent && c.rawWeight !== undefined && c.rawGainSumDb !== undefined
      if (decay > 0 && txLocation !== undefined && rxLocation !== undefined)
        carry(tx, rx, {
          gainSumDb: gainDb * weight * decay,
          weight: weight * decay,
          budgetDbm: l.rssiDbm - l.gainDb,
          frequencyHz: l.frequencyHz,
          txLocation,
          rxLocation,
          rawWeight: l.count + (hasRaw ? (c.rawWeight as number) : 0),
          rawGainSumDb: l.gainDb * l.count + (hasRaw ? (c.rawGainSumDb as number) : 0),
        })
    }
  }
  for (const [tx, out] of context.links ?? []) {
    const txLocation = devices.get(tx)?.location
    if (txLocation === undefined) continue
    for (const [rx, c] of out) {
      if (links.get(tx)?.has(rx) === true || c.txLocation !== txLocation || c.rxLocation !== devices.get(rx)?.location) continue
      let merged = evidenceLinks.get(tx)
      if (merged === undefined) evidenceLinks.set(tx, (merged = new Map()))
      const gainDb = c.gainSumDb / c.weight
      merged.set(rx, { rssiDbm: c.budgetDbm + gainDb, gainDb, count: c.weight, frequencyHz: c.frequencyHz, gainsDb: [] })
      if (decay > 0) carry(tx, rx, { ...c, gainSumDb: c.gainSumDb * decay, weight: c.weight * decay })
    }
  }

  // A link seen both ways has one static shadowing: merge the directions so it counts once. `isReporterUsed`
  // picks the receptions that count (by the device that reported them).
  type UndirectedLink = { rssiDbm: number; budgetDbm: number; gainDb: number; frequencyHz: number }
  const mergeDirections = (isReporterUsed: (rx: string) => boolean): Map<string, Map<string, UndirectedLink>> => {
    const merged = new Map<string, Map<string, UndirectedLink>>()
    const add = (a: string, b: string, link: Link): void => {
      let m = merged.get(a)
      if (m === undefined) merged.set(a, (m = new Map()))
      const prev = m.get(b)
      const budgetDbm = link.rssiDbm - link.gainDb
      if (prev === undefined) m.set(b, { rssiDbm: link.rssiDbm, budgetDbm, gainDb: link.gainDb, frequencyHz: link.frequencyHz })
      else {
        prev.gainDb = (prev.gainDb + link.gainDb) / 2
        prev.budgetDbm = (prev.budgetDbm + budgetDbm) / 2
        prev.rssiDbm = prev.budgetDbm + prev.gainDb
      }
    }
    for (const [tx, out] of evidenceLinks)
      for (const [rx, link] of out) {
        if (!isReporterUsed(rx)) continue
        add(tx, rx, link)
        add(rx, tx, link)
      }
    return merged
  }
  const undirected = mergeDirections(() => true)

  // 2. Reciprocity: a link carries beacons both ways through the same obstacles (static shadowing), so the
  // path gain of B -> A equals that of A -> B up to fast fading, and a listener must hear a device that
  // heard it strongly. Forgers claim receptions nobody reciprocates; selective witnesses ignore beacons
  // they must have heard; fabricated link pairs disagree in RSSI.
  const fadingDiffDb = Math.SQRT2 * model.fastFadingDb
  const staticVar = model.shadowingDb ** 2 - model.fastFadingDb ** 2
  const fadingShrink = model.fastFadingDb ** 2 / model.shadowingDb ** 2
  const windowFadingDb = model.fastFadingDb * Math.sqrt(1 + staticVar / model.shadowingDb ** 2)
  const lossFloor = params.receptionLossPpm / 1_000_000
  const reciprocalChi = new Map<string, { sum: number; k: number }>()
  interface Event {
    claimer: string
    silent: string
    q: number
    isMissed: boolean
    /** RSSI of the reception that makes the event (the claimer hearing the silent one). */
    forwardDbm: number
    /** Miss probability with the forward reception's likely fading taken into account (for the window). */
    qWindow: number
    isProven: boolean
  }
  const reciprocalTerms = new Map<string, Array<{ partner: string; z2: number }>>()
  // Links between two devices of one owner: whatever is wrong with them is that owner's doing.
  const ownerLinks = new Map<
    string,
    { reciprocity: { sum: number; k: number }; stability: { sum: number; k: number }; members: Set<string> }
  >()
  const ownerTerm = (test: 'reciprocity' | 'stability', a: string, b: string, z2: number): void => {
    const owner = devices.get(a)?.owner
    if (owner === undefined || owner !== devices.get(b)?.owner) return
    let o = ownerLinks.get(owner)
    if (o === undefined) ownerLinks.set(owner, (o = { reciprocity: { sum: 0, k: 0 }, stability: { sum: 0, k: 0 }, members: new Set() }))
    o[test].sum += z2
    o[test].k++
    o.members.add(a).add(b)
  }
  for (const t of stabilityTerms) ownerTerm('stability', t.tx, t.rx, t.z * t.z)
  const events: Event[] = []
  for (const [x, out] of links) {
    for (const [y, link] of out) {
      // y heard x. Did x hear y? Only askable if y beaconed and x listens.
      const eirpY = eirpOf.get(y)
      const rx = devices.get(x)
      if (eirpY === undefined || rx === undefined || !listeners.has(x)) continue
      const back = links.get(y)?.get(x)
      const expectedDbm = link.gainDb + eirpY + rx.antennaGainDbi
      const q = Math.max(lossFloor, normalCdf((model.sensitivityDbm - expectedDbm) / fadingDiffDb))
      // For the window: the forward reception's own fading is part of what was observed, and a reception
      // above the level the model predicts at the asserted distance probably had lucky fading. Its posterior
      // mean (Gaussian shrinkage towards that level) is taken off the reverse direction's expectation, and its
      // posterior variance added; summed over epochs, the unshrunk miss probabilities ran low and flagged
      // honest devices with many weak links.
      const from = locationOf(x)
      const to = locationOf(y)
      let qWindow = q
      if (from !== undefined && to !== undefined) {
        const predictedDbm = link.rssiDbm - link.gainDb - pathLossDb(model, distanceMeters(from, to), link.frequencyHz)
        const fadeMeanDb = (link.rssiDbm - predictedDbm) * fadingShrink
        qWindow = Math.max(lossFloor, normalCdf((model.sensitivityDbm - (expectedDbm - fadeMeanDb)) / windowFadingDb))
      }
      events.push({ claimer: y, silent: x, q, qWindow, isMissed: back === undefined, forwardDbm: link.rssiDbm, isProven: proven.has(x) })
      // Both directions must be heard for the pair to be seen: with equal link budgets that selection is
      // symmetric (the difference stays centred, only narrower: conservative); with unequal budgets the weaker
      // direction is truncated, so such pairs count only when both are clear of the sensitivity.
      const budgetGapDb = Math.abs(link.rssiDbm - link.gainDb - (back === undefined ? 0 : back.rssiDbm - back.gainDb))
      if (
        back !== undefined &&
        x < y &&
        (budgetGapDb < 0.5 || Math.min(link.rssiDbm, back.rssiDbm) >= model.sensitivityDbm + fadingDiffDb)
      ) {
        // Each direction's gain is a mean over its receptions this epoch: fading variance f^2 / count.
        const z = (link.gainDb - back.gainDb) / (model.fastFadingDb * Math.sqrt(1 / link.count + 1 / back.count))
        ownerTerm('reciprocity', x, y, z * z)
        for (const [id, partner] of [
          [x, y],
          [y, x],
        ] as const) {
          const c = reciprocalChi.get(id) ?? { sum: 0, k: 0 }
          c.sum += z * z
          c.k++
          reciprocalChi.set(id, c)
          if (z * z > evidenceOutlierChiSquare) {
            const terms = reciprocalTerms.get(id)
            if (terms === undefined) reciprocalTerms.set(id, [{ partner, z2: z * z }])
            else terms.push({ partner, z2: z * z })
          }
        }
      }
    }
  }
  const tally = (role: 'claimer' | 'silent', skip: ReadonlySet<string>): Map<string, { qs: number[]; misses: number }> => {
    const out = new Map<string, { qs: number[]; misses: number }>()
    for (const e of events) {
      const id = e[role]
      if (skip.has(role === 'claimer' ? e.silent : e.claimer)) continue
      // A claim proved by the beacon's local entropy was heard (by the claimer, or an accomplice in range
      // that relayed it within the witness delay): its silent partner, not the claimer, carries the miss.
      if (role === 'claimer' && e.isProven) continue
      let t = out.get(id)
      if (t === undefined) out.set(id, (t = { qs: [], misses: 0 }))
      t.qs.push(e.q)
      if (e.isMissed) t.misses++
    }
    return out
  }
  const selective = new Set<string>()
  const silentTallies = tally('silent', new Set())
  for (const [id, t] of silentTallies) {
    // A listener that misses most of its neighbours, or more than chance allows even at a loose level,
    // is deaf or selective: its silence says nothing about the devices it did not hear.
    const p = poissonBinomialUpper(t.qs, t.misses)
    if (2 * t.misses > t.qs.length || (t.misses >= 2 && p < 0.01)) selective.add(id)
    if (t.misses < params.reciprocityMissesMin) continue
    if (p < pMax) {
      addFlag(
        flags,
        id,
        'selective_witness',
        `did not report ${t.misses} of ${t.qs.length} neighbours that heard it (p=${p.toExponential(1)})`,
      )
    }
  }
  // 3. Location: a robust likelihood-ratio test of the assertion against both ends of every link and its
  // audience (after reciprocity: it leaves out the deaf and selective listeners found there).
  // The audience: listeners (devices that reported hearing something, deaf and selective ones left out) that
  // had the chance to hear a device's beacon, or to be heard by it, and share no link with it either way. A
  // device asserted where nobody hears it, and heard where nobody should, fails on the first; its heard links
  // alone cannot show it (given that a link was heard at all, a weak reception looks alike at any range).
  const beaconOf = new Map<string, { eirpDbm: number; frequencyHz: number }>()
  for (const b of v.beacons)
    beaconOf.set(b.deviceId, { eirpDbm: b.body.txPowerDbm + b.body.antennaGainDbi, frequencyHz: b.body.frequencyHz })
  const audienceListeners: Listener[] = []
  for (const id of listeners) {
    const d = devices.get(id)
    const at = locationOf(id)
    if (d === undefined || at === undefined || selective.has(id)) continue
    audienceListeners.push({ id, location: at, region: d.region, antennaGainDbi: d.antennaGainDbi, beacon: beaconOf.get(id) })
  }
  const audienceIndex = new AudienceIndex(model, audienceListeners, AudienceIndex.reachMeters(model, eirpMax + 10, 868_000_000))
  const silentOf = (id: string, centres: readonly LatLng[], seen: Set<string>): SilentObservation[] => {
    const d = devices.get(id) as DeviceRecord
    const subject = {
      id,
      region: d.region,
      antennaGainDbi: d.antennaGainDbi,
      beacon: beaconOf.get(id),
      isListening: listeners.has(id) && !selective.has(id),
    }
    const linked = undirected.get(id)
    return centres.flatMap((c) => audienceIndex.silentNear(subject, c, (other) => linked?.has(other) === true, seen))
  }
  // Receptions reported by deaf or selective listeners are not evidence of where anyone is: a listener that
  // reports only some of what it hears (a Sybil colony vouching only for its own) picks what it reports, and
  // its picks would outvote the honest partners that heard where the colony really is.
  const locationLinks = mergeDirections((rx) => !selective.has(rx))
  const locationTrust = new Map<string, { ppm: number; estimate: LocationEstimate; excessMeters: number; pValue: number }>()
  const testLocation = (
    id: string,
    asserted: string,
    trusted: (other: string) => boolean,
  ): { test: ReturnType<typeof locateDevice>; links: number } => {
    const observations: RangeObservation[] = []
    for (const [other, link] of locationLinks.get(id) ?? []) {
      const at = locationOf(other)
      if (at !== undefined && trusted(other))
        observations.push({ location: at, rssiDbm: link.rssiDbm, linkBudgetDbm: link.budgetDbm, frequencyHz: link.frequencyHz })
    }
    // Silent listeners near the assertion; if the best fit lands elsewhere, those near it too (else the fit
    // would look better than it is), and fit again.
    const at = cellCentre(asserted)
    const seen = new Set<string>()
    const silent = silentOf(id, [at], seen)
    let test = locateDevice(model, at, observations, { silent, missProbabilityMin: lossFloor })
    if (test !== undefined && distanceMeters(at, test.estimate.location) > audienceIndex.reachMetersMax / 8) {
      silent.push(...silentOf(id, [test.estimate.location], seen))
      test = locateDevice(model, at, observations, { silent, missProbabilityMin: lossFloor })
    }
    return { test, links: observations.length }
  }
  // A link implausible at both ends' assertions fails both ends' tests, and only one end may be misplaced (an
  // honest witness of a spoofer, an honest neighbour of a Sybil colony). Blame follows trusted anchors: devices
  // that passed with all their links are trusted; a failed device is re-tested against trusted partners only,
  // and joins them if it passes (its own evidence backs its assertion, so its link to the liar is the liar's);
  // repeated until nothing changes. Dropping every failed partner instead (the earlier second pass) left the
  // liar with no evidence whenever its few honest partners had failed because of it.
  const tests = new Map<string, { test: NonNullable<ReturnType<typeof locateDevice>>; links: number }>()
  const failed = new Set<string>()
  for (const [id, d] of devices) {
    if (d.location === undefined) continue
    const { test, links: linkCount } = testLocation(id, d.location, () => true)
    if (test === undefined) continue
    tests.set(id, { test, links: linkCount })
    if (test.pValue < pMax) failed.add(id)
  }
  const cleared = new Set<string>()
  const isTrusted = (other: string): boolean => !failed.has(other) || cleared.has(other)
  // Rounds, not one sweep: a device cleared in a round becomes an anchor from the next, so the outcome does
  // not depend on the order devices are visited in.
  for (let round: string[] = [...failed]; round.length > 0;) {
    const passed: string[] = []
    for (const id of round) {
      const { test, links: linkCount } = testLocation(id, devices.get(id)?.location as string, isTrusted)
      if (test === undefined) tests.delete(id)
      else tests.set(id, { test, links: linkCount })
      if (test !== undefined && test.pValue >= pMax) passed.push(id)
    }
    for (const id of passed) cleared.add(id)
    round = passed.length === 0 ? [] : [...failed].filter((id) => !cleared.has(id))
  }
  for (const [id, { test, links: linkCount }] of tests) {
    const d = devices.get(id) as DeviceRecord & { location: string }
    const isMismatch = test.pValue < pMax
    // Too few links for an estimate (two unknowns): the test still holds, the HIP-119 distance does not.
    const hasEstimate = Number.isFinite(test.estimate.sigmaMeters)
    if (hasEstimate) {
      const excess = excessDistanceMeters(d.location, test.estimate, params.locationSigmaAllowance)
      const ppm = isMismatch ? locationTrustPpm(excess) : 1_000_000
      locationTrust.set(id, { ppm, estimate: test.estimate, excessMeters: isMismatch ? excess : 0, pValue: test.pValue })
    }
    if (isMismatch)
      addFlag(
        flags,
        id,
        'location_mismatch',
        hasEstimate
          ? `radio evidence (${linkCount} links) puts it ${Math.round(distanceMeters(cellCentre(d.location), test.estimate.location))} m from its assertion (likelihood ratio ${test.lrStatistic.toFixed(1)}, p=${test.pValue.toExponential(1)})`
          : `its ${linkCount} link(s) are implausible at its asserted location (likelihood ratio ${test.lrStatistic.toFixed(1)}, p=${test.pValue.toExponential(1)})`,
      )
  }

  const claimerTallies = tally('claimer', selective)
  for (const [id, t] of claimerTallies) {
    if (t.misses < params.reciprocityMissesMin) continue
    const p = poissonBinomialUpper(t.qs, t.misses)
    if (p < pMax)
      addFlag(
        flags,
        id,
        'reception_unreciprocated',
        `${t.misses} of ${t.qs.length} devices it claims to hear, though listening, never heard it back (p=${p.toExponential(1)})`,
      )
  }
  const evidence = crossEpochEvidence(params, context.epoch, history, events, reciprocalChi, reciprocalTerms, flags)
  // Link stability: this epoch's gains against the earlier epochs' (see src/stability.ts).
  const stability = stabilityTallies(stabilityTerms)
  for (const [id, t] of stability) {
    let e = evidence.get(id)
    if (e === undefined) evidence.set(id, (e = emptyEvidence(context.epoch)))
    e.stabilityChiSquare = t.rxChiSquare
    e.stabilityLinks = t.rxLinks
    e.stabilityTxChiSquare = t.txChiSquare
    e.stabilityTxLinks = t.txLinks
  }
  for (const [id, detail] of stabilityFindings(params, context.epoch, history, stability)) addFlag(flags, id, 'rssi_unstable', detail)
  // An owner's links among its own devices must be reciprocal and stable like anyone's (chi-square sums over
  // those links only; an honest owner's are calibrated like a device's). Fleets that fabricate each other's
  // receptions (a grid in one room, a ring) fail them together.
  for (const [owner, o] of ownerLinks)
    for (const test of ['reciprocity', 'stability'] as const) {
      const { sum, k } = o[test]
      const p = k === 0 ? 1 : chiSquareUpper(sum, k)
      if (p >= pMax) continue
      for (const id of o.members)
        addFlag(
          flags,
          id,
          'owner_links_inconsistent',
          `owner ${owner}: the ${k} links among its own ${o.members.size} devices fail ${test === 'reciprocity' ? 'reciprocity (the two directions differ)' : 'stability (RSSI moves between epochs)'} beyond fading (chi2 ${sum.toFixed(0)} on ${k}, p=${p.toExponential(1)})`,
        )
    }

  // 4. Silent neighbourhood: nearby active devices that the model says should hear a beacon, but did not.
  // The same pass sums, per owner, how much of its devices' expected audience is its own fleet.
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
  const improbableExpected = new Map<string, number>()
  const ownerExpected = new Map<string, { own: number; all: number }>()
  /** Expected audience of a device's beacon among active devices (hearing probability under the model). */
  const audience = (b: { deviceId: string; eirpDbm: number; frequencyHz: number }, each: (c: DeviceRecord, p: number) => void): void => {
    const beaconer = devices.get(b.deviceId) as DeviceRecord
    const at = cellCentre(beaconer.location as string)
    const [bx, by] = bucketOf(at)
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const c of buckets.get(`${bx + dx},${by + dy}`) ?? []) {
          if (c.deviceId === b.deviceId || c.region !== beaconer.region) continue
          const d = distanceMeters(at, cellCentre(c.location as string))
          if (d > reach) continue
          each(c, hearingProbability(model, b.eirpDbm + c.antennaGainDbi - pathLossDb(model, d, b.frequencyHz)))
        }
  }
  for (const b of v.beacons) {
    const beaconer = devices.get(b.deviceId) as DeviceRecord
    const heardBy = new Set(b.passed.map((w) => w.deviceId))
    let e = 0
    let o = 0
    const oe = ownerExpected.get(beaconer.owner) ?? { own: 0, all: 0 }
    ownerExpected.set(beaconer.owner, oe)
    audience({ deviceId: b.deviceId, eirpDbm: b.body.txPowerDbm + b.body.antennaGainDbi, frequencyHz: b.body.frequencyHz }, (c, p) => {
      if (p < improbableHearing) improbableExpected.set(c.deviceId, (improbableExpected.get(c.deviceId) ?? 0) + p)
      e += p
      if (heardBy.has(c.deviceId)) o += 1
      oe.all += p
      if (c.owner === beaconer.owner) oe.own += p
    })
    expected.set(b.deviceId, (expected.get(b.deviceId) ?? 0) + e)
    observed.set(b.deviceId, (observed.get(b.deviceId) ?? 0) + o)
  }
  for (const [id, e] of expected) {
    const o = observed.get(id) ?? 0
    if (e < params.silenceExpectedMin) continue
    if (o * 1_000_000 < params.silenceHeardPpmMin * e && poissonCdf(o, e) < pMax)
      addFlag(flags, id, 'silent_neighbourhood', `heard by ${o} of ${e.toFixed(1)} expected nearby devices`)
  }

  // Improbable receptions: receptions the model gives less than a 1-in-1000 chance (at the asserted
  // distances) happen to an honest listener at the rate the model predicts; a device claiming many
  // (links it cannot have, vouched for by friends) is far in the Poisson tail.
  for (const [rx, list] of receptionsOf) {
    const d = devices.get(rx)
    const at = locationOf(rx)
    if (d === undefined || at === undefined) continue
    let count = 0
    for (const { tx, link } of list) {
      const from = locationOf(tx)
      // A transmitter already flagged (misplaced, deaf, inconsistent) explains the improbable link itself.
      if (from === undefined || flags.has(tx)) continue
      const p = hearingProbability(model, link.rssiDbm - link.gainDb - pathLossDb(model, distanceMeters(at, from), link.frequencyHz))
      if (p < improbableHearing) count++
    }
    if (count < params.reciprocityMissesMin) continue
    const lambda = Math.max(improbableExpected.get(rx) ?? 0, 1e-3)
    const p = 1 - poissonCdf(count - 1, lambda)
    if (p < pMax)
      addFlag(
        flags,
        rx,
        'reception_improbable',
        `${count} receptions the model gives under ${improbableHearing * 1000} in 1000 (expected ${lambda.toFixed(2)}, p=${p.toExponential(1)})`,
      )
  }

  // 5. Co-location: two devices at one spot share every link's static shadowing, so the path gains of
  // their links to common partners (as transmitters and as receivers) differ by fast fading only; devices
  // truly apart differ by independent shadowing. Flag pairs asserted apart whose differences are too small
  // to be independent (lower chi-square tail) and consistent with fading alone (upper tail).
  const index = new Map<string, number>()
  const ids = [...devices.keys()].sort()
  ids.forEach((id, i) => index.set(id, i))
  const n = ids.length
  const sums = new Map<number, { squares: number; k: number }>()
  const accumulate = (list: Array<{ id: number; gainDb: number }>): void => {
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as { id: number; gainDb: number }
        const b = list[j] as { id: number; gainDb: number }
        const key = a.id < b.id ? a.id * n + b.id : b.id * n + a.id
        const diff = a.gainDb - b.gainDb
        const s = sums.get(key)
        if (s === undefined) sums.set(key, { squares: diff * diff, k: 1 })
        else {
          s.squares += diff * diff
          s.k++
        }
      }
  }
  // Only links the model puts well above the sensitivity (at the asserted distances): a reception near the
  // sensitivity is seen only with lucky shadowing, which compresses differences and would mimic co-location.
  const strongDbm = model.sensitivityDbm + 0.5 * model.shadowingDb
  for (const [id, out] of undirected) {
    const at = locationOf(id)
    if (at === undefined) continue
    const list: Array<{ id: number; gainDb: number }> = []
    for (const [other, l] of out) {
      const there = locationOf(other)
      if (there === undefined || l.budgetDbm - pathLossDb(model, distanceMeters(at, there), l.frequencyHz) < strongDbm) continue
      list.push({ id: index.get(other) as number, gainDb: l.gainDb })
    }
    accumulate(list)
  }
  const colocatedWith = new Map<string, string[]>()
  // Devices apart differ by two independent static shadowings (fading left out: conservative).
  const independentVar = 2 * (model.shadowingDb ** 2 - model.fastFadingDb ** 2)
  const fadingVar = 2 * model.fastFadingDb ** 2
  // Each device is tested against every device it shares enough partners with (hundreds in a dense city):
  // a pair must pass pMax divided by the larger of its two devices' pair counts, so that each device's
  // chance of a false co-location stays at most pMax (union bound over its pairs).
  const pairsTested = new Map<number, number>()
  for (const [key, s] of sums) {
    if (s.k < params.colocationCommonMin) continue
    for (const id of [Math.floor(key / n), key % n]) pairsTested.set(id, (pairsTested.get(id) ?? 0) + 1)
  }
  for (const [key, s] of sums) {
    if (s.k < params.colocationCommonMin) continue
    const tests = Math.max(pairsTested.get(Math.floor(key / n)) ?? 1, pairsTested.get(key % n) ?? 1)
    if (chiSquareLower(s.squares / independentVar, s.k) >= pMax / tests) continue
    if (chiSquareUpper(s.squares / fadingVar, s.k) < 1e-3) continue
    const a = ids[Math.floor(key / n)] as string
    const b = ids[key % n] as string
    const la = locationOf(a)
    const lb = locationOf(b)
    if (la === undefined || lb === undefined || distanceMeters(la, lb) < params.colocationApartMetersMin) continue
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const list = colocatedWith.get(x)
      if (list === undefined) colocatedWith.set(x, [y])
      else list.push(y)
    }
  }
  for (const [id, list] of colocatedWith)
    addFlag(
      flags,
      id,
      'colocated',
      `its links match those of ${list.length} device(s) asserted at least ${params.colocationApartMetersMin} m away, as if at one spot`,
    )

  // 6. Owners: regular grids (co-located hardware spread on a lattice on paper) and fleets that witness
  // mostly each other, against the share their geography predicts.
  const devicesByOwner = new Map<string, DeviceRecord[]>()
  for (const d of devices.values()) {
    const list = devicesByOwner.get(d.owner)
    if (list === undefined) devicesByOwner.set(d.owner, [d])
    else list.push(d)
  }
  for (const [owner, fleet] of devicesByOwner) {
    if (fleet.length < gridDevicesMin || !fleet.some((d) => colocatedWith.has(d.deviceId))) continue
    const grid = latticeMembers(fleet)
    if (grid.length >= gridDevicesMin)
      for (const d of grid)
        addFlag(flags, d.deviceId, 'regular_grid', `owner ${owner}: ${grid.length} devices asserted on a regular lattice, some co-located`)
  }
  const interactions = new Map<string, { total: number; sameOwner: number }>()
  const witnessed = new Map<string, Set<string>>()
  for (const w of valid) {
    const wo = (devices.get(w.deviceId) as DeviceRecord).owner
    const bo = (devices.get(w.beacon.deviceId) as DeviceRecord).owner
    for (const owner of [wo, bo]) {
      const s = interactions.get(owner) ?? { total: 0, sameOwner: 0 }
      s.total++
      if (wo === bo) s.sameOwner++
      interactions.set(owner, s)
    }
    const heard = witnessed.get(w.deviceId) ?? new Set<string>()
    heard.add(w.beacon.deviceId)
    witnessed.set(w.deviceId, heard)
  }
  // Ring partners witness each other both ways: a device that hears a ring which never reports it back is
  // the ring's victim, not a member.
  const partners = new Map<string, Set<string>>()
  for (const [a, heard] of witnessed)
    for (const b of heard)
      if (witnessed.get(b)?.has(a) === true) {
        const p = partners.get(a) ?? new Set<string>()
        p.add(b)
        partners.set(a, p)
      }
  for (const [owner, s] of interactions) {
    const fleet = devicesByOwner.get(owner) ?? []
    if (fleet.length < 3 || s.sameOwner < params.ownerInteractionsMin) continue
    if (s.sameOwner * 1_000_000 <= params.ownerAffinityPpmMax * s.total) continue
    const oe = ownerExpected.get(owner)
    const share = Math.max(0.01, oe === undefined || oe.all === 0 ? 0 : oe.own / oe.all)
    const p = poissonBinomialUpper(new Array<number>(s.total).fill(share), s.sameOwner)
    if (p < pMax)
      for (const d of fleet)
        addFlag(
          flags,
          d.deviceId,
          'owner_affinity',
          `owner ${owner}: ${s.sameOwner} of ${s.total} witness interactions among its own devices, where geography predicts ${(share * 100).toFixed(0)}%`,
        )
  }
  // Closed rings: a group whose members witness only each other, where the model expects outsiders to hear them.
  for (const [id, mine] of partners) {
    if (mine.size < ringSizeMin - 1) continue
    const group = new Set([id, ...mine])
    let isClosed = true
    for (const member of mine) {
      const theirs = partners.get(member)
      if (theirs === undefined || theirs.size < mine.size - 1) {
        isClosed = false
        break
      }
      for (const p of theirs)
        if (!group.has(p)) {
          isClosed = false
          break
        }
      if (!isClosed) break
    }
    if (!isClosed) continue
    let outside = 0
    for (const member of group) {
      const b = v.beacons.find((x) => x.deviceId === member)
      if (b === undefined) continue
      audience({ deviceId: member, eirpDbm: b.body.txPowerDbm + b.body.antennaGainDbi, frequencyHz: b.body.frequencyHz }, (c, p) => {
        // Deaf and selective listeners would not report the group whatever it is.
        if (!group.has(c.deviceId) && !selective.has(c.deviceId)) outside += p
      })
    }
    if (Math.exp(-outside) < pMax)
      addFlag(
        flags,
        id,
        'witness_ring',
        `its ${mine.size} witness partners interact only with each other; ${outside.toFixed(1)} outside links expected`,
      )
  }

  // 7. Link consistency (src/consistency.ts): each reception against what the pair's other receptions and
  // misses over the window say about the link's static shadowing, truncation at the sensitivity included.
  // After the tests above: their flagged devices are no anchors, and the misses of deaf or selective
  // listeners are no evidence (their receptions are: a busy honest listener's values are real).
  const nextLinkWindows = advanceLinkWindows(context.linkWindows, {
    epoch: context.epoch,
    windowEpochs: params.evidenceEpochs,
    sensitivityDbm: model.sensitivityDbm,
    receptions: new Map([...links].map(([tx, out]) => [tx, new Map([...out].map(([rx, l]) => [rx, l.gainsDb]))])),
    beaconsOf: (id) => {
      const count = beaconCount.get(id)
      return count === undefined ? undefined : { count, eirpDbm: eirpOf.get(id) as number }
    },
    isListening: (id) => listeners.has(id),
    rxGainDbi: (id) => devices.get(id)?.antennaGainDbi,
    location: (id) => devices.get(id)?.location,
    meanGainDb: (a, b) => {
      const from = locationOf(a)
      const to = locationOf(b)
      const frequencyHz = links.get(a)?.get(b)?.frequencyHz ?? links.get(b)?.get(a)?.frequencyHz
      return from === undefined || to === undefined || frequencyHz === undefined
        ? undefined
        : -pathLossDb(model, distanceMeters(from, to), frequencyHz)
    },
  })
  const untrusted = new Set(flags.keys())
  const consistencyTerms = linkConsistencyTerms(model, nextLinkWindows.values(), selective)
  for (const [id, f] of linkConsistencyFindings(consistencyTerms, untrusted, pMax))
    addFlag(
      flags,
      id,
      'rssi_inconsistent',
      `over the window its ${f.terms} receptions disagree with what their links' other receptions and misses predict (chi2 ${f.chiSquare.toFixed(0)} on ${f.terms}, p=${f.pValue.toExponential(1)})`,
    )

  // 8. RSSI plausibility per witness device and per pair (probit scores of the truncated model). Last, so
  // that beacons of devices flagged by the tests above are left out: a device asserted away from its
  // hardware (a spoofer, a Sybil or ring member) is heard louder than its assertion allows, which says
  // nothing about the honest listener.
  const rssiScores = new Map<string, { sum: number; squares: number; count: number }>()
  const pairs = new Map<string, { sum: number; count: number; witness: string; beaconer: string }>()
  for (const w of valid) {
    if (flags.has(w.beacon.deviceId)) continue
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
  // Earlier epochs count through the carried links, once per link: a link's static shadowing is the same
  // every epoch, so summing its score once per epoch would count one draw several times (the decayed
  // per-device sums this replaced did, and flagged honest devices more often with every epoch).
  const carriedScores = new Map<string, { sum: number; squares: number; count: number }>()
  for (const [tx, out] of evidenceLinks) {
    const from = locationOf(tx)
    if (from === undefined || flags.has(tx)) continue
    for (const [rx, l] of out) {
      if (links.get(tx)?.has(rx) === true) continue
      const at = locationOf(rx)
      if (at === undefined || !rssiScores.has(rx)) continue
      const budgetDbm = l.rssiDbm - l.gainDb
      const score = rssiProbitScore(model, l.rssiDbm, budgetDbm - pathLossDb(model, distanceMeters(from, at), l.frequencyHz))
      const c = carriedScores.get(rx) ?? { sum: 0, squares: 0, count: 0 }
      c.sum += score
      c.squares += score * score
      c.count++
      carriedScores.set(rx, c)
    }
  }
  for (const [id, s] of rssiScores) {
    const c = carriedScores.get(id)
    const sum = s.sum + (c?.sum ?? 0)
    const squares = s.squares + (c?.squares ?? 0)
    const count = s.count + (c?.count ?? 0)
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

  return { flags, locationTrust, rssiScores, evidence, nextLinks, nextLinkWindows }
}

/** One epoch's tallies of a device with no evidence yet. */
export function emptyEvidence(epoch: number): EpochEvidence {
  return {
    epoch,
    reciprocalChiSquare: 0,
    reciprocalLinks: 0,
    reciprocalOutliers: [],
    silentLinks: 0,
    silentMissExpected: 0,
    silentMissed: [],
    claimedLinks: 0,
    claimedMissExpected: 0,
    claimedMissed: [],
  }
}

/** A reciprocity term above this chi-square (p about 0.05 on one degree of freedom) is kept with its partner's id. */
export const evidenceOutlierChiSquare = 4
/** Looser level at which a partner is blamed for a shared anomaly (as the per-epoch `selective` set). */
export const evidenceBlamePValue = 0.01

export interface ReciprocityEvent {
  claimer: string
  silent: string
  q: number
  /** Miss probability used by the window (posterior over the forward reception's fading); q when absent. */
  qWindow?: number
  isMissed: boolean
  forwardDbm: number
  /** The beacon carried local entropy: the claim was heard (see the claimer tally). @default false */
  isProven?: boolean
}

/**
 * This epoch's reciprocity tallies per device, and the cross-epoch tests over the evidence window.
 *
 * Soundness: fast fading is drawn afresh for every reception, so the epochs' terms are independent given
 * the static shadowing. The chi-square sums over links and epochs add their degrees of freedom (exact);
 * the miss counts are Poisson-binomial over the window's events, tested as Poisson with the summed mean
 * (conservative: a Poisson-binomial is more concentrated than the Poisson of the same mean). Two things
 * would break that for honest devices, and both are removed:
 * - a cheating partner's anomaly lands on both ends of a link: a device drops the outlying terms and the
 *   misses it shares with partners whose own window evidence is stronger than its own and significant at
 *   `evidenceBlamePValue` (as the location test drops misplaced partners);
 * - a weak reception is seen only with lucky fading, which biases the miss probability of the other
 *   direction low; one lucky draw is absorbed by one epoch's threshold but would add up over epochs, so
 *   the window counts only events whose reception is at least sqrt(2) x fading above the sensitivity.
 * An honest device is tested once per epoch, so over the window its false-positive probability per test
 * is at most evidenceEpochs x flagPValueMax (union bound).
 */
export function crossEpochEvidence(
  params: CoverageParams,
  epoch: number,
  history: ReadonlyMap<string, DeviceHistory>,
  events: readonly ReciprocityEvent[],
  reciprocalChi: ReadonlyMap<string, { sum: number; k: number }>,
  reciprocalTerms: ReadonlyMap<string, ReadonlyArray<{ partner: string; z2: number }>>,
  flags: Map<string, Flag[]>,
): Map<string, EpochEvidence> {
  const model = params.pathLoss
  const pMax = params.flagPValueMax
  const marginDbm = model.sensitivityDbm + Math.SQRT2 * model.fastFadingDb
  const evidence = new Map<string, EpochEvidence>()
  const evidenceOf = (id: string): EpochEvidence => {
    let e = evidence.get(id)
    if (e === undefined) evidence.set(id, (e = emptyEvidence(epoch)))
    return e
  }
  for (const ev of events) {
    if (ev.forwardDbm < marginDbm) continue
    const q = ev.qWindow ?? ev.q
    const silent = evidenceOf(ev.silent)
    silent.silentLinks++
    silent.silentMissExpected += q
    if (ev.isMissed) silent.silentMissed.push({ partner: ev.claimer, q })
    if (ev.isProven === true) continue
    const claimed = evidenceOf(ev.claimer)
    claimed.claimedLinks++
    claimed.claimedMissExpected += q
    if (ev.isMissed) claimed.claimedMissed.push({ partner: ev.silent, q })
  }
  for (const [id, c] of reciprocalChi) {
    const e = evidenceOf(id)
    e.reciprocalChiSquare = c.sum
    e.reciprocalLinks = c.k
    e.reciprocalOutliers = [...(reciprocalTerms.get(id) ?? [])]
  }

  // The window of every device with evidence: earlier epochs' tallies (from the history) and this one's.
  const windows = new Map<string, EpochEvidence[]>()
  const windowOf = (id: string): EpochEvidence[] => {
    let w = windows.get(id)
    if (w === undefined) {
      w = (history.get(id)?.evidence ?? []).filter((e) => e.epoch < epoch && e.epoch > epoch - params.evidenceEpochs)
      const now = evidence.get(id)
      if (now !== undefined) w = [...w, now]
      windows.set(id, w)
    }
    return w
  }
  const sum = (w: readonly EpochEvidence[], f: (e: EpochEvidence) => number): number => w.reduce((a, e) => a + f(e), 0)
  const raw = new Map<string, { silent: number; claimed: number; chi: number }>()
  const rawOf = (id: string): { silent: number; claimed: number; chi: number } => {
    let r = raw.get(id)
    if (r === undefined) {
      const w = windowOf(id)
      const k = sum(w, (e) => e.reciprocalLinks)
      r = {
        silent: poissonUpper(
          sum(w, (e) => e.silentMissed.length),
          sum(w, (e) => e.silentMissExpected),
        ),
        claimed: poissonUpper(
          sum(w, (e) => e.claimedMissed.length),
          sum(w, (e) => e.claimedMissExpected),
        ),
        chi:
          k === 0
            ? 1
            : chiSquareUpper(
                sum(w, (e) => e.reciprocalChiSquare),
                k,
              ),
      }
      raw.set(id, r)
    }
    return r
  }
  const isBlamed = (partner: string, role: 'silent' | 'claimed' | 'chi', own: number): boolean => {
    const p = rawOf(partner)[role]
    return p < evidenceBlamePValue && p < own
  }
  for (const id of evidence.keys()) {
    const w = windowOf(id)
    const mine = rawOf(id)
    const epochs = w.length
    // Misses over the window; a miss blamed on the partner leaves the test (and its expectation).
    // The misses of one epoch have their own tests (with this epoch's selective listeners left out).
    const tally = (side: 'silent' | 'claimed') => {
      if (w.length < 2) return { misses: 0, links: 0, p: 1 }
      let misses = 0
      let expected = 0
      let links = 0
      for (const e of w) {
        links += side === 'silent' ? e.silentLinks : e.claimedLinks
        expected += side === 'silent' ? e.silentMissExpected : e.claimedMissExpected
        for (const m of side === 'silent' ? e.silentMissed : e.claimedMissed)
          if (isBlamed(m.partner, side === 'silent' ? 'claimed' : 'silent', mine[side])) expected -= m.q
          else misses++
      }
      const p = misses >= params.reciprocityMissesMin ? poissonUpper(misses, expected) : 1
      return { misses, links, p }
    }
    const silent = tally('silent')
    if (silent.p < pMax)
      addFlag(
        flags,
        id,
        'selective_witness',
        `over ${epochs} epochs did not report ${silent.misses} of ${silent.links} neighbours that heard it (p=${silent.p.toExponential(1)})`,
      )
    const claimed = tally('claimed')
    if (claimed.p < pMax)
      addFlag(
        flags,
        id,
        'reception_unreciprocated',
        `over ${epochs} epochs ${claimed.misses} of ${claimed.links} devices it claims to hear never heard it back (p=${claimed.p.toExponential(1)})`,
      )
    let chi = 0
    let k = 0
    for (const e of w) {
      chi += e.reciprocalChiSquare
      k += e.reciprocalLinks
      for (const o of e.reciprocalOutliers)
        if (isBlamed(o.partner, 'chi', mine.chi)) {
          chi -= o.z2
          k--
        }
    }
    if (k > 0) {
      const p = chiSquareUpper(Math.max(0, chi), k)
      if (p < pMax)
        addFlag(
          flags,
          id,
          'rssi_not_reciprocal',
          `over ${epochs} epoch(s) link RSSI differs between the two directions beyond fading (chi2 ${chi.toFixed(0)} on ${k}, p=${p.toExponential(1)})`,
        )
    }
  }
  return evidence
}

/**
 * The devices of a fleet whose asserted locations sit on a regular lattice: at least four pairs at one
 * spacing d and two at d * sqrt(2) (a square grid), within `gridTolerance`.
 */
function latticeMembers(fleet: readonly DeviceRecord[]): DeviceRecord[] {
  const at = fleet.map((d) => (d.location === undefined ? undefined : cellCentre(d.location)))
  const nearest: number[] = []
  for (let i = 0; i < fleet.length; i++) {
    let best = Number.POSITIVE_INFINITY
    for (let j = 0; j < fleet.length; j++) {
      const a = at[i]
      const b = at[j]
      if (i !== j && a !== undefined && b !== undefined) best = Math.min(best, distanceMeters(a, b))
    }
    if (Number.isFinite(best)) nearest.push(best)
  }
  nearest.sort((a, b) => a - b)
  const spacing = nearest[Math.floor(nearest.length / 2)]
  if (spacing === undefined || spacing < 1) return []
  const members = new Set<number>()
  let sides = 0
  let diagonals = 0
  for (let i = 0; i < fleet.length; i++)
    for (let j = i + 1; j < fleet.length; j++) {
      const a = at[i]
      const b = at[j]
      if (a === undefined || b === undefined) continue
      const r = distanceMeters(a, b) / spacing
      if (Math.abs(r - 1) <= gridTolerance) {
        sides++
        members.add(i).add(j)
      } else if (Math.abs(r - Math.SQRT2) <= gridTolerance * Math.SQRT2) diagonals++
    }
  if (sides < 4 || diagonals < 2) return []
  return [...members].sort((a, b) => a - b).map((i) => fleet[i] as DeviceRecord)
}
