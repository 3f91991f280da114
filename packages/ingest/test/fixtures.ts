import { encodeSignedReport, makeReport, signReport, type DeviceReport } from '@terrane/reports'
import { deviceKeyFromSeed, type TestDeviceKey } from '@terrane/reports/testing'
import {
  MemoryDeviceDirectory,
  createIngestMetrics,
  reportProcessor,
  type Clock,
  type SignatureVerifier,
  type VerifiedReport,
} from '../src/index.ts'

export const chainId = 'terrane-test'
export const t0Ms = 1_800_000_000_000

export class ManualClock implements Clock {
  constructor(public ms = t0Ms) {}
  nowMs(): number {
    return this.ms
  }
}

export function testDevice(seed: string): TestDeviceKey {
  return deviceKeyFromSeed(seed)
}

export function heartbeat(device: TestDeviceKey, seq: number, timeMs = t0Ms): DeviceReport {
  return makeReport({ deviceId: device.deviceId, seq, timeMs, kind: 'heartbeat' }, { uptimeSeconds: seq, firmwareVersion: '1.0.0' })
}

export function signedBytes(device: TestDeviceKey, report: DeviceReport, chain = chainId): Uint8Array {
  return encodeSignedReport(signReport(chain, report, device.sign))
}

export function directoryOf(...devices: TestDeviceKey[]): MemoryDeviceDirectory {
  const directory = new MemoryDeviceDirectory()
  for (const d of devices) directory.set(d.deviceId, { publicKey: d.publicKey, status: 'active' })
  return directory
}

/** A processor over an in-memory directory that collects what it accepts. */
export function processorFixture(devices: TestDeviceKey[], init: { replayDevicesMax?: number; signatures?: SignatureVerifier } = {}) {
  const clock = new ManualClock()
  const directory = directoryOf(...devices)
  const metrics = createIngestMetrics()
  const accepted: VerifiedReport[] = []
  const { signatures, ...processorInit } = init
  const processor = reportProcessor({ chainId, ...processorInit })({
    clock,
    directory,
    metrics,
    sink: { onReport: (v) => void accepted.push(v) },
    ...(signatures === undefined ? {} : { signatures }),
  })
  return { clock, directory, metrics, accepted, processor }
}
