import { test } from 'node:test'
import assert from 'node:assert/strict'
import { drawScenario, runSimulation, Rng, EventQueue } from '../src/index.ts'

test('a seed replays exactly', async () => {
  const a = await runSimulation({ seed: 7 })
  const b = await runSimulation({ seed: 7 })
  assert.deepEqual(a.stats, b.stats)
  assert.equal(a.heightMin, b.heightMin)
  assert.equal(a.simulatedMs, b.simulatedMs)
})

test('scenarios draw every fault rate from the seed within its bounds', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const s = drawScenario({ seed })
    assert.ok(s.validators >= 4 && s.validators <= 7)
    assert.ok(s.lossRate >= 0 && s.lossRate <= 0.3)
    const total = s.powers.reduce((a, b) => a + b, 0)
    const byz = s.byzantine.reduce((a, b) => a + (s.powers[b.index] as number), 0)
    assert.ok(3 * byz < total, `seed ${seed}: Byzantine power ${byz} of ${total}`)
  }
  assert.notDeepEqual(drawScenario({ seed: 1 }), drawScenario({ seed: 2 }))
})

test('a fault-free run commits steadily in round 0', async () => {
  const r = await runSimulation({ seed: 3, isFaultFree: true, faultPhaseMs: 2000 })
  assert.ok(r.isOk, r.failures.join('; '))
  assert.equal(r.stats.crashes, 0)
  assert.equal(r.stats.messagesDropped, 0)
  assert.ok(r.heightMin >= 10)
})

test('the rng and the event queue are deterministic', () => {
  const a = new Rng(42)
  const b = new Rng(42)
  for (let i = 0; i < 100; i++) assert.equal(a.u32(), b.u32())
  const q = new EventQueue<string>()
  q.push(5, 'b')
  q.push(1, 'a')
  q.push(5, 'c')
  q.push(0, 'z')
  assert.deepEqual([q.pop()?.item, q.pop()?.item, q.pop()?.item, q.pop()?.item], ['z', 'a', 'b', 'c'])
})
