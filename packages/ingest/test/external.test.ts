import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connectAsync } from 'mqtt'
import { encodeSignedReport, signReport } from '@terrane/reports'
import {
  createIngestMetrics,
  externalConsumer,
  metricValue,
  reportProcessor,
  reportsTopic,
  systemClock,
  type ExternalConsumer,
  type VerifiedReport,
} from '../src/index.ts'
import { chainId, directoryOf, heartbeat, signedBytes, testDevice } from './fixtures.ts'
import { mosquittoPub, startMosquitto, type Mosquitto } from './mosquitto.ts'
import { until } from './wait.ts'

const devices = ['d0', 'd1', 'd2', 'd3'].map((s) => testDevice(`external-${s}`))
const [alice, bob] = devices as [(typeof devices)[0], (typeof devices)[0]]
const directory = directoryOf(...devices)

// Per-device topic ACL in the broker (mosquitto patterns, %u = the MQTT username = the device id);
// the ingest's own user may read every device's reports.
const acl = [
  'user terrane-ingest',
  'topic read terrane/v1/devices/+/reports',
  '',
  'pattern write terrane/v1/devices/%u/reports',
  'pattern read terrane/v1/devices/%u/commands',
  '',
].join('\n')

function consumer(broker: Mosquitto, clientId: string, group?: string) {
  const metrics = createIngestMetrics()
  const accepted: VerifiedReport[] = []
  const processor = reportProcessor({ chainId })({
    clock: systemClock,
    directory,
    metrics,
    sink: { onReport: (v) => void accepted.push(v) },
  })
  const ingest: ExternalConsumer = externalConsumer({
    url: broker.url,
    clientId,
    username: 'terrane-ingest',
    ...(group === undefined ? {} : { group }),
  })({
    processor,
  })
  return { ingest, accepted, metrics }
}

describe('ingest against an external mosquitto broker', () => {
  let broker: Mosquitto
  const stops: (() => Promise<void>)[] = []
  before(async () => {
    broker = await startMosquitto(acl)
  })
  after(async () => {
    for (const stop of stops.reverse()) await stop()
    await broker?.stop()
  })

  it('consumes reports published by mosquitto_pub: accepts good ones, rejects forged and malformed ones', async () => {
    const c = consumer(broker, 'ingest-single')
    await c.ingest.start()
    stops.push(() => c.ingest.stop())
    const now = Date.now()
    await mosquittoPub(broker, {
      topic: reportsTopic(alice.deviceId),
      username: alice.deviceId,
      payload: signedBytes(alice, heartbeat(alice, 1, now)),
    })
    await mosquittoPub(broker, {
      topic: reportsTopic(alice.deviceId),
      username: alice.deviceId,
      payload: encodeSignedReport(signReport(chainId, heartbeat(alice, 2, now), bob.sign)),
    })
    await mosquittoPub(broker, { topic: reportsTopic(alice.deviceId), username: alice.deviceId, payload: Uint8Array.of(0xa1, 0xff) })
    // Replayed: the first report again.
    await mosquittoPub(broker, {
      topic: reportsTopic(alice.deviceId),
      username: alice.deviceId,
      payload: signedBytes(alice, heartbeat(alice, 1, now)),
    })
    // The broker's ACL drops a publish on another device's topic (MQTT 3.1.1 has no error to return).
    await mosquittoPub(broker, {
      topic: reportsTopic(bob.deviceId),
      username: alice.deviceId,
      payload: signedBytes(bob, heartbeat(bob, 1, now)),
    })
    await mosquittoPub(broker, {
      topic: reportsTopic(bob.deviceId),
      username: bob.deviceId,
      payload: signedBytes(bob, heartbeat(bob, 2, now)),
    })
    await until(() => c.accepted.length === 2, 'two accepted reports')
    await until(async () => (await metricValue(c.metrics.registry, 'terrane_ingest_reports_total')) === 5, 'five reports')
    assert.deepEqual(
      c.accepted.map((v) => [v.deviceId, v.report.seq]),
      [
        [alice.deviceId, 1],
        [bob.deviceId, 2],
      ],
    )
    const rejected = (reason: string) => metricValue(c.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'rejected', reason })
    assert.equal(await rejected('bad_signature'), 1)
    assert.equal(await rejected('malformed'), 1)
    assert.equal(await rejected('duplicate'), 1)
    await c.ingest.stop()
  })

  it('splits the stream between two consumers with an MQTT 5 shared subscription: none lost, none duplicated', async () => {
    const a = consumer(broker, 'ingest-a', 'verifiers')
    const b = consumer(broker, 'ingest-b', 'verifiers')
    await a.ingest.start()
    await b.ingest.start()
    stops.push(
      () => a.ingest.stop(),
      () => b.ingest.stop(),
    )
    assert.equal(a.ingest.topicFilter, '$share/verifiers/terrane/v1/devices/+/reports')
    const perDevice = 50
    const now = Date.now()
    for (const device of devices) {
      const client = await connectAsync(broker.url, {
        clientId: device.deviceId,
        username: device.deviceId,
        protocolVersion: 5,
        reconnectPeriod: 0,
      })
      for (let seq = 100; seq < 100 + perDevice; seq++) {
        await client.publishAsync(reportsTopic(device.deviceId), Buffer.from(signedBytes(device, heartbeat(device, seq, now))), { qos: 1 })
      }
      await client.endAsync()
    }
    const total = devices.length * perDevice
    await until(() => a.accepted.length + b.accepted.length === total, `${total} reports across both consumers`)
    assert.ok(a.accepted.length > 0 && b.accepted.length > 0, `each consumer gets a share (${a.accepted.length} / ${b.accepted.length})`)
    const keys = [...a.accepted, ...b.accepted].map((v) => `${v.deviceId}/${v.report.seq}`)
    assert.equal(new Set(keys).size, total, 'no report delivered to both')
    for (const c of [a, b]) assert.equal(await metricValue(c.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'rejected' }), 0)
  })
})
