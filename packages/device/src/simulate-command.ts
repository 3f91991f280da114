import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { toHex, randomBytesOf } from './simulate-support.ts'
import { MemoryDeviceDirectory, createIngest, metricValue, reportRejectReasons } from '@terrane/ingest'
import { DeviceError } from './errors.ts'
import { encodeOnboardingRequest } from './onboarding.ts'
import { verifyOnboardingRequest } from './onboarding-verify.ts'
import { simulateDevices } from './simulator.ts'
import type { Region } from './positions.ts'

export interface SimulateOptions {
  count: number
  region: Region
  seed: string
  chainId: string
  /** External broker; omitted: an embedded ingest is started on loopback. */
  brokerUrl?: string
  /** Challenge endpoint of an external Terrane ingest (token auth); omitted with --broker: anonymous. */
  challengeUrl?: string
  /** Heartbeat rounds. */
  rounds: number
  /** Beaconing devices per round (each beacon draws witness reports). */
  beacons: number
  /** Write onboarding requests (hex of canonical bytes, one per line) here. */
  outFile?: string
}

export interface SimulateSummary {
  devices: number
  onboarded: number
  heartbeats: number
  beacons: number
  witnesses: number
  /** Embedded ingest only: what it accepted and refused. */
  ingest?: { accepted: number; rejected: Record<string, number> }
  elapsedMs: number
}

const usage = `terrane device simulate [options]
  --count <n>                 devices (default 100)
  --region <lat,lng,radiusKm> area to place them in (default 52.52,13.405,20)
  --seed <s>                  positions, keys and owners derive from it (default 1)
  --chain-id <id>             (default terrane-devnet)
  --broker <url>              external MQTT broker (default: an embedded ingest on loopback)
  --challenge-url <url>       session challenges of an external Terrane ingest (token auth)
  --rounds <n>                heartbeat rounds (default 1)
  --beacons <n>               beaconing devices per round (default 0)
  --out <file>                write onboarding requests, hex, one per line`

/** Parses `terrane device simulate` arguments; throws DEVICE_CONFIG with the usage on error. */
export function parseSimulateArgs(argv: readonly string[]): SimulateOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        count: { type: 'string', default: '100' },
        region: { type: 'string', default: '52.52,13.405,20' },
        seed: { type: 'string', default: '1' },
        'chain-id': { type: 'string', default: 'terrane-devnet' },
        broker: { type: 'string' },
        'challenge-url': { type: 'string' },
        rounds: { type: 'string', default: '1' },
        beacons: { type: 'string', default: '0' },
        out: { type: 'string' },
      },
      strict: true,
    }))
  } catch (err) {
    throw new DeviceError('DEVICE_CONFIG', `${(err as Error).message}\n${usage}`)
  }
  const int = (name: string, text: string, max: number) => {
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n < 0 || n > max)
      throw new DeviceError('DEVICE_CONFIG', `--${name} must be an integer in 0..${max}\n${usage}`)
    return n
  }
  const parts = values.region.split(',').map(Number)
  const [lat, lng, radiusKm] = parts
  if (parts.length !== 3 || lat === undefined || lng === undefined || radiusKm === undefined || parts.some((x) => !Number.isFinite(x)))
    throw new DeviceError('DEVICE_CONFIG', `--region must be lat,lng,radiusKm\n${usage}`)
  return {
    count: int('count', values.count, 100_000),
    region: { lat, lng, radiusKm },
    seed: values.seed,
    chainId: values['chain-id'],
    rounds: int('rounds', values.rounds, 10_000),
    beacons: int('beacons', values.beacons, 100_000),
    ...(values.broker === undefined ? {} : { brokerUrl: values.broker }),
    ...(values['challenge-url'] === undefined ? {} : { challengeUrl: values['challenge-url'] }),
    ...(values.out === undefined ? {} : { outFile: values.out }),
  }
}

/**
 * Runs a simulation: builds the devices and their onboarding requests, verifies every request
 * (reference checks + X.509 attestation), then drives the devices through MQTT: to an embedded
 * ingest (whose directory holds the verified devices) or to an external broker.
 */
export async function runSimulation(options: SimulateOptions): Promise<SimulateSummary> {
  const startedMs = performance.now()
  const clock = { nowMs: () => Date.now() }
  const sim = await simulateDevices({ count: options.count, region: options.region, seed: options.seed, chainId: options.chainId })({
    clock,
  })
  const directory = new MemoryDeviceDirectory()
  const usedNonces = new Set<string>()
  let onboarded = 0
  for (const device of sim.devices) {
    const verdict = verifyOnboardingRequest(device.request, {
      chainId: options.chainId,
      manufacturers: [sim.manufacturer.registry],
      nowMs: clock.nowMs(),
      usedNonces,
    })
    if (!verdict.ok) throw new DeviceError('DEVICE_CONFIG', `simulated device ${device.deviceId} failed onboarding: ${verdict.reason}`)
    directory.set(verdict.deviceId, { publicKey: verdict.publicKey, status: 'active' })
    onboarded++
  }
  if (options.outFile !== undefined)
    await writeFile(options.outFile, sim.devices.map((d) => toHex(encodeOnboardingRequest(d.request))).join('\n') + '\n')

  let accepted = 0
  const ingest =
    options.brokerUrl === undefined
      ? createIngest({ chainId: options.chainId })({ directory, sink: { onReport: () => void accepted++ } })
      : undefined
  await ingest?.start()
  try {
    const brokerUrl = options.brokerUrl ?? ingest?.tcpUrl ?? ''
    const challengeUrl = options.challengeUrl ?? ingest?.challengeUrl
    await sim.connect({ brokerUrl, auth: challengeUrl === undefined ? { mode: 'anonymous' } : { mode: 'token', challengeUrl } })
    let heartbeats = 0
    let beacons = 0
    let witnesses = 0
    for (let round = 0; round < options.rounds; round++) {
      heartbeats += await sim.heartbeatAll()
      if (options.beacons > 0) {
        const result = await sim.beaconRound({ epoch: round, entropy: randomBytesOf(32), beaconers: options.beacons })
        beacons += result.beacons
        witnesses += result.witnesses
      }
    }
    const summary: SimulateSummary = { devices: sim.devices.length, onboarded, heartbeats, beacons, witnesses, elapsedMs: 0 }
    if (ingest !== undefined) {
      // Every publish was acknowledged (QoS 1); the ingest processes each before the next event turn.
      const sent = heartbeats + beacons + witnesses
      const deadline = performance.now() + 10_000
      while (accepted < sent && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
      const rejected: Record<string, number> = {}
      for (const reason of reportRejectReasons) {
        const n = await metricValue(ingest.metrics.registry, 'terrane_ingest_reports_total', { outcome: 'rejected', reason })
        if (n > 0) rejected[reason] = n
      }
      summary.ingest = { accepted, rejected }
    }
    await sim.stop()
    summary.elapsedMs = Math.round(performance.now() - startedMs)
    return summary
  } finally {
    await ingest?.stop()
  }
}

export { usage as simulateUsage }
