import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@terrane/codec'
import { beaconPayload, beaconPayloadHash } from '@terrane/reports'
import { cellToChildren, cellToParent, getPentagons, gridDisk, latLngToCell } from 'h3-js'
import {
  allocate,
  beaconUnitsPpm,
  coverageParams,
  hashDraw,
  hexDensityScales,
  hexDensityTable,
  scalePpm,
  scheduleChallenges,
  scoreEpoch,
  SeededRng,
  verifyReports,
  witnessUnitsPpm,
  type DensityScale,
  type Verdict,
} from '../src/index.ts'
import { hexDensityPpm } from '../src/density.ts'
import { beacon, device, inputs, witness, warm, entropy, beaconTimeMs, params, type Dev } from './helpers.ts'

// A beaconer B at the origin and witnesses 2-3 km away (about -110 dBm expected at 14 dBm EIRP+3).
function scene(): { b: Dev; w: Dev; w2: Dev; devs: Dev[] } {
  const b = device('beaconer', 0, 0)
  const w = device('witness', 2_000, 0)
  const w2 = device('witness2', 0, 2_500)
  return { b, w, w2, devs: [b, w, w2] }
}

function verdictOf(verdicts: Verdict[], deviceId: string, kind: string): Verdict[] {
  return verdicts.filter((v) => v.deviceId === deviceId && v.kind === kind)
}

const cases: Array<{
  reason: string
  make: (s: ReturnType<typeof scene>) => { reports: ReturnType<typeof beacon>[]; extra?: object; devs?: Dev[] }
}> = [
  {
    reason: 'unknown_device',
    make: (s) => ({ reports: [beacon(s.b), witness(device('stranger', 2_000, 100), s.b), witness(s.w, s.b)], devs: s.devs }),
  },
  {
    reason: 'bad_signature',
    make: (s) => {
      const r = witness(s.w, s.b)
      const sig = Uint8Array.from(r.signature)
      sig[10] = (sig[10] as number) ^ 1
      return { reports: [beacon(s.b), { ...r, signature: sig }, witness(s.w2, s.b)] }
    },
  },
  {
    reason: 'denylisted_key',
    make: (s) => ({
      reports: [beacon(s.b), witness(s.w, s.b), witness(s.w2, s.b)],
      extra: { denylist: { deviceIds: [s.w.key.deviceId], pairs: [] } },
    }),
  },
  {
    reason: 'denylisted_pair',
    make: (s) => ({
      reports: [beacon(s.b), witness(s.w, s.b), witness(s.w2, s.b)],
      extra: { denylist: { deviceIds: [], pairs: [[s.b.key.deviceId, s.w.key.deviceId]] } },
    }),
  },
  {
    reason: 'attestation_failed',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b), witness(s.w2, s.b)], extra: { attestationFailed: [s.w.key.deviceId] } }),
  },
  { reason: 'self_witness', make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.w), witness(s.w2, s.b)] }) },
  { reason: 'stale_entropy', make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b, { epoch: 0 }), witness(s.w2, s.b)] }) },
  {
    reason: 'late_witness',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b, { receivedAtMs: beaconTimeMs + 4_001 }), witness(s.w2, s.b)] }),
  },
  {
    reason: 'payload_mismatch',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b, { beaconPayloadHash: sha256(entropy) }), witness(s.w2, s.b)] }),
  },
  {
    reason: 'frequency_mismatch',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b, { frequencyHz: 868_100_000 + 100_001 }), witness(s.w2, s.b)] }),
  },
  {
    reason: 'region_mismatch',
    make: (s) => {
      s.w.record = { ...s.w.record, region: 'US915' }
      return { reports: [beacon(s.b), witness(s.w, s.b), witness(s.w2, s.b)] }
    },
  },
  {
    reason: 'too_close',
    make: (s) => {
      const near = device('near', 150, 0)
      return { reports: [beacon(s.b), witness(near, s.b, { rssiCentiDbm: -9_000 }), witness(s.w2, s.b)], devs: [...s.devs, near] }
    },
  },
  {
    reason: 'too_far',
    make: (s) => {
      const far = device('far', 101_000, 0)
      return { reports: [beacon(s.b), witness(far, s.b, { rssiCentiDbm: -12_000 }), witness(s.w2, s.b)], devs: [...s.devs, far] }
    },
  },
  // Free-space bound at 2 km, 868 MHz: 17 + 3 - 97.2 = about -77 dBm.
  {
    reason: 'rssi_above_free_space',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b, { rssiCentiDbm: -7_500 }), witness(s.w2, s.b)] }),
  },
  {
    reason: 'duplicate',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b), witness(s.w, s.b, { rssiCentiDbm: -10_900 }), witness(s.w2, s.b)] }),
  },
  {
    reason: 'not_reciprocal',
    make: (s) => ({ reports: [beacon(s.b), witness(s.w, s.b), witness(s.w2, s.b)], extra: { history: warm(s.devs, { noBeacon: [s.w] }) } }),
  },
]

for (const c of cases) {
  test(`witness rule ${c.reason}: fails with the reason, and the same scene without the fault passes`, () => {
    const s = scene()
    const { reports, extra = {}, devs = s.devs } = c.make(s)
    const v = verifyReports(inputs(devs, reports, extra))
    const reasons = v.verdicts.filter((x) => x.kind === 'witness').map((x) => x.reason)
    assert.ok(reasons.includes(c.reason), `expected ${c.reason}, got ${JSON.stringify(reasons)}`)
    // the control witness w2 in the same scene is valid
    assert.ok(verdictOf(v.verdicts, s.w2.key.deviceId, 'witness').every((x) => x.status === 'selected'))
  })
}

test('beacon rules: not challenged, stale entropy, payload mismatch, duplicate, no witnesses, not reciprocal, replay', () => {
  const check = (
    reason: string,
    build: (s: ReturnType<typeof scene>) => { reports: ReturnType<typeof beacon>[]; extra?: object },
  ): void => {
    const s = scene()
    const { reports, extra = {} } = build(s)
    const v = verifyReports(inputs(s.devs, reports, extra))
    const got = verdictOf(v.verdicts, s.b.key.deviceId, 'beacon').map((x) => x.reason)
    assert.ok(got.includes(reason), `expected ${reason}, got ${JSON.stringify(got)}`)
  }
  check('stale_entropy', (s) => ({ reports: [beacon(s.b, { entropy: sha256(entropy) }), witness(s.w, s.b)] }))
  check('stale_entropy', (s) => ({ reports: [beacon(s.b, { timeMs: 0 }), witness(s.w, s.b)] }))
  check('payload_mismatch', (s) => ({ reports: [beacon(s.b, { payload: new Uint8Array(52) }), witness(s.w, s.b)] }))
  check('duplicate', (s) => ({ reports: [beacon(s.b), beacon(s.b, { timeMs: beaconTimeMs + 10 }), witness(s.w, s.b)] }))
  check('no_witnesses', (s) => ({ reports: [beacon(s.b)] }))
  check('not_reciprocal', (s) => ({ reports: [beacon(s.b), witness(s.w, s.b)], extra: { history: warm(s.devs, { noWitness: [s.b] }) } }))
  check('not_challenged', (s) => ({
    reports: [beacon(s.b), witness(s.w, s.b)],
    extra: {
      history: (() => {
        const h = warm(s.devs)
        const e = h.devices.get(s.b.key.deviceId)
        if (e) e.lastChallengeMs = beaconTimeMs - 3_600_000
        return h
      })(),
    },
  }))
  check('replayed', (s) => {
    const r = beacon(s.b)
    const h = warm(s.devs)
    const e = h.devices.get(s.b.key.deviceId)
    if (e) e.lastSeq = r.report.seq
    return { reports: [r, witness(s.w, s.b)], extra: { history: h } }
  })
})

test('local entropy: a required beacon without it is payload_mismatch; witnesses must name the payload mixed with it', () => {
  const strict = coverageParams({ ...params, localEntropyRequired: true })
  const local = sha256(Uint8Array.of(7, 7, 7))
  const reasonsOf = (v: ReturnType<typeof verifyReports>, d: Dev, kind: string): Array<string | undefined> =>
    verdictOf(v.verdicts, d.key.deviceId, kind).map((x) => x.reason ?? x.status)
  // Required but absent: the payload follows from public data alone.
  let s = scene()
  let v = verifyReports(inputs(s.devs, [beacon(s.b), witness(s.w, s.b)], { params: strict }))
  assert.deepEqual(reasonsOf(v, s.b, 'beacon'), ['payload_mismatch'])
  // Present: the beacon passes; a witness naming the payload it heard passes, one naming the payload
  // predictable from the public entropy (what a forger who did not hear it would compute) does not.
  s = scene()
  const heard = beaconPayloadHash(beaconPayload(entropy, s.b.key.deviceId, 52, local))
  v = verifyReports(
    inputs(s.devs, [beacon(s.b, { localEntropy: local }), witness(s.w, s.b), witness(s.w2, s.b, { beaconPayloadHash: heard })], {
      params: strict,
    }),
  )
  assert.deepEqual(reasonsOf(v, s.b, 'beacon'), ['valid'])
  assert.deepEqual(reasonsOf(v, s.w, 'witness'), ['payload_mismatch'])
  assert.deepEqual(reasonsOf(v, s.w2, 'witness'), ['selected'])
  // A payload that is not the one derived from both entropies is refused.
  s = scene()
  v = verifyReports(
    inputs(s.devs, [beacon(s.b, { localEntropy: local, payload: beaconPayload(entropy, s.b.key.deviceId) }), witness(s.w, s.b)], {
      params: strict,
    }),
  )
  assert.deepEqual(reasonsOf(v, s.b, 'beacon'), ['payload_mismatch'])
  // Not required (the default, for agents that do not send it yet): the remote-only payload passes.
  s = scene()
  v = verifyReports(inputs(s.devs, [beacon(s.b), witness(s.w, s.b)]))
  assert.deepEqual(reasonsOf(v, s.b, 'beacon'), ['valid'])
  // An empty payload is refused with a reason, never thrown.
  s = scene()
  v = verifyReports(inputs(s.devs, [beacon(s.b, { payload: new Uint8Array(0) }), witness(s.w, s.b)]))
  assert.deepEqual(reasonsOf(v, s.b, 'beacon'), ['payload_mismatch'])
})

test('at most 14 witnesses per beacon, chosen by block entropy whatever the arrival order', () => {
  const b = device('b', 0, 0)
  const ws = Array.from({ length: 20 }, (_, i) => device(`w${i}`, 1_500 * Math.cos(i), 1_500 * Math.sin(i) + 1_000))
  const reports = [beacon(b), ...ws.map((w, i) => witness(w, b, { receivedAtMs: beaconTimeMs + 100 + i * 10 }))]
  const a = verifyReports(inputs([b, ...ws], reports))
  const selected = (r: typeof a): string[] => r.beacons[0]?.selected.map((w) => w.deviceId).sort() ?? []
  assert.equal(a.beacons[0]?.valid.length, 20)
  assert.equal(selected(a).length, params.witnessesPerBeaconMax)
  const reversed = verifyReports(inputs([b, ...ws], [...reports].reverse()))
  assert.deepEqual(selected(reversed), selected(a))
  // not first-come: some of the 6 earliest reports are unselected with this entropy or another
  const firstFourteen = ws
    .slice(0, 14)
    .map((w) => w.key.deviceId)
    .sort()
  assert.notDeepEqual(selected(a), firstFourteen)
})

test('challenge schedule: each draw is hashDraw(tag, entropy, id) < challengePpm / 1e6 * 2^64, with the 6 h rate limit', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `tdev1${i.toString(36).padStart(8, 'q')}`)
  const slots = Array.from({ length: 6 }, (_, s) => ({
    slot: s,
    entropy: sha256(Uint8Array.of(s, 7)),
    startMs: 1_767_225_600_000 + s * 3_600_000,
    endMs: 1_767_225_600_000 + (s + 1) * 3_600_000,
  }))
  for (const challengePpm of [0, 1, 166_667, 999_999, 1_000_000]) {
    const p = coverageParams({ challengePpm })
    const lastChallengeMs = new Map([[ids[3] as string, (slots[0]?.startMs as number) - 1]])
    const schedule = scheduleChallenges({ params: p, slots, deviceIds: ids, lastChallengeMs })
    // Reference: the definition, with bigints.
    const threshold = (BigInt(challengePpm) << 64n) / 1_000_000n
    const last = new Map(lastChallengeMs)
    for (const slot of slots) {
      const expected = ids.filter((id) => {
        const previous = last.get(id)
        if (previous !== undefined && slot.startMs - previous < p.beaconIntervalMsMin) return false
        if (hashDraw('TERRANE-CHALLENGE-V1', slot.entropy, id) >= threshold) return false
        last.set(id, slot.startMs)
        return true
      })
      assert.deepEqual([...(schedule.bySlot.get(slot.slot) ?? [])], expected.sort(), `ppm ${challengePpm} slot ${slot.slot}`)
    }
    const total = [...schedule.challengeCount.values()].reduce((a, b) => a + b, 0)
    if (challengePpm === 0) assert.equal(total, 0)
    // Everyone in the first slot but the device challenged just before the epoch (slots are 1 h apart: no repeats within 6 h).
    if (challengePpm === 1_000_000) assert.equal(total, ids.length - 1)
    if (challengePpm === 166_667) assert.ok(total > 0 && total < ids.length * slots.length)
  }
})

test('witness selection: the 14 smallest draws SHA-256(tag || slot entropy || beacon id || witness id), in draw order', () => {
  const b = device('sb', 0, 0)
  const ws = Array.from({ length: 20 }, (_, i) => device(`sw${i}`, 1_500 * Math.cos(i), 1_500 * Math.sin(i) + 1_000))
  const result = verifyReports(
    inputs([b, ...ws], [beacon(b), ...ws.map((w, i) => witness(w, b, { receivedAtMs: beaconTimeMs + 100 + i * 10 }))]),
  )
  const record = result.beacons[0]
  assert.ok(record !== undefined && record.valid.length === 20)
  const ranked = [...record.valid].sort((x, y) => {
    const dx = hashDraw('TERRANE-WITNESS-SELECT-V1', record.slot.entropy, record.reportId, x.reportId)
    const dy = hashDraw('TERRANE-WITNESS-SELECT-V1', record.slot.entropy, record.reportId, y.reportId)
    return dx < dy ? -1 : dx > dy ? 1 : 0
  })
  assert.deepEqual(
    record.selected.map((w) => w.deviceId),
    ranked.slice(0, params.witnessesPerBeaconMax).map((w) => w.deviceId),
  )
  for (const w of ranked.slice(params.witnessesPerBeaconMax)) assert.equal(w.status, 'unselected')
})

// Reference HIP-17/104 density: the definition, with H3 strings and bigint products at every level.
function referenceDensity(activeLocations: ReadonlyMap<string, string>): Map<string, DensityScale> {
  const parentsOf = new Map<string, string[]>()
  let childValues = new Map<string, number>()
  for (const [id, cell] of activeLocations) {
    const parents: string[] = []
    for (let r = 4; r <= 11; r++) parents.push(cellToParent(cell, r))
    parentsOf.set(id, parents)
    childValues.set(parents[7] as string, (childValues.get(parents[7] as string) ?? 0) + 1)
  }
  const ratios = new Map<string, { clipped: number; unclipped: number }>()
  for (let i = hexDensityTable.length - 1; i >= 0; i--) {
    const { resolution, neighbours, target, max } = hexDensityTable[i] as (typeof hexDensityTable)[number]
    const unclipped = new Map<string, number>()
    for (const [child, value] of childValues) {
      const parent = cellToParent(child, resolution)
      unclipped.set(parent, (unclipped.get(parent) ?? 0) + value)
    }
    const clippedValues = new Map<string, number>()
    for (const [hex, value] of unclipped) {
      let occupied = 0
      for (const n of gridDisk(hex, 1)) if ((unclipped.get(n) ?? 0) >= target) occupied++
      const clipped = Math.min(value, Math.min(max, target * Math.max(1, occupied - neighbours + 1)))
      clippedValues.set(hex, clipped)
      ratios.set(hex, { clipped, unclipped: value })
    }
    childValues = clippedValues
  }
  const scales = new Map<string, DensityScale>()
  for (const [id, parents] of parentsOf) {
    let numerator = 1n
    let denominator = 1n
    for (let r = 4; r <= 10; r++) {
      const ratio = ratios.get(parents[r - 4] as string) as { clipped: number; unclipped: number }
      numerator *= BigInt(ratio.clipped)
      denominator *= BigInt(ratio.unclipped)
    }
    scales.set(id, { numerator, denominator })
  }
  return scales
}

test('hex density: numbered hexes give the reference (H3 strings, every ring) fractions exactly, dense and sparse', () => {
  const rng = new SeededRng('density')
  // Dense cores (hundreds of devices per res-7 and res-6 hex: the rings matter), a pentagon's
  // neighbourhood, and scattered devices; some devices share a cell.
  const locations = new Map<string, string>()
  const centres = [
    [51.5, -0.12, 0.02],
    [52.52, 13.4, 0.08],
    [6.45, 3.39, 0.3],
    [58.0, 11.0, 2],
  ] as const
  for (let i = 0; i < 3_000; i++) {
    const [lat, lng, spread] = centres[i % centres.length] as (typeof centres)[number]
    locations.set(`d${i}`, latLngToCell(lat + rng.normal() * spread, lng + rng.normal() * spread, 12))
  }
  // Devices on pentagons (res-11 pentagons' res-12 children: rings of 6, not 7).
  for (let i = 0; i < 36; i++) locations.set(`p${i}`, cellToChildren(getPentagons(11)[i % 12] as string, 12)[i % 6] as string)
  for (let i = 0; i < 5; i++) locations.set(`same${i}`, locations.get('d0') as string)
  const expected = referenceDensity(locations)
  const scales = hexDensityScales(locations)
  const ppm = hexDensityPpm(locations)
  let scaled = 0
  for (const [id, e] of expected) {
    assert.deepEqual(scales.get(id), e, id)
    assert.equal(ppm.get(id), scalePpm(e), id)
    if (scalePpm(e) < 1_000_000) scaled++
  }
  assert.equal(scales.size, expected.size)
  assert.ok(scaled > 1_000 && scaled < expected.size, `${scaled} devices scaled`) // both cases occur
  assert.throws(() => hexDensityPpm(new Map([['x', 'not-a-cell']])))
})

test('allocate: largest remainder, ties by key, equal to the plain bigint sort; shares sum to the pool', () => {
  const rng = new SeededRng('allocate')
  const reference = (pool: bigint, weights: ReadonlyMap<string, bigint>): Map<string, bigint> => {
    let total = 0n
    for (const w of weights.values()) total += w
    const shares = new Map<string, bigint>()
    let given = 0n
    const remainders: Array<{ key: string; remainder: bigint }> = []
    for (const [key, w] of weights) {
      shares.set(key, (pool * w) / total)
      given += (pool * w) / total
      remainders.push({ key, remainder: (pool * w) % total })
    }
    remainders.sort((a, b) => (a.remainder === b.remainder ? (a.key < b.key ? -1 : 1) : a.remainder > b.remainder ? -1 : 1))
    for (let i = 0; given < pool; i++, given++) {
      const key = (remainders[i] as { key: string }).key
      shares.set(key, (shares.get(key) as bigint) + 1n)
    }
    return shares
  }
  for (let round = 0; round < 30; round++) {
    const weights = new Map<string, bigint>()
    const n = 1 + rng.int(300)
    for (let i = 0; i < n; i++) {
      // Small weights (many exact ties), huge ones (remainders past 2^53, near-ties after rounding), zeros.
      const kind = rng.int(3)
      const w = kind === 0 ? BigInt(rng.int(4)) : kind === 1 ? BigInt(rng.int(1_000_000)) * 10n ** 18n + BigInt(rng.int(3)) : 10n ** 24n
      weights.set(`k${rng.int(1_000_000)}`, w)
    }
    if ([...weights.values()].every((w) => w === 0n)) weights.set('one', 1n)
    for (const pool of [1n, 7n, 1_000_003n, 10n ** 15n + 1n]) {
      const shares = allocate(pool, weights)
      assert.deepEqual(shares, reference(pool, weights))
      assert.equal(
        [...shares.values()].reduce((a, b) => a + b, 0n),
        pool,
      )
    }
  }
})

test('scoring weights: sum over beacons of units x density x location x availability, factored exactly', () => {
  const rng = new SeededRng('weights')
  const ids = Array.from({ length: 200 }, (_, i) => `w${i}`)
  const activeLocations = new Map(ids.map((id, i) => [id, latLngToCell(48.85 + (i % 5) * 0.0004, 2.35 + rng.normal() * 0.01, 12)]))
  const locationPpm = new Map(ids.filter((_, i) => i % 3 === 0).map((id) => [id, rng.int(1_000_001)]))
  const availabilityPpm = new Map(ids.filter((_, i) => i % 4 === 0).map((id) => [id, rng.int(1_000_001)]))
  const beacons = Array.from({ length: 600 }, () => ({
    deviceId: ids[rng.int(ids.length)] as string,
    selectedWitnessIds: Array.from({ length: rng.int(16) }, () => ids[rng.int(ids.length)] as string),
  }))
  const result = scoreEpoch({
    params: coverageParams(),
    epoch: 1,
    owners: new Map(),
    beacons,
    activeLocations,
    availabilityPpm,
    locationPpm,
    flagged: new Set(),
    appealed: new Set(),
    history: new Map(),
  })
  const density = hexDensityPpm(activeLocations)
  const factor = (id: string): bigint => BigInt(locationPpm.get(id) ?? 1_000_000) * BigInt(availabilityPpm.get(id) ?? 1_000_000)
  const beaconWeight = new Map<string, bigint>()
  const witnessWeight = new Map<string, bigint>()
  for (const b of beacons) {
    const n = b.selectedWitnessIds.length
    const d = BigInt(density.get(b.deviceId) ?? 1_000_000)
    beaconWeight.set(b.deviceId, (beaconWeight.get(b.deviceId) ?? 0n) + BigInt(beaconUnitsPpm(n)) * d * factor(b.deviceId))
    for (const w of b.selectedWitnessIds) witnessWeight.set(w, (witnessWeight.get(w) ?? 0n) + BigInt(witnessUnitsPpm(n)) * d * factor(w))
  }
  assert.ok([...density.values()].some((d) => d < 1_000_000)) // density scaling is in play
  for (const [id, s] of result.scores) {
    assert.equal(s.beaconWeight, beaconWeight.get(id) ?? 0n, id)
    assert.equal(s.witnessWeight, witnessWeight.get(id) ?? 0n, id)
  }
})
