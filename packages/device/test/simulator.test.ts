import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getResolution, greatCircleDistance } from 'h3-js'
import { MemoryDeviceDirectory, createIngest, metricValue, type VerifiedReport } from '@terrane/ingest'
import { seededRng, simulateDevices, simulatePositions, verifyOnboardingRequest, freeSpacePathLossDb } from '../src/index.ts'
import { until } from './wait.ts'

const chainId = 'terrane-test'
const berlin = { lat: 52.52, lng: 13.405, radiusKm: 20 }

function meanNearestNeighbourKm(points: { lat: number; lng: number }[]): number {
  let total = 0
  for (const p of points) {
    let best = Infinity
    for (const q of points) if (q !== p) best = Math.min(best, greatCircleDistance([p.lat, p.lng], [q.lat, q.lng], 'km'))
    total += best
  }
  return total / points.length
}

describe('device simulator', () => {
  it('places devices deterministically, inside the region, on H3 resolution-12 cells, clustered', () => {
    const a = simulatePositions(400, berlin, seededRng('s1'))
    const b = simulatePositions(400, berlin, seededRng('s1'))
    const c = simulatePositions(400, berlin, seededRng('s2'))
    assert.deepEqual(a, b, 'same seed, same positions')
    assert.notDeepEqual(a, c)
    for (const p of a) {
      assert.equal(getResolution(p.location), 12)
      // Snapping to a cell centre moves a point by at most about 10 m.
      assert.ok(greatCircleDistance([p.lat, p.lng], [berlin.lat, berlin.lng], 'km') <= berlin.radiusKm + 0.02)
    }
    // Uniform points in the disc would be about 0.5 / sqrt(density) apart: clusters are much denser.
    const uniformKm = 0.5 * Math.sqrt((Math.PI * berlin.radiusKm ** 2) / a.length)
    const clusteredKm = meanNearestNeighbourKm(a)
    assert.ok(clusteredKm < uniformKm * 0.6, `nearest neighbour ${clusteredKm.toFixed(3)} km vs uniform ${uniformKm.toFixed(3)} km`)
  })

  it('free-space path loss matches the textbook value (868 MHz, 1 km: about 91.2 dB)', () => {
    assert.ok(Math.abs(freeSpacePathLossDb(1000, 868_000_000) - 91.2) < 0.1)
  })

  it('onboards simulated devices with verified attestations and reports through the real MQTT ingest', async () => {
    const clock = { nowMs: () => Date.now() }
    const sim = await simulateDevices({ count: 12, region: { lat: 52.52, lng: 13.405, radiusKm: 3 }, seed: 'e2e', chainId })({ clock })
    const directory = new MemoryDeviceDirectory()
    const usedNonces = new Set<string>()
    for (const device of sim.devices) {
      const verdict = verifyOnboardingRequest(device.request, {
        chainId,
        manufacturers: [sim.manufacturer.registry],
        nowMs: clock.nowMs(),
        usedNonces,
      })
      assert.equal(verdict.ok, true, JSON.stringify(verdict))
      if (verdict.ok) directory.set(verdict.deviceId, { publicKey: verdict.publicKey, status: 'active' })
    }
    const accepted: VerifiedReport[] = []
    const ingest = createIngest({ chainId })({ directory, sink: { onReport: (v) => void accepted.push(v) } })
    await ingest.start()
    try {
      await sim.connect({ brokerUrl: ingest.tcpUrl ?? '', auth: { mode: 'token', challengeUrl: ingest.challengeUrl ?? '' } })
      assert.equal(await sim.heartbeatAll(), 12)
      await until(() => accepted.length === 12, '12 heartbeats')
      const round = await sim.beaconRound({ epoch: 1, entropy: new Uint8Array(32).fill(5), beaconers: 2 })
      assert.equal(round.beacons, 2)
      assert.ok(round.witnesses > 0, 'devices 3 km apart hear each other')
      await until(() => accepted.length === 12 + round.beacons + round.witnesses, 'beacons and witnesses')
      assert.equal(accepted.filter((v) => v.report.kind === 'witness').length, round.witnesses)
      assert.equal(await metricValue(ingest.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'rejected' }), 0)
    } finally {
      await sim.stop()
      await ingest.stop()
    }
  })
})
