import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { CarriedLink, DeviceHistory } from '../src/types.ts'
import { linkInnovation, stabilityFindings, stabilityTallies, type StabilityTerm } from '../src/stability.ts'
import { SeededRng } from '../src/rng.ts'
import { emptyEvidence } from '../src/stats.ts'
import { params } from './helpers.ts'

const fading = params.pathLoss.fastFadingDb

interface Scene {
  devices: number
  linksPerDevice: number
  /** Gain a receiver reports this epoch for a link whose static gain is `staticDb`. */
  reported?: (tx: string, rx: string, staticDb: number, epoch: number, rng: SeededRng) => number | undefined
}

/** Runs epochs of directed links tx -> rx, carrying the undecayed per-link sums and the evidence window as runEpoch does. */
function run(epochs: number, scene: Scene, seed: string): Array<Map<string, string>> {
  const rng = new SeededRng(seed)
  const links: Array<{ tx: string; rx: string; staticDb: number }> = []
  for (let d = 0; d < scene.devices; d++)
    for (let l = 1; l <= scene.linksPerDevice; l++)
      links.push({ tx: `d${d}`, rx: `d${(d + l * 7) % scene.devices}`, staticDb: -90 - 20 * rng.next() })
  const carried = new Map<string, CarriedLink>()
  const history = new Map<string, DeviceHistory>()
  const out: Array<Map<string, string>> = []
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const terms: StabilityTerm[] = []
    for (const { tx, rx, staticDb } of links) {
      const gain = scene.reported?.(tx, rx, staticDb, epoch, rng) ?? staticDb + fading * rng.normal()
      const key = `${tx}>${rx}`
      const c = carried.get(key)
      const z = linkInnovation(fading, gain, 1, c)
      if (z !== undefined) terms.push({ tx, rx, z })
      carried.set(key, {
        gainSumDb: 0,
        weight: 1,
        budgetDbm: 0,
        frequencyHz: 868_100_000,
        txLocation: 'x',
        rxLocation: 'y',
        rawWeight: (c?.rawWeight ?? 0) + 1,
        rawGainSumDb: (c?.rawGainSumDb ?? 0) + gain,
      })
    }
    const tallies = stabilityTallies(terms)
    out.push(stabilityFindings(params, epoch, history, tallies))
    for (const [id, t] of tallies) {
      const h = history.get(id) ?? { lastSeq: -1, cleanEpochs: 0, escrow: [], rssiScoreSum: 0, rssiScoreSquares: 0, rssiScoreCount: 0 }
      const e = {
        ...emptyEvidence(epoch),
        stabilityChiSquare: t.rxChiSquare,
        stabilityLinks: t.rxLinks,
        stabilityTxChiSquare: t.txChiSquare,
        stabilityTxLinks: t.txLinks,
      }
      h.evidence = [...(h.evidence ?? []).filter((x) => x.epoch > epoch - params.evidenceEpochs), e]
      history.set(id, h)
    }
  }
  return out
}

test('link stability: honest links (fading only) are never flagged over the window', () => {
  const findings = run(8, { devices: 1_000, linksPerDevice: 10 }, 'stable-honest')
  for (const f of findings) assert.equal(f.size, 0, [...f.values()].join('; '))
})

test('link stability: a reporter that makes RSSI up each epoch is flagged; its partners are not', () => {
  const forged = (_tx: string, rx: string, _staticDb: number, _epoch: number, rng: SeededRng): number | undefined =>
    rx === 'd3' ? -100 + params.pathLoss.shadowingDb * rng.normal() : undefined
  const findings = run(4, { devices: 200, linksPerDevice: 4, reported: forged }, 'stable-forger')
  assert.equal(findings[0]?.size, 0, 'no earlier epoch: nothing to compare')
  const last = findings[3] as Map<string, string>
  assert.ok(last.has('d3'), 'the forger')
  assert.match(last.get('d3') as string, /RSSI it reports/)
  assert.deepEqual([...last.keys()], ['d3'])
})

test('link stability: a beaconer that misstates its transmit power is blamed, not its receivers', () => {
  const griefer = (tx: string, _rx: string, staticDb: number, epoch: number, rng: SeededRng): number | undefined =>
    tx === 'd5' ? staticDb + fading * rng.normal() + (epoch % 2 === 0 ? 8 : -8) : undefined
  const findings = run(4, { devices: 200, linksPerDevice: 6, reported: griefer }, 'stable-griefer')
  const last = findings[3] as Map<string, string>
  assert.deepEqual([...last.keys()], ['d5'])
  assert.match(last.get('d5') as string, /moves together/)
})
