import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeReportBody } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import {
  MemoryDeviceDirectory,
  attestationCertificateVerifier,
  createIngest,
  metricValue,
  type Ingest,
  type VerifiedReport,
} from '@terrane/ingest'
import {
  DeviceError,
  FileSequenceStore,
  MemorySequenceStore,
  SoftwareSecureElement,
  createSimulatedManufacturer,
  deviceAgent,
  type FirmwareChecker,
  type SimulatedManufacturer,
  type Timers,
} from '../src/index.ts'
import { serverCertificate } from './server-cert.ts'
import { until } from './wait.ts'

const chainId = 'terrane-test'

/** Timers driven by the test: `fire()` runs every registered interval callback once. */
class ManualTimers implements Timers {
  readonly callbacks = new Map<number, () => void>()
  #nextId = 1
  setInterval(fn: () => void): unknown {
    const id = this.#nextId++
    this.callbacks.set(id, fn)
    return id
  }
  clearInterval(handle: unknown): void {
    this.callbacks.delete(handle as number)
  }
  fire(): void {
    for (const fn of this.callbacks.values()) fn()
  }
}

const key = deviceKeyFromSeed('agent-device')
let se: SoftwareSecureElement
let manufacturer: SimulatedManufacturer
let serverCaPem: string
const clock = { nowMs: () => Date.now() }
let ingest: Ingest
const accepted: VerifiedReport[] = []
const directory = new MemoryDeviceDirectory()

describe('device agent through the embedded ingest', () => {
  before(async () => {
    manufacturer = await createSimulatedManufacturer({ manufacturerId: 'acme', nowMs: Date.now() })
    se = new SoftwareSecureElement(key.privateKey, { certificateChainDer: await manufacturer.issueDeviceCertificate(key.publicKey, 1) })
    directory.set(se.deviceId, { publicKey: se.publicKey, status: 'active' })
    const server = await serverCertificate(Date.now())
    serverCaPem = server.certPem
    ingest = createIngest({ chainId, broker: { tcp: {}, tls: { key: server.keyPem, cert: server.certPem } } })({
      directory,
      sink: { onReport: (v) => void accepted.push(v) },
      certificates: attestationCertificateVerifier(() => [manufacturer.registry]),
    })
    await ingest.start()
  })
  after(() => ingest.stop())

  const agentFor = (
    sequencePath: string,
    timers: Timers,
    extra: { firmware?: FirmwareChecker; onCommand?: (p: Uint8Array) => void } = {},
  ) =>
    deviceAgent({
      chainId,
      brokerUrl: ingest.tcpUrl ?? '',
      auth: { mode: 'token', challengeUrl: ingest.challengeUrl ?? '' },
      firmwareVersion: '1.2.0',
      heartbeatIntervalMs: 60_000,
      firmwareTarget: 'sensor-fw',
    })({ secureElement: se, sequence: new FileSequenceStore({ path: sequencePath, blockSize: 2 }), clock, timers, ...extra })

  it('connects with a session token, heartbeats on its timer, and keeps seq increasing across a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'terrane-agent-')), 'seq')
    const timers = new ManualTimers()
    const first = agentFor(path, timers)
    await first.start()
    assert.equal(timers.callbacks.size, 1)
    timers.fire()
    timers.fire()
    await until(() => accepted.length === 2, 'two heartbeats')
    await first.report('reading', { sensor: 'temperature', value: 2150, unit: 'centi-celsius' })
    await first.stop()
    assert.equal(timers.callbacks.size, 0, 'stop clears the heartbeat timer')

    const second = agentFor(path, timers)
    await second.start()
    await second.heartbeat()
    await until(() => accepted.length === 4, 'the heartbeat after the restart')
    await second.stop()
    const seqs = accepted.map((v) => v.report.seq)
    assert.ok(
      seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0)),
      `strictly increasing: ${seqs}`,
    )
    const beat = accepted[0]
    assert.equal(beat?.report.kind, 'heartbeat')
    const body = beat === undefined ? undefined : decodeReportBody(beat.report as typeof beat.report & { kind: 'heartbeat' })
    assert.equal(body?.firmwareVersion, '1.2.0')
    assert.equal(await metricValue(ingest.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'rejected' }), 0)
  })

  it('receives commands on its own topic and checks firmware through the updater', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'terrane-agent-')), 'seq')
    const commands: Uint8Array[] = []
    const firmware: FirmwareChecker = { check: async (name) => ({ name, length: 10, sha256: '00', custom: { version: '1.3.0' } }) }
    const agent = agentFor(path, new ManualTimers(), { firmware, onCommand: (p) => commands.push(p) })
    await agent.start()
    await ingest.broker.sendCommand(se.deviceId, Uint8Array.of(9))
    await until(() => commands.length === 1, 'the command')
    assert.deepEqual(await agent.checkFirmware(), { current: '1.2.0', available: '1.3.0', isUpdateAvailable: true })
    await agent.stop()
  })

  it('fails with typed errors: unregistered device, unreachable challenge endpoint, publish before start', async () => {
    const stranger = new SoftwareSecureElement(deviceKeyFromSeed('stranger').privateKey)
    const make = (challengeUrl: string) =>
      deviceAgent({ chainId, brokerUrl: ingest.tcpUrl ?? '', auth: { mode: 'token', challengeUrl }, firmwareVersion: '1' })({
        secureElement: stranger,
        sequence: new FileSequenceStore({ path: join(mkdtempSync(join(tmpdir(), 'terrane-agent-')), 'seq') }),
        clock,
        timers: new ManualTimers(),
      })
    await assert.rejects(
      make(ingest.challengeUrl ?? '').start(),
      (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_CONNECT',
    )
    await assert.rejects(
      make('http://127.0.0.1:1').start(),
      (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_CHALLENGE',
    )
    await assert.rejects(
      make(ingest.challengeUrl ?? '').heartbeat(),
      (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_NOT_CONNECTED',
    )
  })

  it('connects over TLS with its manufacturer certificate as client certificate', async () => {
    const agent = deviceAgent({
      chainId,
      brokerUrl: ingest.tlsUrl ?? '',
      auth: { mode: 'tls', keyPem: se.tlsKeyPem(), certificateChainPem: se.certificateChainPem(), caPem: serverCaPem },
      firmwareVersion: '1.2.0',
      clientIdSuffix: 'tls',
    })({ secureElement: se, sequence: new MemorySequenceStore(1000), clock, timers: new ManualTimers() })
    await agent.start()
    const base = accepted.length
    await agent.heartbeat()
    await until(() => accepted.length === base + 1, 'the TLS heartbeat')
    assert.equal(accepted.at(-1)?.report.seq, 1001)
    await agent.stop()
    assert.equal(await metricValue(ingest.metrics.registry, 'terrane_ingest_auth_total', { mode: 'tls', outcome: 'accepted' }), 1)
  })
})
