import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runForkAttack } from '../src/index.ts'

test('with a third or more Byzantine power, every fork convicts at least a third of the power', () => {
  let forks = 0
  for (let seed = 1; seed <= 20; seed++) {
    const r = runForkAttack(seed)
    assert.ok(3 * r.byzantinePower >= r.totalPower, `seed ${seed}: the attack needs a third`)
    if (!r.isForked) continue
    forks++
    assert.ok(3 * r.culpritPower >= r.totalPower, `seed ${seed}: culprits hold ${r.culpritPower} of ${r.totalPower}`)
    assert.ok(r.evidenceFound > 0, `seed ${seed}: the honest reducer found no equivocation`)
  }
  // The attack is real: it does fork (otherwise the check above would be vacuous).
  assert.ok(forks >= 15, `only ${forks} of 20 attacks forked`)
})
