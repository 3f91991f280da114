import { measure, p256VerifyLimitPerSecond, report } from '@terrane/bench'
import { latLngToCell } from 'h3-js'
import { verifyReports } from '../src/index.ts'
import { scoreEpoch } from '../src/score.ts'
import { coverageParams } from '../src/params.ts'
import { SeededRng } from '../src/rng.ts'
import { buildWorld, simulateEpoch, warmHistory } from '../src/sim/index.ts'

// 1. Witness reports verified per second on one core, signatures included (the full rule pipeline).
const world = buildWorld({ devices: 400, seed: 'bench', adversaryShare: 0 })
const startMs = 1_767_225_600_000
const sim = simulateEpoch(world, 1, startMs)
const inputs = {
  epoch: 1,
  params: world.params,
  devices: world.devices.map((d) => d.record),
  slots: sim.slots,
  reports: sim.reports,
  history: warmHistory(world, startMs),
}
const limit = p256VerifyLimitPerSecond({ durationMsMin: 2000 })
const verified = measure(
  () => {
    verifyReports(inputs)
    return sim.reports.length
  },
  { durationMsMin: 5000, warmupMs: 500 },
)

// 2. One epoch of 1,000,000 devices scored (density, units, allocation, escrow) from synthetic beacons.
const rng = new SeededRng('bench-1m')
const devices = 1_000_000
const owners = new Map<string, string>()
const activeLocations = new Map<string, string>()
const ids: string[] = []
for (let i = 0; i < devices; i++) {
  const id = `d${i}`
  ids.push(id)
  owners.set(id, `o${i >> 2}`)
  // 40 metros of 25,000 devices each, Gaussian around the centre.
  const metro = i % 40
  activeLocations.set(id, latLngToCell(-40 + metro * 2 + rng.normal() * 0.15, -120 + metro * 6 + rng.normal() * 0.2, 12))
}
const beacons = ids.map((id, i) => ({
  deviceId: id,
  selectedWitnessIds: Array.from({ length: rng.int(15) }, (_, k) => ids[(i + 1 + k * 7) % devices] as string),
}))
const heapBefore = process.memoryUsage().heapUsed
const t0 = performance.now()
const scored = scoreEpoch({
  params: coverageParams(),
  epoch: 1,
  owners,
  beacons,
  activeLocations,
  availabilityPpm: new Map(),
  locationPpm: new Map(),
  flagged: new Set(ids.slice(0, 10_000)),
  appealed: new Set(),
  history: new Map(),
})
const seconds = (performance.now() - t0) / 1000
const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20

report('verifier', [
  {
    name: 'witness/beacon reports verified (rules + P-256 signature)',
    value: verified.opsPerSecond,
    unit: 'reports/s',
    ratio: verified.opsPerSecond / limit,
    ratioTo: 'p256 verify limit',
    target: '>= 0.8',
  },
  { name: 'p256 verify limit (same run)', value: limit, unit: 'verifies/s' },
  { name: 'score one epoch of 1,000,000 devices', value: seconds, unit: 's', note: `${scored.payouts.length} payouts` },
  { name: 'heap growth while scoring 1,000,000 devices', value: heapMiB, unit: 'MiB' },
])
