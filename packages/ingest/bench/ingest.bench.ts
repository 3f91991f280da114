// Signed device reports ingested and verified per second through MQTT on loopback.
// The measured process runs the embedded aedes broker AND the report processor on its one main
// thread (one core); the publishers run in a child process (the other core) with reports signed
// before the clock starts, so the figure is what one ingest core sustains.
import { execFileSync, spawn } from 'node:child_process'
import { createPublicKey, verify } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { connectAsync } from 'mqtt'
import { fromHex } from '@terrane/codec'
import { decodeSignedReport, encodeSignedReport, makeReport, reportSigningBytes, signReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { measure, p256VerifyLimitPerSecond, report } from '@terrane/bench'
import { deviceKeyObject } from '@terrane/attestation'
import {
  MemoryDeviceDirectory,
  createIngest,
  createIngestMetrics,
  createSessionToken,
  createSignaturePool,
  reportProcessor,
  reportsTopic,
  type SignaturePoolInit,
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

/** Reports through MQTT: publishers in a child process, the broker + processor in this process. */
async function throughMqtt(directory: MemoryDeviceDirectory, nowMs: number, signaturePool: SignaturePoolInit | false) {
  const total = devices * reportsPerDevice
  let accepted = 0
  let firstMs = 0
  let lastMs = 0
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  const ingest = createIngest({ chainId, signaturePool })({
    directory,
    sink: {
      onReport: () => {
        if (accepted++ === 0) firstMs = performance.now()
        if (accepted === total) {
          lastMs = performance.now()
          resolveDone()
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
  let timeout: NodeJS.Timeout | undefined
  await Promise.race([
    done,
    new Promise((_, reject) => (timeout = setTimeout(() => reject(new Error(`only ${accepted} of ${total} reports accepted`)), 300_000))),
  ])
  clearTimeout(timeout)
  await new Promise((resolve) => child.once('exit', resolve))
  await ingest.stop()
  return { rate: (total * 1000) / (lastMs - startMs), steadyRate: ((total - 1) * 1000) / (lastMs - firstMs), total }
}

/** OpenSSL's own ECDSA P-256 verify rate on one core (C, no JavaScript), if openssl is installed. */
function opensslVerifyPerSecond(): number | undefined {
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', '2', '-mr', 'ecdsap256'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    // -mr: "+F4:<curve index>:<bits>:<signs per second>:<verifies per second>"
    const line = out.split('\n').find((l) => l.startsWith('+F4:'))
    const verifiesPerSecond = Number(line?.split(':')[4])
    return verifiesPerSecond > 0 ? verifiesPerSecond : undefined
  } catch {
    return undefined
  }
}

async function main(): Promise<void> {
  const limit = p256VerifyLimitPerSecond({ durationMsMin: 2000 })
  const directory = new MemoryDeviceDirectory()
  for (const key of keys()) directory.set(key.deviceId, { publicKey: key.publicKey, status: 'active' })
  const nowMs = Date.now()
  // Interleaved by seq (as devices send concurrently): each device has at most 2048 / 64 = 32
  // reports in flight below, inside the 64-report window that tolerates the pool's reordering.
  const perDevice = signAll(nowMs)
  const signed = Array.from({ length: reportsPerDevice }, (_, seq) => perDevice.map((reports) => reports[seq]!)).flat()
  const processorOf = (signatures?: ReturnType<typeof createSignaturePool>) =>
    reportProcessor({ chainId })({
      clock: { nowMs: () => nowMs },
      directory,
      metrics: createIngestMetrics(),
      sink: { onReport: () => {} },
      ...(signatures === undefined ? {} : { signatures }),
    })

  // 1. What one P-256 verification costs through node:crypto, and how batching in workers scales it.
  const sample = signed.slice(0, 256).map((r) => {
    const decoded = decodeSignedReport(r.bytes)
    const publicKey = directory.get(decoded.report.deviceId)?.publicKey ?? new Uint8Array(0)
    return { publicKey, message: reportSigningBytes(chainId, decoded.report), signature: decoded.signature }
  })
  const spkiOf = (publicKey: Uint8Array) => deviceKeyObject(publicKey)?.export({ format: 'der', type: 'spki' }) ?? Buffer.alloc(0)
  const spkis = sample.map((s) => spkiOf(s.publicKey))
  let at = 0
  const parsedEachCall = measure(
    () => {
      const s = sample[at % sample.length]!
      const key = createPublicKey({ key: spkis[at++ % sample.length]!, format: 'der', type: 'spki' })
      if (!verify('sha256', s.message, { key, dsaEncoding: 'ieee-p1363' }, s.signature)) throw new Error('invalid')
      return 1
    },
    { durationMsMin: 1500 },
  ).opsPerSecond
  const raw = opensslVerifyPerSecond()
  const pool = createSignaturePool()
  await pool.ready()
  const batchItems = Array.from({ length: 16 }, () => sample).flat()
  const tPool = performance.now()
  let poolVerified = 0
  while (performance.now() - tPool < 3000) {
    const results = await pool.verifyBatch(batchItems)
    if (!results.every(Boolean)) throw new Error('pool refused a valid signature')
    poolVerified += results.length
  }
  const poolRate = (poolVerified * 1000) / (performance.now() - tPool)

  // 2. The processor alone (decode, checks, P-256 verify, seq window), no MQTT: inline, then pooled.
  const inline = processorOf()
  const t0 = performance.now()
  let okAlone = 0
  for (const r of signed) if (inline.handle(r.topic, r.bytes).ok) okAlone++
  const aloneRate = (signed.length * 1000) / (performance.now() - t0)
  if (okAlone !== signed.length) throw new Error(`processor accepted ${okAlone} of ${signed.length}`)
  const pooled = processorOf(pool)
  const t1 = performance.now()
  let okPooled = 0
  const inFlightMax = 2048
  for (let i = 0; i < signed.length; i += inFlightMax) {
    const verdicts = await Promise.all(signed.slice(i, i + inFlightMax).map((r) => pooled.submit(r.topic, r.bytes)))
    okPooled += verdicts.filter((v) => v.ok).length
  }
  const pooledRate = (signed.length * 1000) / (performance.now() - t1)
  if (okPooled !== signed.length) throw new Error(`pooled processor accepted ${okPooled} of ${signed.length}`)
  await pool.close()

  // 3. Through MQTT: the broker thread verifying inline (before), then with the worker pool.
  const mqttInline = await throughMqtt(directory, nowMs, false)
  const mqttPooled = await throughMqtt(directory, nowMs, {})
  const limitAfter = p256VerifyLimitPerSecond({ durationMsMin: 2000 })
  const ratioTo = 'P-256 verify/s, 1 core'
  const note = `${mqttPooled.total} reports from ${devices} devices, QoS 1 (PUBACK after the verdict), publishers in a child process`

  report('ingest', [
    {
      name: 'signed reports ingested + verified via MQTT, worker pool (aedes, QoS 1, loopback)',
      value: mqttPooled.rate,
      unit: 'reports/s',
      ratio: mqttPooled.rate / limit,
      ratioTo,
      target: '>= 10,000/s',
      note: `${note}; ${availableParallelism()} workers`,
    },
    {
      name: 'same, pool, steady state (first to last accepted)',
      value: mqttPooled.steadyRate,
      unit: 'reports/s',
      ratio: mqttPooled.steadyRate / limit,
      ratioTo,
    },
    {
      name: 'signed reports via MQTT, verified on the broker thread (signaturePool: false)',
      value: mqttInline.rate,
      unit: 'reports/s',
      ratio: mqttInline.rate / limit,
      ratioTo,
      note,
    },
    {
      name: 'report processor alone, inline (decode, checks, verify, seq window)',
      value: aloneRate,
      unit: 'reports/s',
      ratio: aloneRate / limit,
      ratioTo,
    },
    { name: 'report processor alone, submit() through the pool', value: pooledRate, unit: 'reports/s', ratio: pooledRate / limit, ratioTo },
    {
      name: 'signature pool verifyBatch (4096 items, batches of 64)',
      value: poolRate,
      unit: 'verifies/s',
      ratio: poolRate / limit,
      ratioTo,
    },
    {
      name: 'P-256 verify limit (node:crypto, cached KeyObject), before',
      value: limit,
      unit: 'verifies/s',
      note: `one report is ${signed[0]?.bytes.length ?? 0} bytes`,
    },
    { name: 'P-256 verify limit (node:crypto, cached KeyObject), after', value: limitAfter, unit: 'verifies/s' },
    {
      name: 'P-256 verify, KeyObject parsed on every call',
      value: parsedEachCall,
      unit: 'verifies/s',
      ratio: parsedEachCall / limit,
      ratioTo,
    },
    ...(raw === undefined
      ? []
      : [
          {
            name: 'P-256 verify, raw OpenSSL (openssl speed ecdsap256, C)',
            value: raw,
            unit: 'verifies/s',
            ratio: limit / raw,
            ratioTo: 'node:crypto share of raw',
          },
        ]),
  ])
}

if (process.env.TERRANE_BENCH_PUBLISHER !== undefined) await publisher()
else await main()
