import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { fromHex } from '@terrane/codec'
import { encodeSignedReport, reportBytesMax, signReport } from '@terrane/reports'
import type { TestDeviceKey } from '@terrane/reports/testing'
import {
  attestationCertificateVerifier,
  commandsTopic,
  createIngest,
  createSessionToken,
  metricValue,
  reportsTopic,
  type Ingest,
  type VerifiedReport,
} from '../src/index.ts'
import { certificateFingerprint, type ManufacturerRegistry } from '@terrane/attestation'
import { chainId, directoryOf, heartbeat, signedBytes, testDevice } from './fixtures.ts'
import { issue, keysOf, makePki, privateKeyPem } from './pki.ts'
import { until } from './wait.ts'

const alice = testDevice('alice')
const bob = testDevice('bob')
const mallory = testDevice('mallory') // registered, misbehaving
const nowMs = () => Date.now()

let ingest: Ingest
let pki: Awaited<ReturnType<typeof makePki>>
/** The registered manufacturer as the chain holds it now (tests revoke by replacing it). */
let manufacturer: ManufacturerRegistry
const accepted: VerifiedReport[] = []
const open: MqttClient[] = []

async function tokenFor(device: TestDeviceKey): Promise<Uint8Array> {
  const res = await fetch(`${ingest.challengeUrl}/v1/devices/${device.deviceId}/challenge`)
  const { nonce } = (await res.json()) as { nonce: string }
  return createSessionToken(chainId, device.deviceId, fromHex(nonce), device.sign)
}

async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options })
  open.push(client)
  return client
}

async function connectToken(device: TestDeviceKey, clientId = device.deviceId): Promise<MqttClient> {
  return connect(ingest.tcpUrl ?? '', { clientId, username: device.deviceId, password: Buffer.from(await tokenFor(device)) })
}

const counter = (name: string, labels: Record<string, string> = {}) => metricValue(ingest.metrics.registry, name, labels)
const rejected = (reason: string) => counter('terrane_ingest_reports_total', { outcome: 'rejected', reason })

describe('embedded broker', () => {
  before(async () => {
    pki = await makePki(nowMs())
    manufacturer = pki.manufacturer
    ingest = createIngest({ chainId, broker: { tcp: {}, tls: { key: pki.serverKeyPem, cert: pki.server.pem } } })({
      directory: directoryOf(alice, bob, mallory),
      sink: { onReport: (v) => void accepted.push(v) },
      certificates: attestationCertificateVerifier(() => [manufacturer]),
    })
    await ingest.start()
  })
  after(async () => {
    await Promise.all(open.map((c) => c.endAsync(true)))
    await ingest.stop()
  })

  it('accepts a signed report from a device with a session token, and refuses bad ones over MQTT', async () => {
    const client = await connectToken(alice)
    const topic = reportsTopic(alice.deviceId)
    const base = accepted.length
    await client.publishAsync(topic, Buffer.from(signedBytes(alice, heartbeat(alice, 1, nowMs()))), { qos: 1 })
    await until(() => accepted.length === base + 1, 'the report')
    assert.equal(accepted.at(-1)?.deviceId, alice.deviceId)

    // Replayed, malformed, oversized and forged reports: each refused with its reason, the connection kept.
    await client.publishAsync(topic, Buffer.from(signedBytes(alice, heartbeat(alice, 1, nowMs()))), { qos: 1 })
    await client.publishAsync(topic, Buffer.from('not cbor'), { qos: 1 })
    await client.publishAsync(topic, Buffer.alloc(reportBytesMax + 100, 0xa5), { qos: 1 })
    await client.publishAsync(topic, Buffer.from(encodeSignedReport(signReport(chainId, heartbeat(alice, 2, nowMs()), bob.sign))), {
      qos: 1,
    })
    await until(async () => (await rejected('bad_signature')) === 1, 'the forged report')
    assert.equal(await rejected('duplicate'), 1)
    assert.equal(await rejected('malformed'), 1)
    assert.equal(await rejected('oversized'), 1)
    // Still serving: the next good report goes through.
    await client.publishAsync(topic, Buffer.from(signedBytes(alice, heartbeat(alice, 3, nowMs()))), { qos: 1 })
    await until(() => accepted.length === base + 2, 'the report after the bad ones')
  })

  it("disconnects a device publishing on another device's topic and counts it", async () => {
    const client = await connectToken(mallory)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const deniedBefore = await counter('terrane_ingest_acl_denied_total', { action: 'publish' })
    client.publish(reportsTopic(bob.deviceId), Buffer.from(signedBytes(mallory, heartbeat(mallory, 1, nowMs()))), { qos: 1 })
    await closed
    assert.equal(await counter('terrane_ingest_acl_denied_total', { action: 'publish' }), deniedBefore + 1)
    assert.equal(await rejected('topic_mismatch'), 0, 'the message never reached the processor')
    assert.ok(!accepted.some((v) => v.deviceId === mallory.deviceId))
  })

  it("refuses subscriptions to other devices' topics and delivers a device its own commands", async () => {
    const client = await connectToken(bob)
    // mqtt.js rejects when any filter is refused; the SUBACK it carries shows which.
    const suback = await client.subscribeAsync([commandsTopic(alice.deviceId), 'terrane/#', commandsTopic(bob.deviceId)], { qos: 1 }).then(
      () => assert.fail('expected refusals'),
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    )
    assert.deepEqual(suback, [128, 128, 1])
    assert.equal(await counter('terrane_ingest_acl_denied_total', { action: 'subscribe' }), 2)
    const received = new Promise<Buffer>((resolve) => client.once('message', (_topic, payload) => resolve(payload)))
    await ingest.broker.sendCommand(bob.deviceId, Uint8Array.of(1, 2, 3))
    assert.deepEqual([...(await received)], [1, 2, 3])
  })

  it('refuses bad session credentials with a CONNACK error and counts each reason', async () => {
    const eve = testDevice('eve')
    await assert.rejects(
      connect(ingest.tcpUrl ?? '', { clientId: alice.deviceId, username: alice.deviceId, password: Buffer.from('nope') }),
    )
    await assert.rejects(
      connect(ingest.tcpUrl ?? '', { clientId: eve.deviceId, username: eve.deviceId, password: Buffer.from(await tokenFor(eve)) }),
    )
    // A valid token, but a client id that would take over bob's session.
    await assert.rejects(connectToken(alice, bob.deviceId))
    // The same token twice.
    const token = Buffer.from(await tokenFor(alice))
    await connect(ingest.tcpUrl ?? '', { clientId: `${alice.deviceId}-a`, username: alice.deviceId, password: token })
    await assert.rejects(connect(ingest.tcpUrl ?? '', { clientId: `${alice.deviceId}-b`, username: alice.deviceId, password: token }))
    const auth = (reason: string) => counter('terrane_ingest_auth_total', { mode: 'token', outcome: 'rejected', reason })
    assert.equal(await auth('token_malformed'), 1)
    assert.equal(await auth('unknown_device'), 1)
    assert.equal(await auth('client_id_mismatch'), 1)
    assert.equal(await auth('challenge_reused'), 1)
  })

  it('authenticates a device by its certificate chain over TLS', async () => {
    const device = await issue({ name: 'Alice device', issuer: pki.intermediate, keys: await keysOf(alice.privateKey), ...pki.window })
    const client = await connect(ingest.tlsUrl ?? '', {
      clientId: alice.deviceId,
      key: await privateKeyPem(device.keys),
      cert: device.pem + pki.intermediate.pem,
      ca: pki.serverCa.pem,
    })
    const base = accepted.length
    await client.publishAsync(reportsTopic(alice.deviceId), Buffer.from(signedBytes(alice, heartbeat(alice, 10, nowMs()))), { qos: 1 })
    await until(() => accepted.length === base + 1, 'the TLS report')
    assert.equal(await counter('terrane_ingest_auth_total', { mode: 'tls', outcome: 'accepted' }), 1)
  })

  it('refuses a self-signed, an expired and a foreign-manufacturer chain over TLS, with reasons', async () => {
    const keys = await keysOf(bob.privateKey)
    const day = 86_400_000
    const selfSigned = await issue({ name: 'Bob self', keys, ...pki.window })
    const expired = await issue({
      name: 'Bob old',
      issuer: pki.intermediate,
      keys,
      notBeforeMs: nowMs() - 10 * day,
      notAfterMs: nowMs() - day,
    })
    const otherRoot = await issue({ name: 'Other Root', isCa: true, ...pki.window })
    const foreign = await issue({ name: 'Bob foreign', issuer: otherRoot, keys, ...pki.window })
    const key = await privateKeyPem(keys)
    for (const cert of [selfSigned.pem, expired.pem + pki.intermediate.pem, foreign.pem + otherRoot.pem]) {
      await assert.rejects(connect(ingest.tlsUrl ?? '', { clientId: bob.deviceId, key, cert, ca: pki.serverCa.pem }))
    }
    // A TLS client with no certificate at all.
    await assert.rejects(connect(ingest.tlsUrl ?? '', { clientId: bob.deviceId, ca: pki.serverCa.pem }))
    const certReason = (reason: string) => counter('terrane_ingest_certificate_rejected_total', { reason })
    assert.equal(await certReason('unknown_root'), 2)
    assert.equal(await certReason('expired'), 1)
    assert.equal(await counter('terrane_ingest_auth_total', { mode: 'tls', outcome: 'rejected', reason: 'certificate_missing' }), 1)
  })

  it('refuses the next TLS connection once the intermediate is revoked on chain', async () => {
    const device = await issue({ name: 'Alice device 2', issuer: pki.intermediate, keys: await keysOf(alice.privateKey), ...pki.window })
    const options = { key: await privateKeyPem(device.keys), cert: device.pem + pki.intermediate.pem, ca: pki.serverCa.pem }
    const before = await connect(ingest.tlsUrl ?? '', { ...options, clientId: `${alice.deviceId}-r1` })
    await before.endAsync()
    manufacturer = { ...pki.manufacturer, revokedFingerprintsSha256: [certificateFingerprint(pki.intermediate.der)] }
    try {
      await assert.rejects(connect(ingest.tlsUrl ?? '', { ...options, clientId: `${alice.deviceId}-r2` }))
      assert.equal(await counter('terrane_ingest_certificate_rejected_total', { reason: 'revoked' }), 1)
    } finally {
      manufacturer = pki.manufacturer
    }
  })
})
