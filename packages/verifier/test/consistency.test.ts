import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  advanceLinkWindows,
  linkConsistencyFindings,
  linkConsistencyTerms,
  linkWindowKey,
  type LinkEpochInputs,
  type LinkWindow,
} from '../src/consistency.ts'
import { logNormalUpper } from '../src/prob.ts'
import { SeededRng } from '../src/rng.ts'
import { params } from './helpers.ts'

const model = params.pathLoss
const fading = model.fastFadingDb
const staticSigma = Math.sqrt(model.shadowingDb ** 2 - fading ** 2)
const eirpDbm = 30
const rxGainDbi = 3
/** Lowest decodable path gain of every link in these scenes. */
const floorDb = model.sensitivityDbm - eirpDbm - rxGainDbi

interface Pair {
  a: string
  b: string
  meanGainDb: number
  staticDb: number
}

interface Scene {
  devices: number
  partners: number
  /** Mean path gains are drawn uniformly from floorDb + [lowDb, highDb]. */
  lowDb: number
  highDb: number
  /** What a receiver reports for a reception it heard with `trueGainDb` (default: the truth). */
  report?: (rx: string, pair: Pair, trueGainDb: number, rng: SeededRng) => number
  /** Devices offline in an epoch: they neither beacon nor listen. */
  offline?: (id: string, epoch: number) => boolean
}

const id = (i: number): string => `d${String(i).padStart(4, '0')}`

function pairsOf(scene: Scene, rng: SeededRng): Pair[] {
  const pairs = new Map<string, Pair>()
  for (let i = 0; i < scene.devices; i++)
    for (let l = 1; l <= scene.partners; l++) {
      const [a, b] = [id(i), id((i + l * 7) % scene.devices)].sort() as [string, string]
      if (a === b || pairs.has(linkWindowKey(a, b))) continue
      const meanGainDb = floorDb + scene.lowDb + (scene.highDb - scene.lowDb) * rng.next()
      pairs.set(linkWindowKey(a, b), { a, b, meanGainDb, staticDb: staticSigma * rng.normal() })
    }
  return [...pairs.values()]
}

/** Runs `epochs` epochs of one beacon per device, carrying the windows as the statistics do. */
function run(scene: Scene, epochs: number, seed: string): Map<string, LinkWindow> {
  const rng = new SeededRng(seed)
  const pairs = pairsOf(scene, rng)
  let windows = new Map<string, LinkWindow>()
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const isOn = (d: string): boolean => scene.offline?.(d, epoch) !== true
    const receptions = new Map<string, Map<string, number[]>>()
    const listening = new Set<string>()
    for (const p of pairs)
      for (const [tx, rx] of [
        [p.a, p.b],
        [p.b, p.a],
      ] as const) {
        if (!isOn(tx) || !isOn(rx)) continue
        const gain = p.meanGainDb + p.staticDb + fading * rng.normal()
        if (gain < floorDb) continue
        const reported = Math.round((scene.report?.(rx, p, gain, rng) ?? gain) * 100) / 100
        let out = receptions.get(tx)
        if (out === undefined) receptions.set(tx, (out = new Map()))
        out.set(rx, [reported])
        listening.add(rx)
      }
    const means = new Map(pairs.map((p) => [linkWindowKey(p.a, p.b), p.meanGainDb]))
    const inputs: LinkEpochInputs = {
      epoch,
      windowEpochs: params.evidenceEpochs,
      sensitivityDbm: model.sensitivityDbm,
      receptions,
      beaconsOf: (d) => (isOn(d) ? { count: 1, eirpDbm } : undefined),
      // In these scenes every device that is on listens (a device hearing nothing this epoch still listened).
      isListening: (d) => isOn(d) || listening.has(d),
      rxGainDbi: () => rxGainDbi,
      location: (d) => `cell-${d}`,
      meanGainDb: (a, b) => means.get(linkWindowKey(a, b)),
    }
    windows = advanceLinkWindows(windows, inputs)
  }
  return windows
}

/** Draws from the model at the asserted distance, conditioned on being decodable: what a forger reports. */
function modelDraw(pair: Pair, rng: SeededRng): number {
  for (;;) {
    const g = pair.meanGainDb + model.shadowingDb * rng.normal()
    if (g >= floorDb) return g
  }
}

test('ln of the normal upper tail keeps its digits far into both tails', () => {
  assert.ok(Math.abs(logNormalUpper(0) - Math.log(0.5)) < 1e-6)
  // Q(10) = 7.6198530241605e-24, Q(20) = 2.7536241186062e-89 (reference values).
  assert.ok(Math.abs(logNormalUpper(10) - Math.log(7.6198530241605e-24)) < 1e-6)
  assert.ok(Math.abs(logNormalUpper(20) - Math.log(2.7536241186062e-89)) < 1e-5)
  assert.ok(Math.abs(logNormalUpper(-3) - Math.log(1 - 0.0013498980316301)) < 1e-9)
})

test('honest links near the sensitivity score N(0, 1) and flag nobody over six epochs', () => {
  // Mean gains from 12 dB below the floor to 15 dB above: most links are heard only with lucky shadowing,
  // some only now and then; the window holds their misses as well as their receptions.
  const windows = run({ devices: 1_000, partners: 6, lowDb: -12, highDb: 15 }, 6, 'honest')
  const terms = linkConsistencyTerms(model, windows.values())
  const zs = [...terms.values()].flat().map((t) => t.z)
  assert.ok(zs.length > 20_000, `${zs.length} receptions`)
  const mean = zs.reduce((a, z) => a + z, 0) / zs.length
  const variance = zs.reduce((a, z) => a + (z - mean) ** 2, 0) / zs.length
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`)
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`)
  assert.ok(zs.filter((z) => Math.abs(z) > 4).length < 10)
  assert.equal(linkConsistencyFindings(terms, new Set(), params.flagPValueMax).size, 0)
})

test('a forger reporting model draws on weak links is flagged; its honest partners are not', () => {
  const forger = id(7)
  // Every link within 10 dB of the floor: the window tests of rssi_not_reciprocal leave all of them out.
  const scene: Scene = {
    devices: 400,
    partners: 4,
    lowDb: -6,
    highDb: 10,
    report: (rx, pair, gain, rng) => (rx === forger ? modelDraw(pair, rng) : gain),
  }
  const windows = run(scene, 6, 'forger')
  const terms = linkConsistencyTerms(model, windows.values())
  const findings = linkConsistencyFindings(terms, new Set(), params.flagPValueMax)
  assert.deepEqual([...findings.keys()], [forger])
  const partners = new Set((terms.get(forger) ?? []).map((t) => t.partner))
  assert.ok(partners.size >= 4, `${partners.size} partners`)
})

test('a partner flagged by another test is no anchor: its terms leave the device tests', () => {
  const liar = id(3)
  const scene: Scene = { devices: 200, partners: 4, lowDb: -4, highDb: 12, report: (rx, _pair, gain) => (rx === liar ? gain + 9 : gain) }
  const terms = linkConsistencyTerms(model, run(scene, 4, 'liar').values())
  assert.ok(linkConsistencyFindings(terms, new Set(), params.flagPValueMax).has(liar))
  const findings = linkConsistencyFindings(terms, new Set([liar]), params.flagPValueMax)
  assert.equal(findings.size, 0)
})

test('windows keep misses only while the receiver listens, drop old epochs and re-asserted pairs', () => {
  const offline = id(5)
  const scene: Scene = { devices: 40, partners: 3, lowDb: 5, highDb: 20, offline: (d, epoch) => d === offline && epoch === 5 }
  const windows = run(scene, 8, 'window')
  for (const w of windows.values()) {
    assert.ok(
      w.epochs.every((e) => e.epoch > 8 - params.evidenceEpochs),
      `epochs ${w.epochs.map((e) => e.epoch).join(',')}`,
    )
    if (w.a === offline || w.b === offline)
      assert.equal(
        w.epochs.find((e) => e.epoch === 5),
        undefined,
      )
    // A window opens with the pair's first reception.
    else if ((w.epochs[0]?.epoch ?? 9) < 5)
      assert.ok(
        w.epochs.some((e) => e.epoch === 5),
        `${w.a} ${w.b} ${JSON.stringify(w.epochs)}`,
      )
  }
  const first = [...windows.values()][0] as LinkWindow
  const moved = advanceLinkWindows(windows, {
    epoch: 9,
    windowEpochs: params.evidenceEpochs,
    sensitivityDbm: model.sensitivityDbm,
    receptions: new Map(),
    beaconsOf: () => ({ count: 1, eirpDbm }),
    isListening: () => true,
    rxGainDbi: () => rxGainDbi,
    location: (d) => (d === first.a ? 'elsewhere' : `cell-${d}`),
    meanGainDb: () => undefined,
  })
  assert.equal(moved.has(linkWindowKey(first.a, first.b)), false)
  // Unmoved pairs carry on, with this epoch's misses recorded.
  const other = [...moved.values()][0] as LinkWindow
  const last = other.epochs[other.epochs.length - 1]
  assert.equal(last?.epoch, 9)
  assert.equal(last?.ab?.attempts, 1)
  assert.equal(last?.ab?.gainsDb.length, 0)
})

test('blame: a liar is flagged when its partner is backed by others; a pair alone with each other flags neither', () => {
  const rng = new SeededRng('single-partner')
  const window = (partner: string, z: () => number): Array<{ partner: string; z: number }> =>
    Array.from({ length: 6 }, () => ({ partner, z: z() }))
  const bad = (): number => 7
  const fine = (): number => rng.normal()
  // The honest device also hears ten others over the window, who hear it back.
  const backed = new Map<string, Array<{ partner: string; z: number }>>([
    ['liar', window('honest', bad)],
    ['honest', window('liar', bad)],
  ])
  for (let i = 0; i < 10; i++) {
    backed.get('honest')?.push(...window(`n${i}`, fine))
    backed.set(`n${i}`, window('honest', fine))
  }
  // Both fail at first; the honest device passes on its other partners, and the liar then fails against it.
  assert.deepEqual([...linkConsistencyFindings(backed, new Set(), params.flagPValueMax).keys()], ['liar'])
  // A spoofer and its one honest neighbour, the spoofer with one stray reception from a third device: the
  // stray term must not clear it and condemn the neighbour. Nothing tells them apart, so neither is flagged.
  const lone = new Map<string, Array<{ partner: string; z: number }>>([
    ['liar', [...window('honest', bad), { partner: 'third', z: 1.5 }]],
    ['honest', window('liar', bad)],
    ['third', window('liar', fine)],
  ])
  assert.equal(linkConsistencyFindings(lone, new Set(), params.flagPValueMax).size, 0)
})
