// Simulated heights per second: full fault scenarios (seeds 1-20), 4-7 validators each, real
// consensus and signatures, one core. Heights are those every honest node committed. Reported
// per second of CPU time as well as wall time, because the benchmark machine may be shared.
import { report } from '@terrane/bench'
import { runSimulation } from '../src/index.ts'

const seeds = 20
let heights = 0
let simulatedMs = 0
const cpuStart = process.cpuUsage()
const wallStart = performance.now()
for (let seed = 1; seed <= seeds; seed++) {
  const r = await runSimulation({ seed })
  if (!r.isOk) throw new Error(`seed ${seed} failed: ${r.failures.join('; ')}`)
  heights += r.heightMin
  simulatedMs += r.simulatedMs
}
const wallS = (performance.now() - wallStart) / 1000
const cpu = process.cpuUsage(cpuStart)
const cpuS = (cpu.user + cpu.system) / 1e6
report('sim', [
  {
    name: `simulated heights per CPU second (${seeds} fault seeds)`,
    value: heights / cpuS,
    unit: 'heights/s',
    note: `${heights} heights in ${cpuS.toFixed(1)} s CPU`,
  },
  { name: 'simulated heights per wall second', value: heights / wallS, unit: 'heights/s', note: `${wallS.toFixed(1)} s wall` },
  { name: 'simulated time per CPU second', value: simulatedMs / 1000 / cpuS, unit: 'sim s/s' },
  { name: 'CPU time per seed', value: (cpuS * 1000) / seeds, unit: 'ms', target: '300 seeds < 4 min on one core (< 800 ms/seed)' },
])
