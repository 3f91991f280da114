import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chainAppDriver, describeFailure, runSimulation } from '../src/index.ts'

/**
 * Registers one test per seed: each runs the full fault scenario its seed draws over the
 * real chain app (or the key-value app, which isolates consensus from the state machine),
 * then checks every invariant.
 */
export function seedSuite(seeds: readonly number[], app: 'kv' | 'chain'): void {
  for (const seed of seeds) {
    test(`${app} seed ${seed}`, async () => {
      const r = await runSimulation(app === 'chain' ? { seed, appDriverFor: chainAppDriver } : { seed })
      assert.ok(r.isOk, describeFailure(r, app))
      assert.ok(r.heightMin >= 10, `seed ${seed}: only ${r.heightMin} heights committed`)
    })
  }
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
