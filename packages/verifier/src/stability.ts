import type { CoverageParams } from './params.ts'
import type { CarriedLink, DeviceHistory, EpochEvidence } from './types.ts'
import { chiSquareUpper } from './prob.ts'

/**
 * Link stability across epochs. A link's static shadowing does not change while neither end moves, so the
 * path gain a receiver reports for it changes from epoch to epoch by fast fading only. A reporter that
 * makes its RSSI up (a forger drawing from the model, a fleet fabricating each other's receptions) draws
 * afresh each time and moves by the whole shadowing spread.
 *
 * Soundness: for a link heard in epochs 1..m with n_i receptions each (mean gain g_i, variance f^2 / n_i
 * around the fixed static part), the innovation z_m = (g_m - mean of the earlier epochs, reception-weighted)
 * / (f * sqrt(1 / n_m + 1 / N_<m)) is N(0, 1), and the innovations of one link are independent of each
 * other (the sequential standardised residuals of a constant-mean Gaussian series); links are independent
 * given the shadowing. So a device's z^2 over its links and the window's epochs is chi-square with that
 * many degrees of freedom. Receptions near the sensitivity are seen only with lucky fading, but both the
 * new reception and the earlier ones are selected alike, which narrows the difference (conservative).
 *
 * A beaconer that misstates its transmit power shifts every receiver's gain at once, by the same amount:
 * its test is the common mode of its receivers' innovations, (sum z)^2 / n, chi-square(1) per epoch (one
 * receiver making its RSSI up moves the sum by its own z only, diluted by the others). A transmitter whose
 * common mode is significant (p < 0.01) and stronger than a receiver's own sum takes the blame for its
 * links, which leave that receiver's sum; a receiver whose own sum is the stronger leaves the transmitter's
 * common mode, as the reciprocity window blames partners.
 */

/** Level at which a transmitter's (or receiver's) own sum is strong enough to take the blame for a shared term. */
export const stabilityBlamePValue = 0.01

/** Innovation z of this epoch's link gain against the earlier epochs', or undefined without earlier evidence. */
export function linkInnovation(fastFadingDb: number, gainDb: number, count: number, carried: CarriedLink | undefined): number | undefined {
  if (carried?.rawWeight === undefined || carried.rawGainSumDb === undefined || carried.rawWeight <= 0) return undefined
  const earlier = carried.rawGainSumDb / carried.rawWeight
  return (gainDb - earlier) / (fastFadingDb * Math.sqrt(1 / count + 1 / carried.rawWeight))
}

export interface StabilityTerm {
  tx: string
  rx: string
  /** Innovation of this epoch's gain, N(0, 1) for an honest link. */
  z: number
}

export interface StabilityTally {
  /** As receiver: z^2 of the links it reported (terms blamed on their transmitter left out) and their count. */
  rxChiSquare: number
  rxLinks: number
  /** As transmitter: the common mode (sum z)^2 / n of its receivers' innovations (terms blamed on their receiver left out), one degree of freedom. */
  txChiSquare: number
  txLinks: number
}

/** This epoch's stability sums per device, each shared term charged to the end whose own evidence is stronger. */
export function stabilityTallies(terms: readonly StabilityTerm[]): Map<string, StabilityTally> {
  const rxSums = new Map<string, { sum: number; k: number }>()
  const txSums = new Map<string, { sum: number; n: number }>()
  for (const t of terms) {
    const r = rxSums.get(t.rx) ?? { sum: 0, k: 0 }
    r.sum += t.z * t.z
    r.k++
    rxSums.set(t.rx, r)
    const x = txSums.get(t.tx) ?? { sum: 0, n: 0 }
    x.sum += t.z
    x.n++
    txSums.set(t.tx, x)
  }
  const pRx = new Map([...rxSums].map(([id, s]) => [id, chiSquareUpper(s.sum, s.k)]))
  const pTx = new Map([...txSums].map(([id, s]) => [id, chiSquareUpper((s.sum * s.sum) / s.n, 1)]))
  const out = new Map<string, StabilityTally>()
  const tallyOf = (id: string): StabilityTally => {
    let t = out.get(id)
    if (t === undefined) out.set(id, (t = { rxChiSquare: 0, rxLinks: 0, txChiSquare: 0, txLinks: 0 }))
    return t
  }
  const kept = new Map<string, { sum: number; n: number }>()
  for (const t of terms) {
    const txP = pTx.get(t.tx) as number
    const rxP = pRx.get(t.rx) as number
    if (!(txP < stabilityBlamePValue && txP < rxP)) {
      const r = tallyOf(t.rx)
      r.rxChiSquare += t.z * t.z
      r.rxLinks++
    }
    if (!(rxP < stabilityBlamePValue && rxP < txP)) {
      const x = kept.get(t.tx) ?? { sum: 0, n: 0 }
      x.sum += t.z
      x.n++
      kept.set(t.tx, x)
    }
  }
  for (const [id, x] of kept) {
    const t = tallyOf(id)
    t.txChiSquare = (x.sum * x.sum) / x.n
    t.txLinks = 1
  }
  return out
}

/**
 * Window test: a device's stability sums over the last `evidenceEpochs` epochs (its history's evidence and
 * this epoch's tallies). Returns the flags' details by device: an honest device's chance of one is at most
 * 2 x flagPValueMax per epoch (two tests), whatever the window.
 */
export function stabilityFindings(
  params: CoverageParams,
  epoch: number,
  history: ReadonlyMap<string, DeviceHistory>,
  tallies: ReadonlyMap<string, StabilityTally>,
): Map<string, string> {
  const findings = new Map<string, string>()
  for (const [id, now] of tallies) {
    const earlier = (history.get(id)?.evidence ?? []).filter((e) => e.epoch < epoch && e.epoch > epoch - params.evidenceEpochs)
    type Entry = Pick<EpochEvidence, 'stabilityChiSquare' | 'stabilityLinks' | 'stabilityTxChiSquare' | 'stabilityTxLinks'>
    const window: Entry[] = [
      ...earlier,
      {
        stabilityChiSquare: now.rxChiSquare,
        stabilityLinks: now.rxLinks,
        stabilityTxChiSquare: now.txChiSquare,
        stabilityTxLinks: now.txLinks,
      },
    ]
    const sum = (f: (e: Entry) => number | undefined): number => window.reduce((a, e) => a + (f(e) ?? 0), 0)
    const epochs = window.filter((e) => (e.stabilityLinks ?? 0) + (e.stabilityTxLinks ?? 0) > 0).length
    const rx = { chi: sum((e) => e.stabilityChiSquare), k: sum((e) => e.stabilityLinks) }
    const tx = { chi: sum((e) => e.stabilityTxChiSquare), k: sum((e) => e.stabilityTxLinks) }
    const pRx = rx.k === 0 ? 1 : chiSquareUpper(rx.chi, rx.k)
    const pTx = tx.k === 0 ? 1 : chiSquareUpper(tx.chi, tx.k)
    if (pRx < params.flagPValueMax)
      findings.set(
        id,
        `the RSSI it reports for its links moves between epochs beyond fading (chi2 ${rx.chi.toFixed(0)} on ${rx.k} over ${epochs} epoch(s), p=${pRx.toExponential(1)})`,
      )
    else if (pTx < params.flagPValueMax)
      findings.set(
        id,
        `its beacons' RSSI at its receivers moves together between epochs beyond fading, as if its stated transmit power varied (chi2 ${tx.chi.toFixed(0)} on ${tx.k} over ${epochs} epoch(s), p=${pTx.toExponential(1)})`,
      )
  }
  return findings
}
