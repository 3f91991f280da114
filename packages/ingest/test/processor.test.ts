import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeSignedReport, reportBytesMax, signReport } from '@terrane/reports'
import type { Registry } from 'prom-client'
import { createSignaturePool, metricValue, reportProcessor, reportsTopic, seqWindowBits } from '../src/index.ts'
import { chainId, heartbeat, processorFixture, signedBytes, t0Ms, testDevice } from './fixtures.ts'

const alice = testDevice('alice')
const bob = testDevice('bob')
// One small pool for the whole file: submit() must give the verdicts handle() gives.
const pool = createSignaturePool({ workers: 2, batchSize: 4 })
after(() => pool.close())

async function rejected(registry: Registry, reason: string): Promise<number> {
  return metricValue(registry, 'terrane_ingest_reports_total', { outcome: 'rejected', reason })
}

describe('report processor', () => {
  it('accepts a signed report, hands it to the sink once and counts it', async () => {
    const { processor, accepted, metrics } = processorFixture([alice])
    const bytes = signedBytes(alice, heartbeat(alice, 1))
    const verdict = processor.handle(reportsTopic(alice.deviceId), bytes)
    assert.equal(verdict.ok, true)
    assert.equal(accepted.length, 1)
    assert.equal(accepted[0]?.deviceId, alice.deviceId)
    assert.equal(accepted[0]?.report.seq, 1)
    assert.deepEqual(accepted[0]?.bytes, bytes)
    assert.equal(await metricValue(metrics.registry, 'terrane_ingest_reports_total', { outcome: 'accepted' }), 1)
    assert.equal(await metricValue(metrics.registry, 'terrane_ingest_report_bytes_total'), bytes.length)
  })

  const cases: {
    name: string
    reason: string
    topic?: (d: typeof alice) => string
    bytes: () => Uint8Array
    setup?: (f: ReturnType<typeof processorFixture>) => void
  }[] = [
    { name: 'an oversized payload', reason: 'oversized', bytes: () => new Uint8Array(reportBytesMax + 1) },
    { name: 'garbage bytes', reason: 'malformed', bytes: () => Uint8Array.of(0xff, 0x00, 0x13) },
    { name: 'an empty payload', reason: 'malformed', bytes: () => new Uint8Array(0) },
    {
      name: 'a report with trailing bytes',
      reason: 'malformed',
      bytes: () => {
        const b = signedBytes(alice, heartbeat(alice, 1))
        return Uint8Array.from([...b, 0])
      },
    },
    {
      name: 'a heartbeat whose body is not a heartbeat',
      reason: 'malformed',
      bytes: () => signedBytes(alice, { ...heartbeat(alice, 1), body: Uint8Array.of(1, 2, 3) }),
    },
    {
      name: 'a topic that is not a reports topic',
      reason: 'topic_invalid',
      topic: (d) => `terrane/v1/devices/${d.deviceId}/commands`,
      bytes: () => signedBytes(alice, heartbeat(alice, 1)),
    },
    {
      name: 'a topic outside the layout',
      reason: 'topic_invalid',
      topic: () => 'other/topic',
      bytes: () => signedBytes(alice, heartbeat(alice, 1)),
    },
    {
      name: "another device's report on this device's topic",
      reason: 'topic_mismatch',
      topic: () => reportsTopic(bob.deviceId),
      bytes: () => signedBytes(alice, heartbeat(alice, 1)),
    },
    {
      name: 'a device not in the directory',
      reason: 'unknown_device',
      bytes: () => signedBytes(alice, heartbeat(alice, 1)),
      setup: (f) => f.directory.delete(alice.deviceId),
    },
    {
      name: 'a suspended device',
      reason: 'device_inactive',
      bytes: () => signedBytes(alice, heartbeat(alice, 1)),
      setup: (f) => f.directory.set(alice.deviceId, { publicKey: alice.publicKey, status: 'suspended' }),
    },
    {
      name: 'a report signed by another key',
      reason: 'bad_signature',
      bytes: () => encodeSignedReport(signReport(chainId, heartbeat(alice, 1), bob.sign)),
    },
    {
      name: 'a report signed for another chain',
      reason: 'bad_signature',
      bytes: () => signedBytes(alice, heartbeat(alice, 1), 'other-chain'),
    },
    {
      name: 'a report whose fields were changed after signing',
      reason: 'bad_signature',
      bytes: () => {
        const signed = signReport(chainId, heartbeat(alice, 1), alice.sign)
        return encodeSignedReport({ ...signed, report: { ...signed.report, seq: 2 } })
      },
    },
    { name: 'a report older than the age limit', reason: 'stale', bytes: () => signedBytes(alice, heartbeat(alice, 1, t0Ms - 900_001)) },
    { name: 'a report from the future', reason: 'future', bytes: () => signedBytes(alice, heartbeat(alice, 1, t0Ms + 30_001)) },
  ]
  for (const c of cases) {
    it(`rejects ${c.name} as ${c.reason}, counts it and hands nothing to the sink`, async () => {
      const f = processorFixture([alice, bob])
      c.setup?.(f)
      const verdict = f.processor.handle((c.topic ?? ((d) => reportsTopic(d.deviceId)))(alice), c.bytes())
      assert.equal(verdict.ok, false)
      assert.equal(!verdict.ok && verdict.reason, c.reason)
      assert.equal(f.accepted.length, 0)
      assert.equal(await rejected(f.metrics.registry, c.reason), 1)
    })
    it(`rejects ${c.name} as ${c.reason} through submit() and the signature pool too`, async () => {
      const f = processorFixture([alice, bob], { signatures: pool })
      c.setup?.(f)
      const verdict = await f.processor.submit((c.topic ?? ((d) => reportsTopic(d.deviceId)))(alice), c.bytes())
      assert.equal(!verdict.ok && verdict.reason, c.reason)
      assert.equal(f.accepted.length, 0)
      assert.equal(await rejected(f.metrics.registry, c.reason), 1)
    })
  }

  it('accepts through submit() what the pool verified, and refuses a forged report without moving the window', async () => {
    const f = processorFixture([alice, bob], { signatures: pool })
    const topic = reportsTopic(alice.deviceId)
    const forged = encodeSignedReport(signReport(chainId, heartbeat(alice, 1000), bob.sign))
    const [bad, good] = await Promise.all([
      f.processor.submit(topic, forged),
      f.processor.submit(topic, signedBytes(alice, heartbeat(alice, 1))),
    ])
    assert.equal(!bad?.ok && bad?.reason, 'bad_signature')
    assert.equal(good?.ok, true)
    assert.deepEqual(
      f.accepted.map((v) => v.report.seq),
      [1],
    )
    assert.equal(await metricValue(f.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'accepted' }), 1)
  })

  it('accepts once two copies of a report that race through the pool (the window is re-checked after verification)', async () => {
    const f = processorFixture([alice], { signatures: pool })
    const topic = reportsTopic(alice.deviceId)
    const bytes = signedBytes(alice, heartbeat(alice, 7))
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => f.processor.submit(topic, bytes)))
    assert.equal(verdicts.filter((v) => v.ok).length, 1)
    assert.deepEqual(
      verdicts.filter((v) => !v.ok).map((v) => !v.ok && v.reason),
      ['duplicate', 'duplicate', 'duplicate', 'duplicate'],
    )
    assert.equal(f.accepted.length, 1)
  })

  it("accepts many devices' reports in one burst through the pool, each once", async () => {
    const devices = Array.from({ length: 8 }, (_, i) => testDevice(`burst-${i}`))
    const f = processorFixture(devices, { signatures: pool })
    const jobs = devices.flatMap((d) =>
      Array.from({ length: 6 }, (_, seq) => f.processor.submit(reportsTopic(d.deviceId), signedBytes(d, heartbeat(d, seq + 1)))),
    )
    const verdicts = await Promise.all(jobs)
    assert.equal(verdicts.filter((v) => v.ok).length, 48)
    assert.equal(f.processor.trackedDevices, 8)
    assert.equal(await metricValue(f.metrics.registry, 'terrane_ingest_signatures_pending'), 0, 'all answered')
  })

  it('refuses as overloaded when the pool queue is full, and as verifier_failed when the worker fails', async () => {
    const small = createSignaturePool({ workers: 1, batchSize: 64, queueMax: 1 })
    try {
      const f = processorFixture([alice], { signatures: small })
      const topic = reportsTopic(alice.deviceId)
      const [first, second] = await Promise.all([
        f.processor.submit(topic, signedBytes(alice, heartbeat(alice, 1))),
        f.processor.submit(topic, signedBytes(alice, heartbeat(alice, 2))),
      ])
      assert.equal(first?.ok, true)
      assert.equal(!second?.ok && second?.reason, 'overloaded')
      assert.equal(await rejected(f.metrics.registry, 'overloaded'), 1)
    } finally {
      await small.close()
    }
    const failing = {
      tryVerify: () => Promise.reject(new Error('worker died')),
      verifyBatch: () => Promise.reject(new Error('worker died')),
      ready: async () => {},
      pending: 0,
      close: async () => {},
    }
    const f = processorFixture([alice], { signatures: failing })
    const verdict = await f.processor.submit(reportsTopic(alice.deviceId), signedBytes(alice, heartbeat(alice, 1)))
    assert.equal(!verdict.ok && verdict.reason, 'verifier_failed')
    assert.equal(f.processor.trackedDevices, 0, 'nothing committed')
    // The same report, once verification works again, is accepted: the failure recorded nothing.
    const g = processorFixture([alice])
    assert.equal((await g.processor.submit(reportsTopic(alice.deviceId), signedBytes(alice, heartbeat(alice, 1)))).ok, true)
  })

  it('drops the same report sent twice as a duplicate', async () => {
    const { processor, accepted, metrics } = processorFixture([alice])
    const bytes = signedBytes(alice, heartbeat(alice, 5))
    assert.equal(processor.handle(reportsTopic(alice.deviceId), bytes).ok, true)
    const again = processor.handle(reportsTopic(alice.deviceId), bytes)
    assert.equal(!again.ok && again.reason, 'duplicate')
    assert.equal(accepted.length, 1)
    assert.equal(await rejected(metrics.registry, 'duplicate'), 1)
  })

  it('accepts reordering inside the window and refuses replays below it', async () => {
    const { processor, accepted } = processorFixture([alice])
    const topic = reportsTopic(alice.deviceId)
    const old = signedBytes(alice, heartbeat(alice, 10))
    assert.equal(processor.handle(topic, signedBytes(alice, heartbeat(alice, 12))).ok, true)
    assert.equal(processor.handle(topic, old).ok, true, 'seq 10 after 12 is inside the window')
    assert.equal(processor.handle(topic, signedBytes(alice, heartbeat(alice, 12 + seqWindowBits))).ok, true)
    const stale = processor.handle(topic, signedBytes(alice, heartbeat(alice, 11)))
    assert.equal(!stale.ok && stale.reason, 'replayed')
    assert.deepEqual(
      accepted.map((v) => v.report.seq),
      [12, 10, 12 + seqWindowBits],
    )
  })

  it('does not let a forged report advance the sequence window', () => {
    const { processor } = processorFixture([alice, bob])
    const topic = reportsTopic(alice.deviceId)
    const forged = encodeSignedReport(signReport(chainId, heartbeat(alice, 1000), bob.sign))
    assert.equal(processor.handle(topic, forged).ok, false)
    assert.equal(processor.handle(topic, signedBytes(alice, heartbeat(alice, 1))).ok, true)
  })

  it('keeps working when the sink throws, and counts the failure', async () => {
    const f = processorFixture([alice])
    const throwing = {
      onReport: () => {
        throw new Error('sink down')
      },
    }
    const processor = reportProcessor({ chainId })({ clock: f.clock, directory: f.directory, metrics: f.metrics, sink: throwing })
    assert.equal(processor.handle(reportsTopic(alice.deviceId), signedBytes(alice, heartbeat(alice, 1))).ok, true)
    assert.equal(await metricValue(f.metrics.registry, 'terrane_ingest_sink_errors_total'), 1)
  })

  it('refuses a new device with reason capacity when every tracked device is recent, and evicts old ones', async () => {
    const carol = testDevice('carol')
    const f = processorFixture([alice, bob, carol], { replayDevicesMax: 2 })
    assert.equal(f.processor.handle(reportsTopic(alice.deviceId), signedBytes(alice, heartbeat(alice, 1))).ok, true)
    assert.equal(f.processor.handle(reportsTopic(bob.deviceId), signedBytes(bob, heartbeat(bob, 1))).ok, true)
    const full = f.processor.handle(reportsTopic(carol.deviceId), signedBytes(carol, heartbeat(carol, 1)))
    assert.equal(!full.ok && full.reason, 'capacity')
    assert.equal(await rejected(f.metrics.registry, 'capacity'), 1)
    // Once alice's and bob's reports are older than the age limit, their entries may go:
    // replays of them are refused as stale anyway.
    f.clock.ms += 900_001
    assert.equal(f.processor.handle(reportsTopic(carol.deviceId), signedBytes(carol, heartbeat(carol, 1, f.clock.ms))).ok, true)
    const replay = f.processor.handle(reportsTopic(alice.deviceId), signedBytes(alice, heartbeat(alice, 1)))
    assert.equal(!replay.ok && replay.reason, 'stale')
    assert.ok(f.processor.trackedDevices <= 2)
  })
})
