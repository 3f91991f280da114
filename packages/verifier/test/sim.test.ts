import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatSimTable, runCoverageSim, type KindRow } from '../src/sim/index.ts'

const row = (rows: readonly KindRow[], kind: string): KindRow => {
  const r = rows.find((x) => x.kind === kind)
  assert.ok(r, kind)
  return r
}

test('coverage simulation (300 devices, seed 7, 2 epochs): the goals that hold at this size, per epoch', () => {
  const sim = runCoverageSim({ devices: 300, seed: 7, epochs: 2 })
  assert.equal(sim.epochs.length, 2)
  for (const e of sim.epochs) {
    const honest = row(e.rows, 'honest')
    // Goal: honest devices wrongly rejected at most 1%.
    assert.ok(honest.wronglyRejected / honest.devices <= 0.01, `epoch ${e.epoch}: honest wrongly rejected ${honest.wronglyRejected}`)
    // Goal: at most 1% false positives on honest devices (measured 0.7%, 2 of 270, in every epoch).
    assert.ok(honest.detectedShare <= 0.01, `epoch ${e.epoch}: honest flagged ${honest.detected}/${honest.devices}`)
    // Goal: attackers at 10% of devices capture at most 1.2x their fair share (paid in the epoch).
    const attackers = e.rows.filter((r) => r.kind !== 'honest')
    const paid = attackers.reduce((a, r) => a + r.paidShare, 0)
    const fair = attackers.reduce((a, r) => a + r.fairShare, 0)
    assert.ok(paid / fair <= 1.2, `epoch ${e.epoch}: attackers paid ${paid} vs fair ${fair}`)
    // Goal (>= 90% recall): every kind meets it from the first epoch at this size (grid clusters since the
    // owner-level reciprocity test; before it they needed a second epoch of co-location evidence).
    for (const kind of ['spoofer', 'grid_cluster', 'witness_only', 'witness_ring', 'rssi_forger', 'sybil_owners'])
      assert.ok(row(e.rows, kind).detectedShare >= 0.9, `epoch ${e.epoch}: ${kind} recall ${row(e.rows, kind).detectedShare}`)
  }
  // Replaying gives the same digest, and the first epoch of a run is the one-epoch run.
  assert.deepEqual(runCoverageSim({ devices: 300, seed: 7 }).result.digest.hash, sim.epochs[0]?.digestHash)
})

test('the simulator table reads without adversaries over several epochs (no NaN ratios)', () => {
  const sim = runCoverageSim({ devices: 60, seed: 3, adversaries: [], epochs: 2 })
  const lines = formatSimTable(sim)
  assert.ok(lines.some((l) => l.startsWith('| honest | 60 |')))
  assert.ok(
    lines.every((l) => !l.includes('NaN')),
    lines.join('\n'),
  )
})
