import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chiSquareLower, chiSquareUpper, poissonBinomialUpper, regularizedGammaP } from '../src/prob.ts'
import { locateDevice, type RangeObservation } from '../src/location.ts'
import { fromPlane } from '../src/geo.ts'
import { pathLossDb } from '../src/model.ts'
import { SeededRng } from '../src/rng.ts'
import { params, origin } from './helpers.ts'

test('chi-square and gamma tails match tabulated values', () => {
  // Chi-square critical values (NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
  assert.ok(Math.abs(chiSquareUpper(3.841, 1) - 0.05) < 1e-4)
  assert.ok(Math.abs(chiSquareUpper(23.209, 10) - 0.01) < 1e-4)
  assert.ok(Math.abs(chiSquareLower(3.94, 10) - 0.05) < 1e-3)
  assert.ok(Math.abs(chiSquareUpper(124.342, 100) - 0.05) < 1e-4)
  // P(1, x) = 1 - e^-x
  assert.ok(Math.abs(regularizedGammaP(1, 2) - (1 - Math.exp(-2))) < 1e-12)
})

test('Poisson-binomial tail: exact against enumeration', () => {
  assert.equal(poissonBinomialUpper([0.5, 0.5, 0.5, 0.5], 2), 11 / 16)
  assert.ok(Math.abs(poissonBinomialUpper([0.1, 0.2, 0.3], 3) - 0.006) < 1e-12)
  assert.equal(poissonBinomialUpper([0.3], 0), 1)
  assert.equal(poissonBinomialUpper([0.3], 2), 0)
})

/** Observations of a transmitter at `truth` from 16 partners on two rings, with seeded shadowing. */
function observations(truth: { x: number; y: number }, seed: string): RangeObservation[] {
  const rng = new SeededRng(seed)
  const model = params.pathLoss
  const out: RangeObservation[] = []
  for (let i = 0; i < 16; i++) {
    const r = i % 2 === 0 ? 1_200 : 2_400
    const at = { x: r * Math.cos((i * Math.PI) / 8), y: r * Math.sin((i * Math.PI) / 8) }
    const d = Math.hypot(at.x - truth.x, at.y - truth.y)
    const rssiDbm = 33 - pathLossDb(model, d, 868_100_000) + model.shadowingDb * rng.normal()
    if (rssiDbm < model.sensitivityDbm) continue
    out.push({ location: fromPlane(origin, at.x, at.y), rssiDbm, linkBudgetDbm: 33, frequencyHz: 868_100_000 })
  }
  return out
}

test('location test: an honest assertion passes, one 3 km off fails (likelihood ratio, 2 degrees of freedom)', () => {
  let rejected = 0
  for (let s = 0; s < 20; s++) {
    const test = locateDevice(params.pathLoss, origin, observations({ x: 0, y: 0 }, `honest-${s}`))
    assert.ok(test)
    if (test.pValue < params.flagPValueMax) rejected++
  }
  assert.equal(rejected, 0)
  const spoofed = locateDevice(params.pathLoss, fromPlane(origin, 3_000, 0), observations({ x: 0, y: 0 }, 'spoof'))
  assert.ok(spoofed)
  assert.ok(spoofed.pValue < params.flagPValueMax, `p=${spoofed.pValue}`)
  assert.equal(locateDevice(params.pathLoss, origin, []), undefined)
})

test('location test with one to three links: an implausible link fails, honest ones pass', () => {
  const model = params.pathLoss
  // Honest: one to three partners at 300-2,700 m, shadowing drawn from the model, kept when heard.
  const rng = new SeededRng('few-links')
  let tested = 0
  let rejected = 0
  for (let i = 0; i < 3_000; i++) {
    const observed: RangeObservation[] = []
    for (let j = 0; j <= i % 3; j++) {
      const d = 300 + rng.next() * 2_400
      const angle = rng.next() * 2 * Math.PI
      const rssiDbm = 33 - pathLossDb(model, d, 868_100_000) + model.shadowingDb * rng.normal()
      if (rssiDbm >= model.sensitivityDbm)
        observed.push({
          location: fromPlane(origin, d * Math.cos(angle), d * Math.sin(angle)),
          rssiDbm,
          linkBudgetDbm: 33,
          frequencyHz: 868_100_000,
        })
    }
    if (observed.length === 0) continue
    const few = locateDevice(model, origin, observed)
    assert.ok(few)
    if (observed.length === 1) assert.equal(few.estimate.sigmaMeters, Number.POSITIVE_INFINITY)
    tested++
    if (few.pValue < params.flagPValueMax) rejected++
  }
  assert.ok(tested > 2_000)
  assert.equal(rejected, 0)
  // A spoofer asserted 15 km from the one partner that hears it 800 m away.
  const truth = { x: 15_000, y: 0 }
  const rssiDbm = 33 - pathLossDb(model, 800, 868_100_000)
  const spoofed = locateDevice(model, origin, [
    { location: fromPlane(origin, truth.x + 800, 0), rssiDbm, linkBudgetDbm: 33, frequencyHz: 868_100_000 },
  ])
  assert.ok(spoofed)
  assert.ok(spoofed.pValue < params.flagPValueMax, `p=${spoofed.pValue}`)
})
