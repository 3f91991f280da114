import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runCoverageSim } from '../src/sim/index.ts'

test('coverage simulation (300 devices, seed 7): honest rejections and attacker rewards within goals', () => {
  const sim = runCoverageSim({ devices: 300, seed: 7 })
  const honest = sim.rows.find((r) => r.kind === 'honest')
  assert.ok(honest)
  // Goal: honest devices wrongly rejected at most 1%.
  assert.ok(honest.wronglyRejected / honest.devices <= 0.01, `honest wrongly rejected ${honest.wronglyRejected}/${honest.devices}`)
  // Goal: attackers at 10% of devices capture at most 1.2x their fair share (paid now).
  const attackers = sim.rows.filter((r) => r.kind !== 'honest')
  const paid = attackers.reduce((a, r) => a + r.paidShare, 0)
  const fair = attackers.reduce((a, r) => a + r.fairShare, 0)
  assert.ok(paid / fair <= 1.2, `attackers paid ${paid} vs fair ${fair}`)
  // Reciprocity catches every witness-only device.
  for (const kind of ['witness_only'] as const) {
    const row = sim.rows.find((r) => r.kind === kind)
    if (row !== undefined) assert.ok(row.detectedShare >= 0.9, `${kind} recall ${row.detectedShare}`)
  }
  // Replaying the same seed gives the same digest.
  assert.deepEqual(runCoverageSim({ devices: 300, seed: 7 }).result.digest.hash, sim.result.digest.hash)
})
