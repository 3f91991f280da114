import { test } from 'node:test'
import assert from 'node:assert/strict'
import { measure, percentile } from '../src/index.ts'

test('measure counts the operations fn reports', () => {
  let calls = 0
  const m = measure(
    () => {
      calls++
      return 3
    },
    { durationMsMin: 20, warmupMs: 0 },
  )
  assert.equal(m.operations, calls * 3)
  assert.ok(m.opsPerSecond > 0)
})

test('percentile uses nearest rank', () => {
  const values = [5, 1, 4, 2, 3]
  assert.equal(percentile(values, 50), 3)
  assert.equal(percentile(values, 100), 5)
  assert.equal(percentile(values, 1), 1)
  assert.ok(Number.isNaN(percentile([], 50)))
})
