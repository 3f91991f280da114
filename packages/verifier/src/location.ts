import type { PathLossModel } from './params.ts'
import { cellCentre, distanceMeters, fromPlane, toPlane, type LatLng } from './geo.ts'
import { distanceForLossMeters, pathLossDb } from './model.ts'

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
