import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode, merkleRoot, verifyMerkleProof } from '@terrane/codec'
import { keyPairFromSeed, signInDomain, seedSigner } from '@terrane/crypto'
import {
  allocate,
  appealSchema,
  beaconUnitsPpm,
  coverageParams,
  coverageShareBps,
  diagnose,
  hexDensityScales,
  payoutProof,
  payoutSchema,
  runEpoch,
  scalePpm,
  scoreEpoch,
  settlementPayload,
  witnessUnitsPpm,
  type CoverageHistory,
} from '../src/index.ts'
import { beacon, device, inputs, params, witness, type Dev } from './helpers.ts'
import { latLngToCell } from 'h3-js'

function scene(): { devs: Dev[]; reports: ReturnType<typeof beacon>[] } {
  const devs = [device('a', 0, 0), device('b', 2_000, 0), device('c', 0, 2_200), device('d', 1_800, 1_900)]
  const reports = []
  for (const bcn of devs) {
    reports.push(beacon(bcn))
    for (const w of devs) if (w !== bcn) reports.push(witness(w, bcn, { rssiCentiDbm: -11_200 }))
  }
  return { devs, reports }
}

test('runEpoch is replayable: same inputs, same digest; payouts sum exactly to the pool', () => {
  const { devs, reports } = scene()
  const a = runEpoch(inputs(devs, reports))
  const b = runEpoch(inputs(devs, [...reports].reverse()))
  assert.deepEqual(a.digest, b.digest)
  const total = a.payouts.reduce((s, p) => s + p.earnedMicro, 0n) + a.digest.unallocatedMicro
  assert.equal(total, a.digest.poolMicro)
  assert.ok(a.digest.poolMicro > 0n)
  assert.ok(a.payouts.length > 0)
  const settlement = settlementPayload(a)
  assert.equal(
    settlement.transfers.reduce((s, t) => s + t.amountMicro, 0n),
    a.payouts.reduce((s, p) => s + p.paidMicro, 0n),
  )
})

test('a tampered payout is provable: root mismatch, and a Merkle proof of the honest payout', () => {
  const { devs, reports } = scene()
  const honest = runEpoch(inputs(devs, reports))
  const victim = honest.payouts[0]
  assert.ok(victim)
  const tampered = honest.payouts.map((p, i) => (i === 0 ? { ...p, paidMicro: p.paidMicro + 1n, earnedMicro: p.earnedMicro + 1n } : p))
  const tamperedRoot = merkleRoot(tampered.map((p) => encode(payoutSchema, p)))
  assert.notDeepEqual(tamperedRoot, honest.digest.payoutsRoot)
  const proof = payoutProof(honest, victim.deviceId)
  assert.ok(proof)
  assert.equal(verifyMerkleProof(honest.digest.payoutsRoot, proof.leaf, proof.proof), true)
  assert.equal(verifyMerkleProof(tamperedRoot, proof.leaf, proof.proof), false)
})

test('reward units follow Helium (R = 4, decay 0.8, cap 2) in integer ppm', () => {
  assert.equal(beaconUnitsPpm(0), 0)
  assert.equal(beaconUnitsPpm(2), 500_000)
  assert.equal(beaconUnitsPpm(4), 1_000_000)
  assert.equal(beaconUnitsPpm(5), 1_200_000) // 2 - 0.8
  assert.equal(witnessUnitsPpm(4), 1_000_000)
  assert.equal(witnessUnitsPpm(5), 760_000) // (4 - 0.2) / 5
  assert.ok(beaconUnitsPpm(40) <= 2_000_000)
})

test('allocate: exact sum by largest remainder, deterministic ties, zero weights pay nothing', () => {
  const shares = allocate(
    10n,
    new Map([
      ['a', 1n],
      ['b', 1n],
      ['c', 1n],
    ]),
  )
  assert.deepEqual([...shares.values()], [4n, 3n, 3n])
  const none = allocate(10n, new Map([['a', 0n]]))
  assert.equal(none.get('a'), 0n)
})

test('coverage share decays on the genesis schedule, down to the data-only phase', () => {
  const p = coverageParams({
    coverageSchedule: [
      { fromEpoch: 0, shareBps: 3000 },
      { fromEpoch: 10, shareBps: 0 },
    ],
  })
  assert.equal(coverageShareBps(p, 9), 3000)
  assert.equal(coverageShareBps(p, 10), 0)
  const { devs, reports } = scene()
  const r = runEpoch({
    ...inputs(devs, reports),
    params: { ...p, chainId: params.chainId, slotsPerEpoch: 1, challengePpm: 1_000_000 },
    epoch: 11,
  })
  assert.equal(r.digest.poolMicro, 0n)
  assert.ok(r.payouts.every((x) => x.earnedMicro === 0n))
})

test('hex density (HIP-17/104): devices packed in one res-10 hex share one device worth of scale', () => {
  const cell = latLngToCell(51.5, -0.12, 12)
  const packed = new Map([
    ['x', cell],
    ['y', cell],
    ['z', cell],
  ])
  const scales = hexDensityScales(packed)
  for (const s of scales.values()) assert.equal(scalePpm(s), 333_333)
  const alone = hexDensityScales(new Map([['x', cell]]))
  assert.equal(scalePpm(alone.get('x') as never), 1_000_000)
})

test('escrow: flagged earnings are held, released after clean epochs, forfeited otherwise, released on appeal', () => {
  const p = coverageParams({ escrowRecheckEpochs: 2, escrowHoldEpochs: 3 })
  const base = {
    params: p,
    owners: new Map([
      ['x', 'ox'],
      ['y', 'oy'],
    ]),
    beacons: [{ deviceId: 'x', selectedWitnessIds: ['y'] }],
    activeLocations: new Map<string, string>(),
    availabilityPpm: new Map<string, number>(),
    locationPpm: new Map<string, number>(),
    appealed: new Set<string>(),
  }
  let history: CoverageHistory['devices'] = new Map()
  const step = (epoch: number, flagged: string[], appealed: string[] = []) => {
    const r = scoreEpoch({ ...base, epoch, flagged: new Set(flagged), appealed: new Set(appealed), history })
    const next = new Map(history)
    for (const [id, e] of r.escrow)
      next.set(id, { lastSeq: 0, cleanEpochs: r.clean.get(id) ?? 0, escrow: e, rssiScoreSum: 0, rssiScoreSquares: 0, rssiScoreCount: 0 })
    history = next
    return new Map(r.payouts.map((x) => [x.deviceId, x]))
  }
  const e1 = step(1, ['x'])
  assert.equal(e1.get('x')?.paidMicro, 0n)
  assert.ok((e1.get('x')?.escrowedMicro ?? 0n) > 0n)
  step(2, []) // one clean epoch: still held
  const e3 = step(3, []) // second clean epoch: automatic re-check releases it
  assert.equal(e3.get('x')?.releasedMicro, e1.get('x')?.escrowedMicro)
  // forfeit: flagged every epoch
  history = new Map()
  step(1, ['x'])
  step(2, ['x'])
  step(3, ['x'])
  const f = step(4, ['x'])
  assert.equal(f.get('x')?.forfeitedMicro, e1.get('x')?.escrowedMicro)
  // appeal
  history = new Map()
  step(1, ['x'])
  const a = step(2, ['x'], ['x'])
  assert.ok((a.get('x')?.releasedMicro ?? 0n) > 0n)
  assert.equal(a.get('x')?.escrowedMicro, 0n)
})

test('appeals are granted only with a reviewer signature over the evidence; diagnose explains', () => {
  const reviewer = keyPairFromSeed(new Uint8Array(32).fill(7))
  const p = { ...params, appealReviewerKeys: [Buffer.from(reviewer.publicKey).toString('hex')] }
  const { devs, reports } = scene()
  const target = devs[0] as Dev
  const evidenceHash = new Uint8Array(32).fill(1)
  const payload = encode(appealSchema, { deviceId: target.key.deviceId, epoch: 1, evidenceHash })
  const signature = signInDomain(seedSigner(new Uint8Array(32).fill(7)), { chainId: p.chainId, kind: 'coverage-appeal' }, payload)
  const good = { deviceId: target.key.deviceId, epoch: 1, evidenceHash, reviewerKey: reviewer.publicKey, signature }
  const r = runEpoch({ ...inputs(devs, reports), params: p, appeals: [good, { ...good, deviceId: (devs[1] as Dev).key.deviceId }] })
  const lines = diagnose(target.key.deviceId, r)
  assert.ok(lines.some((l) => l.startsWith('Beacon: valid')))
  assert.ok(lines.some((l) => l.startsWith('Payout:')))
  assert.ok(r.explanations.get(target.key.deviceId)?.score !== undefined)
  assert.match(diagnose('tdev1unknown', r)[0] ?? '', /not registered/)
})
