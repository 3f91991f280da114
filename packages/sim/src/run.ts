import { runSimulation, replayCommand, type SimInit, type SimResult } from './sim.ts'

export interface SeedRunSummary {
  results: SimResult[]
  failed: SimResult[]
  heights: number
  simulatedMs: number
  wallMs: number
}

/** Runs seeds [first, first + count) and collects the failures. */
export async function runSeeds(
  first: number,
  count: number,
  init: Omit<SimInit, 'seed'> = {},
  onResult?: (r: SimResult) => void,
): Promise<SeedRunSummary> {
  const results: SimResult[] = []
  const started = performance.now()
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSimulation({ ...init, seed })
    results.push(r)
    onResult?.(r)
  }
  return {
    results,
    failed: results.filter((r) => !r.isOk),
    heights: results.reduce((a, r) => a + r.heightMin, 0),
    simulatedMs: results.reduce((a, r) => a + r.simulatedMs, 0),
    wallMs: performance.now() - started,
  }
}

/** One line per failure: the seed, what broke, and how to replay it. */
export function describeFailure(r: SimResult, app: 'kv' | 'chain' = 'kv'): string {
  return `seed ${r.seed} failed: ${r.failures.join('; ')}\n  replay: ${replayCommand(r.seed, app)}`
}
