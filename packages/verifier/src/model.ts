import type { PathLossModel } from './params.ts'

/** Speed of light, m/s (exact, SI). */
export const speedOfLightMps = 299_792_458

/** Free-space path loss in dB: 20 log10(4 pi d f / c) (Friis). */
export function freeSpaceLossDb(distanceMeters: number, frequencyHz: number): number {
  return 20 * Math.log10((4 * Math.PI * Math.max(distanceMeters, 1) * frequencyHz) / speedOfLightMps)
}

/** Strongest physically possible RSSI: tx power + gains - free-space loss (Helium's bound). */
export function freeSpaceRssiMaxDbm(distanceMeters: number, frequencyHz: number, eirpDbm: number, rxGainDbi: number): number {
  return eirpDbm + rxGainDbi - freeSpaceLossDb(distanceMeters, frequencyHz)
}

/** Mean path loss of the log-distance model: PL(d0) + 10 n log10(d / d0), with PL(d0) the free-space loss at d0. */
export function pathLossDb(model: PathLossModel, distanceMeters: number, frequencyHz: number): number {
  const d = Math.max(distanceMeters, model.referenceMeters)
  return freeSpaceLossDb(model.referenceMeters, frequencyHz) + 10 * model.exponent * Math.log10(d / model.referenceMeters)
}

/** Distance at which the model's mean loss equals `lossDb`. */
export function distanceForLossMeters(model: PathLossModel, lossDb: number, frequencyHz: number): number {
  const excess = lossDb - freeSpaceLossDb(model.referenceMeters, frequencyHz)
  return model.referenceMeters * 10 ** (excess / (10 * model.exponent))
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 on erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y)
}

/** Inverse standard normal CDF (Acklam's rational approximation; relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12)
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number]
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number]
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number]
  const [d0, d1, d2, d3] = d as [number, number, number, number]
  const low = 0.02425
  if (q < low) {
    const r = Math.sqrt(-2 * Math.log(q))
    return (((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5) / ((((d0 * r + d1) * r + d2) * r + d3) * r + 1)
  }
  if (q > 1 - low) {
    const r = Math.sqrt(-2 * Math.log(1 - q))
    return -(((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5) / ((((d0 * r + d1) * r + d2) * r + d3) * r + 1)
  }
  const r = q - 0.5
  const s = r * r
  return ((((((a0 * s + a1) * s + a2) * s + a3) * s + a4) * s + a5) * r) / (((((b0 * s + b1) * s + b2) * s + b3) * s + b4) * s + 1)
}

/**
 * How surprising a received RSSI is under the model, as a standard-normal score. Receptions below the
 * sensitivity are never reported, so the honest distribution is the normal truncated at the sensitivity;
 * the probability-integral transform of that truncated normal, mapped back through the normal quantile,
 * is N(0, 1) for honest reports whatever the distance (a plain z-score would be biased upward at range).
 */
export function rssiProbitScore(model: PathLossModel, rssiDbm: number, predictedDbm: number): number {
  const sigma = model.shadowingDb
  const floor = normalCdf((model.sensitivityDbm - predictedDbm) / sigma)
  const at = normalCdf((rssiDbm - predictedDbm) / sigma)
  const u = floor >= 1 - 1e-12 ? 1 : (at - floor) / (1 - floor)
  return normalQuantile(u)
}

/** Probability that a receiver at this mean RSSI hears the beacon at all. */
export function hearingProbability(model: PathLossModel, predictedDbm: number): number {
  return 1 - normalCdf((model.sensitivityDbm - predictedDbm) / model.shadowingDb)
}
