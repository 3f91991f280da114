import { test } from 'node:test'
import assert from 'node:assert/strict'
import { coverageParams, type DeviceHistory } from '../src/index.ts'
import { crossEpochEvidence, poissonUpper, type Flag, type ReciprocityEvent } from '../src/stats.ts'
import { SeededRng } from '../src/rng.ts'
import { chiSquareUpper } from '../src/prob.ts'
import { params } from './helpers.ts'

const strongDbm = -100 // well above the sensitivity (-120) plus sqrt(2) x fading: every event counts

interface Scene {
  events: ReciprocityEvent[]
  chi: Map<string, { sum: number; k: number }>
  terms: Map<string, Array<{ partner: string; z2: number }>>
}

/** Runs `epochs` epochs through the evidence window, carrying the tallies as runEpoch does. */
function runWindow(epochs: number, scene: (epoch: number) => Scene, p = params): Array<Map<string, Flag[]>> {
  const history = new Map<string, DeviceHistory>()
  const out: Array<Map<string, Flag[]>> = []
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const s = scene(epoch)
    const flags = new Map<string, Flag[]>()
    const evidence = crossEpochEvidence(p, epoch, history, s.events, s.chi, s.terms, flags)
    for (const [id, e] of evidence) {
      const h = history.get(id) ?? { lastSeq: -1, cleanEpochs: 0, escrow: [], rssiScoreSum: 0, rssiScoreSquares: 0, rssiScoreCount: 0 }
      h.evidence = [...(h.evidence ?? []).filter((x) => x.epoch > epoch - p.evidenceEpochs), e]
      history.set(id, h)
    }
    out.push(flags)
  }
  return out
}

/** Honest listeners: each of `devices` has `links` links per epoch, missed with probability q. */
function honestScene(rng: SeededRng, devices: number, links: number, q: number, extra?: (s: Scene) => void): Scene {
  const s: Scene = { events: [], chi: new Map(), terms: new Map() }
  for (let d = 0; d < devices; d++)
    for (let l = 0; l < links; l++) {
      const partner = `p${(d + l + 1) % devices}`
      s.events.push({ claimer: partner, silent: `p${d}`, q, isMissed: rng.next() < q, forwardDbm: strongDbm })
      // one reciprocal term per link: fading difference in its own units, N(0, 1)^2
      const z = rng.normal()
      const c = s.chi.get(`p${d}`) ?? { sum: 0, k: 0 }
      c.sum += z * z
      c.k++
      s.chi.set(`p${d}`, c)
    }
  extra?.(s)
  return s
}

test('evidence window: misses too few for one epoch accumulate into a flag over the window', () => {
  const rng = new SeededRng('window-liar')
  const flags = runWindow(6, () =>
    honestScene(rng, 50, 20, 0.02, (s) => {
      // The liar misses 3 of its 20 neighbours every epoch (expected 0.4): p about 0.008 per epoch.
      for (let l = 0; l < 20; l++) s.events.push({ claimer: `p${l}`, silent: 'liar', q: 0.02, isMissed: l < 3, forwardDbm: strongDbm })
    }),
  )
  assert.equal(poissonUpper(3, 0.4) > params.flagPValueMax, true) // one epoch is not enough
  assert.equal(flags[0]?.get('liar'), undefined)
  const last = flags[5]?.get('liar') ?? []
  assert.ok(
    last.some((f) => f.kind === 'selective_witness' && f.detail.includes('over 6 epochs')),
    JSON.stringify(last),
  )
  // Single-epoch evidence only (evidenceEpochs = 1): never flagged.
  const rng1 = new SeededRng('window-liar')
  const single = runWindow(
    6,
    () =>
      honestScene(rng1, 50, 20, 0.02, (s) => {
        for (let l = 0; l < 20; l++) s.events.push({ claimer: `p${l}`, silent: 'liar', q: 0.02, isMissed: l < 3, forwardDbm: strongDbm })
      }),
    coverageParams({ ...params, evidenceEpochs: 1 }),
  )
  assert.ok(single.every((f) => f.get('liar') === undefined))
})

test('evidence window: calibrated on honest devices (2,000 devices, 6 epochs, no flag at p < 1e-5)', () => {
  const rng = new SeededRng('window-honest')
  const flags = runWindow(6, () => honestScene(rng, 2_000, 20, 0.05))
  const flagged = new Set(flags.flatMap((f) => [...f.keys()]))
  // 2,000 devices x 6 epochs x 3 tests at 1e-5 each: expected well under one false positive.
  assert.ok(flagged.size <= 1, `${flagged.size} honest devices flagged`)
})

test('evidence window: a cheat shared by both ends of a link is blamed on the cheat, not the honest partner', () => {
  const rng = new SeededRng('window-blame')
  const flags = runWindow(4, () =>
    honestScene(rng, 40, 10, 0.02, (s) => {
      // A forger reports its 12 links with a large asymmetry (z^2 of 30 each); honest p0..p11 are its partners.
      const forger = { sum: 0, k: 0 }
      const terms: Array<{ partner: string; z2: number }> = []
      for (let l = 0; l < 12; l++) {
        const z2 = 30
        forger.sum += z2
        forger.k++
        terms.push({ partner: `p${l}`, z2 })
        const c = s.chi.get(`p${l}`) as { sum: number; k: number }
        c.sum += z2
        c.k++
        s.terms.set(`p${l}`, [...(s.terms.get(`p${l}`) ?? []), { partner: 'forger', z2 }])
      }
      s.chi.set('forger', forger)
      s.terms.set('forger', terms)
    }),
  )
  // Without blame, each partner's window (about 10 honest terms and one of 30 per epoch) would be flagged.
  assert.ok(chiSquareUpper(4 * (10 + 30), 4 * 11) < params.flagPValueMax)
  const last = flags[3] as Map<string, Flag[]>
  assert.ok((last.get('forger') ?? []).some((f) => f.kind === 'rssi_not_reciprocal'))
  for (let l = 0; l < 12; l++) assert.equal(last.get(`p${l}`), undefined, `p${l} blamed`)
})

test('evidence window: weak receptions (lucky fading) are left out of the window', () => {
  const flags = runWindow(6, () => {
    const s: Scene = { events: [], chi: new Map(), terms: new Map() }
    for (let l = 0; l < 20; l++) s.events.push({ claimer: `p${l}`, silent: 'edge', q: 0.02, isMissed: l < 3, forwardDbm: -119 })
    return s
  })
  assert.ok(flags.every((f) => f.get('edge') === undefined))
})
