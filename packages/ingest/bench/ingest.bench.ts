// Signed device reports ingested and verified per second through MQTT on loopback.
// The measured process runs the embedded aedes broker AND the report processor on its one main
// thread (one core); the publishers run in a child process (the other core) with reports signed
// before the clock starts, so the figure is what one ingest core sustains.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { connectAsync } from 'mqtt'
import { fromHex } from '@terrane/codec'
import { encodeSignedReport, makeReport, signReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { p256VerifyLimitPerSecond, report } from '@terrane/bench'
import {
  MemoryDeviceDirectory,
  createIngest,
  createIngestMetrics,
  createSessionToken,
  reportProcessor,
  reportsTopic,
} from '../src/index.ts'

const chainId = 'terrane-bench'
const devices = 64
const reportsPerDevice = Number(process.env.TERRANE_BENCH_REPORTS_PER_DEVICE ?? 400)
const thisFile = fileURLToPath(import.meta.url)

function keys() {
  return Array.from({ length: devices }, (_, i) => deviceKeyFromSeed(`bench-${i}`))
}

function signAll(nowMs: number): { topic: string; bytes: Uint8Array }[][] {
  return keys().map((key) =>
    Array.from({ length: reportsPerDevice }, (_, seq) => ({
      topic: reportsTopic(key.deviceId),
      bytes: encodeSignedReport(
        signReport(
          chainId,
          makeReport(
            { deviceId: key.deviceId, seq: seq + 1, timeMs: nowMs, kind: 'heartbeat' },
            { uptimeSeconds: seq, firmwareVersion: '1.0.0' },
          ),
          key.sign,
        ),
      ),
    })),
  )
}

async function publisher(): Promise<void> {
  const { brokerUrl, challengeUrl, nowMs } = JSON.parse(process.env.TERRANE_BENCH_PUBLISHER ?? '{}') as {
    brokerUrl: string
    challengeUrl: string
    nowMs: number
  }
  const perDevice = signAll(nowMs)
  const clients = await Promise.all(
    keys().map(async (key) => {
      const res = await fetch(`${challengeUrl}/v1/devices/${key.deviceId}/challenge`)
      const { nonce } = (await res.json()) as { nonce: string }
      const password = Buffer.from(createSessionToken(chainId, key.deviceId, fromHex(nonce), key.sign))
      return connectAsync(brokerUrl, { clientId: key.deviceId, username: key.deviceId, password, protocolVersion: 4, reconnectPeriod: 0 })
    }),
  )
  process.send?.('ready')
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  // QoS 1 with a window of 32 in flight per device: the broker's acks pace the publishers.
  await Promise.all(
    clients.map(async (client, i) => {
      const reports = perDevice[i] ?? []
      const window = 32
      for (let at = 0; at < reports.length; at += window) {
        await Promise.all(reports.slice(at, at + window).map((r) => client.publishAsync(r.topic, Buffer.from(r.bytes), { qos: 1 })))
      }
    }),
  )
  await Promise.all(clients.map((c) => c.endAsync()))
}

async function main(): Promise<void> {
  const limit = p256VerifyLimitPerSecond({ durationMsMin: 2000 })
  const directory = new MemoryDeviceDirectory()
  for (const key of keys()) directory.set(key.deviceId, { publicKey: key.publicKey, status: 'active' })
  const nowMs = Date.now()

  // 1. The processor alone (decode, checks, P-256 verify, seq window), no MQTT.
  const signed = signAll(nowMs).flat()
  const alone = reportProcessor({ chainId })({
    clock: { nowMs: () => nowMs },
    directory,
    metrics: createIngestMetrics(),
    sink: { onReport: () => {} },
  })
  const t0 = performance.now()
  let okAlone = 0
  for (const r of signed) if (alone.handle(r.topic, r.bytes).ok) okAlone++
  const aloneMs = performance.now() - t0
  if (okAlone !== signed.length) throw new Error(`processor accepted ${okAlone} of ${signed.length}`)

  // 2. Through MQTT: publishers in a child process, broker + processor here.
  const total = devices * reportsPerDevice
  let accepted = 0
  let firstMs = 0
  let lastMs = 0
  const done = Promise.withResolvers<void>()
  const ingest = createIngest({ chainId })({
    directory,
    sink: {
      onReport: () => {
        if (accepted++ === 0) firstMs = performance.now()
        if (accepted === total) {
          lastMs = performance.now()
          done.resolve()
        }
      },
    },
  })
  await ingest.start()
  const child = spawn(
    process.execPath,
    ['--import', fileURLToPath(new URL('../../polyfill/register.js', import.meta.url)), '--import', 'tsx', thisFile],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        TERRANE_BENCH_PUBLISHER: JSON.stringify({ brokerUrl: ingest.tcpUrl, challengeUrl: ingest.challengeUrl, nowMs }),
      },
    },
  )
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`publisher exited with ${code}`)))
  })
  const startMs = performance.now()
  child.send('go')
  const timeout = setTimeout(() => done.reject(new Error(`only ${accepted} of ${total} reports accepted`)), 300_000)
  await done.promise
  clearTimeout(timeout)
  await new Promise((resolve) => child.once('exit', resolve))
  await ingest.stop()
  const mqttRate = (total * 1000) / (lastMs - startMs)
  const steadyRate = ((total - 1) * 1000) / (lastMs - firstMs)
  const aloneRate = (signed.length * 1000) / aloneMs

  report('ingest', [
    {
      name: 'signed reports ingested + verified via MQTT (aedes, QoS 1, loopback)',
      value: mqttRate,
      unit: 'reports/s',
      ratio: mqttRate / limit,
      ratioTo: 'P-256 verify/s, 1 core',
      target: '>= 10,000/s on one core',
      note: `${total} reports from ${devices} devices; broker and verifier share one core (one thread); publishers in a child process`,
    },
    {
      name: 'same, steady state (first to last accepted)',
      value: steadyRate,
      unit: 'reports/s',
      ratio: steadyRate / limit,
      ratioTo: 'P-256 verify/s, 1 core',
    },
    {
      name: 'report processor alone (decode, checks, verify, seq window)',
      value: aloneRate,
      unit: 'reports/s',
      ratio: aloneRate / limit,
      ratioTo: 'P-256 verify/s, 1 core',
      note: `${signed.length} reports, no MQTT`,
    },
    {
      name: 'P-256 verify limit (node:crypto, cached key), same run',
      value: limit,
      unit: 'verifies/s',
      note: `one report is ${signed[0]?.bytes.length ?? 0} bytes`,
    },
  ])
}

if (process.env.TERRANE_BENCH_PUBLISHER !== undefined) await publisher()
else await main()
