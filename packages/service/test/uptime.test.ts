import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { makeReport, signReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { acceptHeartbeats, ServiceError, uptimeOfEpoch } from '../src/index.ts'

const chainId = 'terrane-test-1'
const hour = 3_600_000
const epoch = { startMs: 0, endMs: 24 * hour }

describe('uptime', () => {
  it('counts heartbeat slots and reports gaps per epoch', () => {
    const beats = Array.from({ length: 24 }, (_, i) => i * hour + 60_000).filter((t) => t < 5 * hour || t >= 9 * hour)
    const u = uptimeOfEpoch([...beats, beats[0] as number, 30 * hour, -5], epoch, hour)
    assert.equal(u.expectedBeats, 24)
    assert.equal(u.beatSlots, 20)
    assert.equal(u.uptimeBps, 8333)
    assert.deepEqual(u.gaps, [{ fromMs: 5 * hour, toMs: 9 * hour, missedBeats: 4 }])
  })

  it('does not let bursts make up for downtime, and reports a trailing gap', () => {
    const burst = Array.from({ length: 100 }, (_, i) => i * 1000)
    const u = uptimeOfEpoch(burst, epoch, hour)
    assert.equal(u.beatSlots, 1)
    assert.deepEqual(u.gaps, [{ fromMs: hour, toMs: 24 * hour, missedBeats: 23 }])
    assert.equal(uptimeOfEpoch([], { startMs: 0, endMs: 90 }, 60).gaps[0]?.toMs, 90)
  })

  it('refuses bad parameters with SERVICE_BAD_CONFIG', () => {
    for (const [w, i] of [
      [epoch, 0],
      [{ startMs: 5, endMs: 5 }, hour],
      [epoch, 1],
    ] as const)
      assert.throws(
        () => uptimeOfEpoch([], w, i),
        (e: unknown) => e instanceof ServiceError && e.code === 'SERVICE_BAD_CONFIG',
      )
  })

  it('accepts only signed heartbeats of the device, in increasing seq, with a sane clock', () => {
    const device = deviceKeyFromSeed('uptime-device')
    const other = deviceKeyFromSeed('other-device')
    const beat = (seq: number, timeMs: number, key = device, kind: 'heartbeat' | 'reading' = 'heartbeat') =>
      signReport(
        chainId,
        kind === 'heartbeat'
          ? makeReport({ deviceId: device.deviceId, seq, timeMs, kind }, { uptimeSeconds: seq, firmwareVersion: '1.0.0' })
          : makeReport({ deviceId: device.deviceId, seq, timeMs, kind }, { sensor: 't', value: 1, unit: 'c' }),
        (b) => key.sign(b),
      )
    const v = acceptHeartbeats(chainId, device.publicKey, [
      { signed: beat(1, 1000), receivedAtMs: 1500 },
      { signed: beat(1, 2000), receivedAtMs: 2500 },
      { signed: beat(2, 3000, other), receivedAtMs: 3000 },
      { signed: beat(3, 4000, device, 'reading'), receivedAtMs: 4000 },
      { signed: beat(4, 10 * hour), receivedAtMs: 5000 },
      { signed: beat(5, 6000), receivedAtMs: 6000 },
    ])
    assert.deepEqual(v.acceptedTimesMs, [1500, 6000])
    assert.deepEqual(
      v.rejected.map((r) => r.reason),
      ['replayed-seq', 'bad-signature', 'not-heartbeat', 'clock-skew'],
    )
    assert.equal(v.lastSeq, 5)
    assert.deepEqual(acceptHeartbeats('terrane-other-1', device.publicKey, [{ signed: beat(9, 1), receivedAtMs: 1 }]).rejected, [
      { index: 0, reason: 'bad-signature' },
    ])
  })
})
