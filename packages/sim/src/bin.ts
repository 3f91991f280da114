// The simulator's command line: `npm run sim -- --seeds 10000`, `npm run sim -- --seed 42`.
import { parseArgs } from 'node:util'
import { runSimulation } from './sim.ts'
import { describeFailure, runSeeds } from './run.ts'

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    app: { type: 'string', default: 'kv' },
    verbose: { type: 'boolean', default: false },
  },
})
const app: 'kv' | 'chain' = values.app === 'chain' ? 'chain' : 'kv'
const init = app === 'chain' ? { appDriverFor: (await import('./chain-app.ts')).chainAppDriver } : {}

if (values.seed !== undefined) {
  const seed = Number(values.seed)
  const r = await runSimulation({ ...init, seed })
  console.log(
    JSON.stringify(
      {
        seed,
        isOk: r.isOk,
        failures: r.failures,
        heightMin: r.heightMin,
        heightMax: r.heightMax,
        simulatedMs: r.simulatedMs,
        stats: r.stats,
        scenario: r.scenario,
      },
      null,
      2,
    ),
  )
  process.exit(r.isOk ? 0 : 1)
}

const count = Number(values.seeds)
const first = Number(values.from)
const summary = await runSeeds(first, count, init, (r) => {
  if (!r.isOk) console.log(describeFailure(r, app))
  else if (values.verbose)
    console.log(`seed ${r.seed} ok: ${r.heightMin} heights, ${r.stats.crashes} crashes, ${r.stats.partitions} partitions`)
})
const rows = [
  ['seeds', String(count)],
  ['passed', String(count - summary.failed.length)],
  ['failed', String(summary.failed.length)],
  ['heights committed (min over honest nodes, summed)', String(summary.heights)],
  ['simulated time (s)', (summary.simulatedMs / 1000).toFixed(0)],
  ['wall time (s)', (summary.wallMs / 1000).toFixed(1)],
  ['simulated heights / s (wall)', (summary.heights / (summary.wallMs / 1000)).toFixed(1)],
  ['crashes', String(summary.results.reduce((a, r) => a + r.stats.crashes, 0))],
  ['partitions', String(summary.results.reduce((a, r) => a + r.stats.partitions, 0))],
  ['equivocations', String(summary.results.reduce((a, r) => a + r.stats.equivocations, 0))],
  ['evidence committed', String(summary.results.reduce((a, r) => a + r.stats.evidenceCommitted, 0))],
  ['max round reached', String(Math.max(0, ...summary.results.map((r) => r.stats.rounds)))],
]
const width = Math.max(...rows.map((r) => (r[0] as string).length))
console.log(`\n| ${'metric'.padEnd(width)} | value |\n|${'-'.repeat(width + 2)}|-------|`)
for (const [k, v] of rows) console.log(`| ${(k as string).padEnd(width)} | ${v} |`)
if (summary.failed.length > 0) {
  console.log(`\nfailing seeds: ${summary.failed.map((r) => r.seed).join(' ')}`)
  process.exit(1)
}
