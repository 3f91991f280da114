import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@terrane/codec'
import { beaconPayload, beaconPayloadHash } from '@terrane/reports'
import { coverageParams, hashDraw, scheduleChallenges, verifyReports, type Verdict } from '../src/index.ts'
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
