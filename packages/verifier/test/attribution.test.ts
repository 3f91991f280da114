import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEpoch } from '../src/index.ts'
import { pathLossDb } from '../src/model.ts'
import { cellCentre, distanceMeters } from '../src/geo.ts'
import { SeededRng } from '../src/rng.ts'
import { beaconPayload, beaconPayloadHash } from '@terrane/reports'
import { beacon, device, entropy, inputs, params, witness, type Dev } from './helpers.ts'

/** Five devices of one owner on a pentagon of radius 600 m around (cx, 0), each hearing the others. */
function fleet(owner: string, cx: number): Dev[] {
  return [0, 1, 2, 3, 4].map((i) =>
    device(`${owner}-${i}`, cx + 600 * Math.cos((i * 2 * Math.PI) / 5), 600 * Math.sin((i * 2 * Math.PI) / 5), owner),
  )
}

const model = params.pathLoss
const distance = (i: number, j: number): number => 2 * 600 * Math.sin((Math.abs(i - j) * Math.PI) / 5)
const meanDbm = (i: number, j: number): number => 14 + 3 + 3 - pathLossDb(model, distance(i, j), 868_100_000)
const audible = (rssi: number): number => Math.round(Math.max(model.sensitivityDbm + 1, rssi) * 100)

test("an owner's links among its own devices: fabricated ones (each direction drawn on its own) are flagged, reciprocal ones are not", () => {
  const rng = new SeededRng('owner-links')
  const honest = fleet('honest-owner', 0)
  const liar = fleet('liar-owner', 20_000)
  const reports = [...honest, ...liar].map((d) => beacon(d))
  for (let i = 0; i < 5; i++)
    for (let j = i + 1; j < 5; j++) {
      // Honest: one static shadowing per link, fast fading per reception.
      const shadow = (model.shadowingDb - model.fastFadingDb) * rng.normal()
      for (const [a, b] of [
        [i, j],
        [j, i],
      ] as const) {
        const h = meanDbm(a, b) + shadow + model.fastFadingDb * rng.normal()
        reports.push(witness(honest[b] as Dev, honest[a] as Dev, { rssiCentiDbm: audible(h) }))
        // Fabricated: each direction a fresh draw from the model, as a fleet in one room would invent them.
        const f = meanDbm(a, b) + model.shadowingDb * rng.normal()
        reports.push(witness(liar[b] as Dev, liar[a] as Dev, { rssiCentiDbm: audible(f) }))
      }
    }
  const result = runEpoch(inputs([...honest, ...liar], reports))
  const flagged = (d: Dev): boolean =>
    (result.explanations.get(d.key.deviceId)?.flags ?? []).some((f) => f.kind === 'owner_links_inconsistent')
  assert.equal(honest.filter(flagged).length, 0)
  assert.equal(liar.filter(flagged).length, 5)
  const detail = result.explanations.get(liar[0]?.key.deviceId as string)?.flags.find((f) => f.kind === 'owner_links_inconsistent')?.detail
  assert.match(detail ?? '', /owner liar-owner: the 10 links among its own 5 devices fail reciprocity/)
})

test('a claim proved by local entropy is not held against the claimer: the silent colony carries the miss', () => {
  for (const hasLocalEntropy of [true, false]) {
    const claimer = device('claimer', 0, 0)
    const colony = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => device(`colony-${i}`, 600 + 10 * i, 0, `colony-owner-${i}`))
    const local = (i: number): Uint8Array => new Uint8Array(32).fill(i + 1)
    const payloadHash = (i: number): Uint8Array =>
      beaconPayloadHash(beaconPayload(entropy, colony[i]?.key.deviceId as string, 52, hasLocalEntropy ? local(i) : undefined))
    const reports = [beacon(claimer), ...colony.map((d, i) => beacon(d, hasLocalEntropy ? { localEntropy: local(i) } : {}))]
    colony.forEach((d, i) => {
      // The claimer hears every colony member; the members hear each other but never report the claimer.
      reports.push(witness(claimer, d, { rssiCentiDbm: -10_000, beaconPayloadHash: payloadHash(i) }))
      colony.forEach((w, j) => {
        if (j !== i) reports.push(witness(w, d, { rssiCentiDbm: -6_000, beaconPayloadHash: payloadHash(i) }))
      })
    })
    const strict = { ...params, localEntropyRequired: hasLocalEntropy }
    const result = runEpoch({ ...inputs([claimer, ...colony], reports), params: strict })
    const kinds = (result.explanations.get(claimer.key.deviceId)?.flags ?? []).map((f) => f.kind)
    assert.equal(kinds.includes('reception_unreciprocated'), !hasLocalEntropy, `local entropy ${hasLocalEntropy}: ${kinds.join(', ')}`)
  }
})

test('a witness ring (members witness only each other) is flagged; a device that hears the ring but is never reported back is not', () => {
  const circle = (prefix: string, n: number, radius: number, phase = 0): Dev[] =>
    Array.from({ length: n }, (_, i) =>
      device(`${prefix}-${i}`, radius * Math.cos(phase + (i * 2 * Math.PI) / n), radius * Math.sin(phase + (i * 2 * Math.PI) / n)),
    )
  // The ring: five devices asserted 500 m around the origin (one owner each), reporting each other only.
  const ring = circle('ring', 5, 500).map((d, i) => ({ ...d, record: { ...d.record, owner: `ring-owner-${i}` } }))
  // Eight honest devices 900 m around, hearing each other and the ring's beacons.
  const honest = circle('honest', 8, 900, 0.2)
  // The victim: hears the ring, never beacons, nobody reports it.
  const victim = device('victim', 0, 1_300)
  const all = [...ring, ...honest, victim]
  const at = new Map(all.map((d) => [d, d.record.location as string]))
  const rssi = (rx: Dev, tx: Dev): number => {
    const a = cellCentre(at.get(rx) as string)
    const b = cellCentre(at.get(tx) as string)
    return Math.round((20 - pathLossDb(model, distanceMeters(a, b), 868_100_000)) * 100)
  }
  const reports = [...ring, ...honest].map((d) => beacon(d))
  const hear = (rx: Dev, tx: Dev): void => {
    reports.push(witness(rx, tx, { rssiCentiDbm: rssi(rx, tx) }))
  }
  for (const a of ring) for (const b of ring) if (a !== b) hear(a, b)
  for (const a of honest) for (const b of [...honest, ...ring]) if (a !== b) hear(a, b)
  for (const b of ring) hear(victim, b)
  const result = runEpoch(inputs(all, reports))
  const flagged = (d: Dev): boolean => (result.explanations.get(d.key.deviceId)?.flags ?? []).some((f) => f.kind === 'witness_ring')
  assert.equal(ring.filter(flagged).length, 5)
  assert.equal(honest.filter(flagged).length, 0)
  assert.equal(flagged(victim), false)
})
