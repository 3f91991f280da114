import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { checkSpeedSample, deviceClasses, rewardWeight, serviceScore, speedScore, type SpeedSample } from '../src/index.ts'

const hour = 3_600_000
const now = 100 * hour
const good = (timeMs: number, downloadKbps = 120_000): SpeedSample => ({ timeMs, downloadKbps, uploadKbps: 12_000, latencyMs: 30 })

describe('plausibility', () => {
  it('rejects measurements outside the device class with a reason (Helium Mobile: > 300 Mbps)', () => {
    const c = deviceClasses['mobile-5g']
    assert.deepEqual(checkSpeedSample(good(now, 300_000), c, now), { isPlausible: true })
    assert.deepEqual(checkSpeedSample(good(now, 300_001), c, now), { isPlausible: false, reason: 'download-above-class-max' })
    assert.deepEqual(checkSpeedSample({ ...good(now), uploadKbps: 400_000 }, c, now), {
      isPlausible: false,
      reason: 'upload-above-class-max',
    })
    assert.deepEqual(checkSpeedSample({ ...good(now), latencyMs: 5 }, deviceClasses['lorawan-gateway'], now), {
      isPlausible: false,
      reason: 'download-above-class-max',
    })
    assert.deepEqual(
      checkSpeedSample({ timeMs: now, downloadKbps: 500, uploadKbps: 100, latencyMs: 5 }, deviceClasses['lorawan-gateway'], now),
      {
        isPlausible: false,
        reason: 'latency-below-class-min',
      },
    )
    assert.deepEqual(checkSpeedSample(good(now + 1), c, now), { isPlausible: false, reason: 'from-the-future' })
    assert.deepEqual(checkSpeedSample({ ...good(now), downloadKbps: 0, uploadKbps: 0 }, c, now), {
      isPlausible: false,
      reason: 'zero-throughput',
    })
    assert.deepEqual(checkSpeedSample({ ...good(now), latencyMs: 1.5 }, c, now), { isPlausible: false, reason: 'not-an-integer' })
  })

  it('averages the latest 6 plausible samples within 48 h and needs at least 2', () => {
    const c = deviceClasses['mobile-5g']
    assert.deepEqual(speedScore([good(now - hour)], c, now), { multiplierBps: 0, samplesUsed: 1, rejected: [], reason: 'too-few-samples' })
    // One lucky (implausible) test is rejected, old ones fall out of the window.
    const samples = [good(now - 49 * hour), good(now - hour, 999_999), good(now - 2 * hour, 60_000), good(now - 3 * hour, 60_000)]
    const s = speedScore(samples, c, now)
    assert.equal(s.samplesUsed, 2)
    assert.deepEqual(s.rejected, [{ timeMs: now - hour, reason: 'download-above-class-max' }])
    assert.equal(s.multiplierBps, 5_000) // 60 Mbps average: the 50 Mbps tier
    // Only the latest 6 count: six slow recent ones outweigh fast older ones.
    const many = [
      ...Array.from({ length: 6 }, (_, i) => good(now - i * hour, 35_000)),
      ...Array.from({ length: 4 }, (_, i) => good(now - (10 + i) * hour, 200_000)),
    ]
    const m = speedScore(many, c, now)
    assert.equal(m.samplesUsed, 6)
    assert.equal(m.multiplierBps, 2_500)
    assert.equal(
      speedScore(
        [
          { ...good(now), latencyMs: 80 },
          { ...good(now - 1), latencyMs: 80 },
        ],
        c,
        now,
      ).multiplierBps,
      2_500,
    )
  })

  it('scores service per device per epoch and blends it with coverage', () => {
    const base = { deviceId: 'tdev1x', epoch: 3, uptimeBps: 10_000, availabilityBps: 10_000, speedMultiplierBps: 10_000 }
    assert.equal(serviceScore({ ...base, deliveredUnits: 1_000_000n }).scoreBps, 10_000)
    assert.deepEqual(serviceScore({ ...base, uptimeBps: 5_000, deliveredUnits: 0n }), {
      deviceId: 'tdev1x',
      epoch: 3,
      scoreBps: 2_000,
      readinessBps: 5_000,
      deliveryBps: 0,
    })
    assert.equal(serviceScore({ ...base, deliveredUnits: 500_000n }).scoreBps, 7_000)
    assert.equal(rewardWeight(1_000n, 0), 200n)
    assert.equal(rewardWeight(1_000n, 10_000), 1_000n)
    assert.throws(() => serviceScore({ ...base, uptimeBps: 10_001, deliveredUnits: 0n }))
  })
})
