import type { PathLossModel } from './params.ts'
import { cellCentre, distanceMeters, fromPlane, toPlane, type LatLng } from './geo.ts'
import { distanceForLossMeters, normalCdf, pathLossDb } from './model.ts'
import { AudienceIndex } from './audience.ts'
import { chiSquareUpper } from './prob.ts'

/** One witness observation of a beacon: where the witness is and what it heard. */
export interface RangeObservation {
  location: LatLng
  rssiDbm: number
  /** Transmit EIRP of the beacon plus the witness's receive gain. */
  linkBudgetDbm: number
  frequencyHz: number
}

export interface LocationEstimate {
  location: LatLng
  /** One standard error of the estimate, m (from the WLS covariance). */
  sigmaMeters: number
  observations: number
}

/** Gauss-Newton iterations (converges in 5-8 on simulated data). */
export const multilaterationIterationsMax = 20
/** Floor on the standard error: RSSI ranging is never better than this (near-field, cell quantisation, static shadowing). */
export const locationSigmaMetersMin = 150
/** Fewest observations for an estimate (two unknowns, and one to spare). */
export const multilaterationObservationsMin = 3

/**
 * Where the radio evidence puts a transmitter: weighted least squares of RSSI residuals under the
 * log-distance model (shadowing is homoscedastic in dB, so all weights are equal in dB), solved by
 * Gauss-Newton from the centroid of the witnesses weighted by their range estimates.
 */
export function multilaterate(model: PathLossModel, observations: readonly RangeObservation[]): LocationEstimate | undefined {
  if (observations.length < multilaterationObservationsMin) return undefined
  const origin = observations[0]?.location as LatLng
  const points = observations.map((o) => {
    const p = toPlane(origin, o.location)
    const range = distanceForLossMeters(model, o.linkBudgetDbm - o.rssiDbm, o.frequencyHz)
    return { x: p.x, y: p.y, o, weight: 1 / Math.max(range, 10) ** 2 }
  })
  let wSum = 0
  let x = 0
  let y = 0
  for (const p of points) {
    wSum += p.weight
    x += p.weight * p.x
    y += p.weight * p.y
  }
  x /= wSum
  y /= wSum
  const k = (10 * model.exponent) / Math.LN10
  let jtj = [0, 0, 0]
  for (let iter = 0; iter < multilaterationIterationsMax; iter++) {
    let a = 0
    let b = 0
    let c = 0
    let gx = 0
    let gy = 0
    for (const p of points) {
      const dx = x - p.x
      const dy = y - p.y
      const d2 = Math.max(dx * dx + dy * dy, model.referenceMeters ** 2)
      const predicted = p.o.linkBudgetDbm - pathLossDb(model, Math.sqrt(d2), p.o.frequencyHz)
      const residual = p.o.rssiDbm - predicted
      // d(predicted)/dx = -k * dx / d^2
      const jx = (-k * dx) / d2
      const jy = (-k * dy) / d2
      a += jx * jx
      b += jx * jy
      c += jy * jy
      gx += jx * residual
      gy += jy * residual
    }
    jtj = [a, b, c]
    const det = a * c - b * b
    if (!(det > 1e-18)) break
    // Levenberg damping keeps steps sane when the geometry is poor.
    const lambda = 1e-3 * (a + c)
    const da = a + lambda
    const dc = c + lambda
    const ddet = da * dc - b * b
    const stepX = (dc * gx - b * gy) / ddet
    const stepY = (da * gy - b * gx) / ddet
    x += stepX
    y += stepY
    if (Math.hypot(stepX, stepY) < 0.5) break
  }
  const [a, b, c] = jtj as [number, number, number]
  const det = a * c - b * b
  const sigma2 = model.shadowingDb ** 2
  const sigmaMeters = det > 1e-18 ? Math.max(locationSigmaMetersMin, Math.sqrt((sigma2 * (a + c)) / det / 2)) : Number.POSITIVE_INFINITY
  return { location: fromPlane(origin, x, y), sigmaMeters, observations: observations.length }
}

/** HIP-119 location trust in ppm by distance: <= 300 m x1, <= 400 m x0.25, beyond x0. */
export function locationTrustPpm(excessMeters: number): number {
  if (excessMeters <= 300) return 1_000_000
  if (excessMeters <= 400) return 250_000
  return 0
}

/** Distance between the assertion and the estimate beyond `allowance` standard errors of the estimate. */
export function excessDistanceMeters(asserted: string, estimate: LocationEstimate, allowance: number): number {
  const d = distanceMeters(cellCentre(asserted), estimate.location)
  return Math.max(0, d - allowance * estimate.sigmaMeters)
}

/** ln P(Z > a) for a standard normal Z, accurate in the far tail (Mills ratio beyond a = 5). */
export function logNormalSurvival(a: number): number {
  if (a < 5) return Math.log(Math.max(1e-300, 1 - normalCdf(a)))
  // Laplace's continued fraction, three terms: Q(a) ~ phi(a) / a * (1 - 1/a^2 + 3/a^4)
  const a2 = a * a
  return -a2 / 2 - Math.log(a * Math.sqrt(2 * Math.PI)) + Math.log(1 - 1 / a2 + 3 / (a2 * a2))
}

/**
 * Huber's threshold in standard deviations: residuals beyond it count linearly, so a few lying or
 * misplaced partners cannot drag the fit (Huber 1964). At 2.5 an honest residual crosses it 1.2% of the time.
 */
export const huberK = 2.5
/** Compass-search steps of {@link locateDevice} (each halves the step or moves; 2 km to 5 m in about 10 halvings). */
export const locationSearchStepsMax = 400
/**
 * Fewest observations for a location test. One is enough for the test (not for an estimate): with fewer
 * observations than unknowns the best fit only gets better, so the likelihood ratio against chi-square(2)
 * stays conservative, and a device whose only link is implausible at its assertion is as suspect as one
 * with many.
 */
export const locationObservationsMin = 1
/** Fewest observations for the robust (Huber) fit; below it the fit is the plain truncated-normal likelihood. */
export const robustObservationsMin = 4

/**
 * ln of the unnormalised mass above `a` of Huber's density exp(-rho(z)) (rho = z^2 / 2 inside huberK,
 * linear outside): the truncation term that matches the robust loss. The Gaussian survival would fall
 * quadratically where the loss grows linearly, so a far-away position would always fit better (a single
 * link's fit ran off to infinity).
 */
export function huberLogSurvival(a: number): number {
  const k = huberK
  const tail = Math.exp(-(k * k) / 2) / k
  const sqrt2pi = Math.sqrt(2 * Math.PI)
  if (a >= k) return (k * k) / 2 - k * a - Math.log(k)
  if (a >= -k) return Math.log(sqrt2pi * (normalCdf(k) - normalCdf(a)) + tail)
  return Math.log(sqrt2pi * (2 * normalCdf(k) - 1) + tail + tail - Math.exp((k * k) / 2 + k * a) / k)
}

/** A listener that had the chance to hear the device (or be heard by it) and heard nothing either way. */
export interface SilentObservation {
  location: LatLng
  /** Transmit EIRP plus receive gain of the stronger direction that had the chance. */
  linkBudgetDbm: number
  frequencyHz: number
}

/** Who could have heard the device and did not: with it, the test uses the full likelihood of hearing. */
export interface Audience {
  silent: readonly SilentObservation[]
  /**
   * Floor on a miss's probability: a reception can be lost for reasons outside the radio model (a busy or
   * offline listener), so one silent neighbour costs at most -ln(floor) however close it is.
   */
  missProbabilityMin: number
}

export interface LocationTest {
  estimate: LocationEstimate
  /** 2 (NLL(asserted) - NLL(best)): chi-square with 2 degrees of freedom when the assertion is right. */
  lrStatistic: number
  pValue: number
}

/**
 * Tests an asserted location against the radio evidence of one epoch. Each observation is a reception
 * of a link with one end at the device and the other end at a known place (a witness of the device's
 * beacon, or a beaconer the device heard: path loss is reciprocal). The fit is a robust (Huber) maximum
 * likelihood of the log-distance model with shadowing. With the `audience` (listeners that could have
 * heard the device and did not), it is the full likelihood of what was heard and what was not; without
 * it, receptions below the sensitivity are never seen, and the likelihood is conditioned on hearing (the
 * truncated normal, so weak links do not bias the range short, but a weak link then says nothing about
 * range). The likelihood-ratio statistic of the assertion against the best fit is chi-square with 2
 * degrees of freedom when the assertion is right (Wilks); a spoofer, or a device that is not where it
 * says, is far in the tail.
 */
export function locateDevice(
  model: PathLossModel,
  asserted: LatLng,
  observations: readonly RangeObservation[],
  audience?: Audience,
): LocationTest | undefined {
  if (observations.length < locationObservationsMin) return undefined
  const sigma = model.shadowingDb
  const points = observations.map((o) => ({ ...toPlane(asserted, o.location), o }))
  // Robust only where there are partners enough to outvote a liar; with fewer, a lying partner cannot be
  // told from a lying device anyway, and the plain likelihood keeps the full weight of an impossible link.
  const isRobust = observations.length >= robustObservationsMin
  const k = isRobust ? huberK : Number.POSITIVE_INFINITY
  const logSurvival = isRobust ? huberLogSurvival : logNormalSurvival
  const silent = (audience?.silent ?? []).map((o) => ({
    ...toPlane(asserted, o.location),
    o,
    reach2: AudienceIndex.reachMeters(model, o.linkBudgetDbm, o.frequencyHz) ** 2,
  }))
  const missCostMax = audience === undefined ? 0 : -Math.log(audience.missProbabilityMin)
  const nll = (x: number, y: number): number => {
    let total = 0
    for (const p of points) {
      const d = Math.max(Math.hypot(x - p.x, y - p.y), model.referenceMeters)
      const mean = p.o.linkBudgetDbm - pathLossDb(model, d, p.o.frequencyHz)
      const z = (p.o.rssiDbm - mean) / sigma
      const az = Math.abs(z)
      total += az <= k ? (z * z) / 2 : k * az - (k * k) / 2
      // Without the audience, only what was heard is known: the likelihood is conditioned on hearing (the
      // truncated normal). With it, not hearing is evidence too, and the plain density is the right one.
      if (audience === undefined) total += logSurvival((model.sensitivityDbm - mean) / sigma)
    }
    for (const s of silent) {
      const d2 = (x - s.x) ** 2 + (y - s.y) ** 2
      if (d2 > s.reach2) continue
      const mean = s.o.linkBudgetDbm - pathLossDb(model, Math.sqrt(d2), s.o.frequencyHz)
      const miss = normalCdf((model.sensitivityDbm - mean) / sigma)
      total += Math.min(missCostMax, -Math.log(miss))
    }
    return total
  }
  const atAssertion = nll(0, 0)
  let bestX = 0
  let bestY = 0
  let best = atAssertion
  const start = multilaterate(model, observations)
  if (start !== undefined) {
    const p = toPlane(asserted, start.location)
    const v = nll(p.x, p.y)
    if (v < best) {
      best = v
      bestX = p.x
      bestY = p.y
    }
  }
  const directions = [
    [1, 0],
    [0, 1],
    [-1, 0],
    [0, -1],
    [Math.SQRT1_2, Math.SQRT1_2],
    [-Math.SQRT1_2, Math.SQRT1_2],
    [Math.SQRT1_2, -Math.SQRT1_2],
    [-Math.SQRT1_2, -Math.SQRT1_2],
  ] as const
  let step = 2_000
  for (let i = 0; i < locationSearchStepsMax && step >= 5; i++) {
    let moved = false
    for (const [dx, dy] of directions) {
      const v = nll(bestX + dx * step, bestY + dy * step)
      if (v < best) {
        best = v
        bestX += dx * step
        bestY += dy * step
        moved = true
        break
      }
    }
    if (!moved) step /= 2
  }
  // Standard error from the Gauss-Newton information at the fit (as multilaterate).
  const slope = (10 * model.exponent) / Math.LN10
  let a = 0
  let b = 0
  let c = 0
  for (const p of points) {
    const dx = bestX - p.x
    const dy = bestY - p.y
    const d2 = Math.max(dx * dx + dy * dy, model.referenceMeters ** 2)
    const jx = (-slope * dx) / d2
    const jy = (-slope * dy) / d2
    a += jx * jx
    b += jx * jy
    c += jy * jy
  }
  const det = a * c - b * b
  const sigmaMeters = det > 1e-18 ? Math.sqrt((sigma * sigma * (a + c)) / det / 2) : Number.POSITIVE_INFINITY
  const lrStatistic = Math.max(0, 2 * (atAssertion - best))
  return {
    estimate: { location: fromPlane(asserted, bestX, bestY), sigmaMeters, observations: observations.length },
    lrStatistic,
    pValue: chiSquareUpper(lrStatistic, 2),
  }
}
