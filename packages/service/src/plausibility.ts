/** What a class of device can physically do; measurements beyond it are rejected, not clipped. */
export interface DeviceClass {
  readonly name: string
  readonly downloadKbpsMax: number
  readonly uploadKbpsMax: number
  /** Round trips faster than this are not believable over the device's radio. */
  readonly latencyMsMin: number
  /** Above this the sample is a failure, not a measurement. */
  readonly latencyMsMax: number
}

export const deviceClasses = {
  // Helium Mobile: speed tests above 300 Mbps are out of bounds.
  'mobile-5g': { name: 'mobile-5g', downloadKbpsMax: 300_000, uploadKbpsMax: 300_000, latencyMsMin: 1, latencyMsMax: 10_000 },
  // Wi-Fi 6 access point behind consumer backhaul (2.4 Gbps PHY ceiling, 1 Gbps typical fibre).
  'wifi-hotspot': { name: 'wifi-hotspot', downloadKbpsMax: 2_400_000, uploadKbpsMax: 2_400_000, latencyMsMin: 1, latencyMsMax: 10_000 },
  // LoRaWAN gateway backhaul over LTE Cat-M1: 1 Mbps peak.
  'lorawan-gateway': { name: 'lorawan-gateway', downloadKbpsMax: 1_000, uploadKbpsMax: 1_000, latencyMsMin: 10, latencyMsMax: 30_000 },
  // A data-centre service node (10 GbE).
  'service-node': { name: 'service-node', downloadKbpsMax: 10_000_000, uploadKbpsMax: 10_000_000, latencyMsMin: 0, latencyMsMax: 5_000 },
} as const satisfies Record<string, DeviceClass>

export interface SpeedSample {
  timeMs: number
  downloadKbps: number
  uploadKbps: number
  latencyMs: number
}

export type SampleRejectReason =
  | 'download-above-class-max'
  | 'upload-above-class-max'
  | 'latency-below-class-min'
  | 'latency-above-class-max'
  | 'zero-throughput'
  | 'from-the-future'
  | 'not-an-integer'

export type SampleVerdict = { isPlausible: true } | { isPlausible: false; reason: SampleRejectReason }

/** Checks one speed test (or probe) against the device class; `nowMs` is the verifier's clock. */
export function checkSpeedSample(sample: SpeedSample, deviceClass: DeviceClass, nowMs: number): SampleVerdict {
  const fields = [sample.timeMs, sample.downloadKbps, sample.uploadKbps, sample.latencyMs]
  if (!fields.every((n) => Number.isSafeInteger(n) && n >= 0)) return { isPlausible: false, reason: 'not-an-integer' }
  if (sample.timeMs > nowMs) return { isPlausible: false, reason: 'from-the-future' }
  if (sample.downloadKbps > deviceClass.downloadKbpsMax) return { isPlausible: false, reason: 'download-above-class-max' }
  if (sample.uploadKbps > deviceClass.uploadKbpsMax) return { isPlausible: false, reason: 'upload-above-class-max' }
  if (sample.latencyMs < deviceClass.latencyMsMin) return { isPlausible: false, reason: 'latency-below-class-min' }
  if (sample.latencyMs > deviceClass.latencyMsMax) return { isPlausible: false, reason: 'latency-above-class-max' }
  if (sample.downloadKbps === 0 && sample.uploadKbps === 0) return { isPlausible: false, reason: 'zero-throughput' }
  return { isPlausible: true }
}

export interface SpeedScoreInit {
  /** @default 48 h (Helium Mobile) */
  windowMs?: number
  /** @default 6 (Helium Mobile: the latest 6) */
  samplesMax?: number
  /** @default 2 (Helium Mobile: at least 2) */
  samplesMin?: number
}

export interface SpeedScore {
  /** 0..10_000: the lowest of the download, upload and latency tiers of the averages. */
  multiplierBps: number
  samplesUsed: number
  rejected: Array<{ timeMs: number; reason: SampleRejectReason }>
  averages?: { downloadKbps: number; uploadKbps: number; latencyMs: number }
  reason?: 'too-few-samples'
}

// Helium Mobile speed-test tiers (x1.0 / 0.75 / 0.5 / 0.25 / 0).
const downloadTiersKbps = [100_000, 75_000, 50_000, 30_000]
const uploadTiersKbps = [10_000, 8_000, 5_000, 2_000]
const latencyTiersMs = [50, 60, 75, 100]
const tierBps = [10_000, 7_500, 5_000, 2_500]

function tierAtLeast(value: number, thresholds: readonly number[]): number {
  const i = thresholds.findIndex((t) => value >= t)
  return i < 0 ? 0 : (tierBps[i] as number)
}

function tierBelow(value: number, thresholds: readonly number[]): number {
  const i = thresholds.findIndex((t) => value < t)
  return i < 0 ? 0 : (tierBps[i] as number)
}

/**
 * A device's speed multiplier from its recent samples: implausible ones are dropped with their
 * reason, then the latest `samplesMax` within `windowMs` of `nowMs` are averaged (integer means), so
 * a single lucky test does not count; fewer than `samplesMin` gives 0.
 */
export function speedScore(
  samples: readonly SpeedSample[],
  deviceClass: DeviceClass,
  nowMs: number,
  init: SpeedScoreInit = {},
): SpeedScore {
  const windowMs = init.windowMs ?? 48 * 3_600_000
  const samplesMax = init.samplesMax ?? 6
  const samplesMin = init.samplesMin ?? 2
  const rejected: SpeedScore['rejected'] = []
  const recent: SpeedSample[] = []
  for (const s of samples) {
    const v = checkSpeedSample(s, deviceClass, nowMs)
    if (!v.isPlausible) rejected.push({ timeMs: s.timeMs, reason: v.reason })
    else if (s.timeMs > nowMs - windowMs) recent.push(s)
  }
  recent.sort((a, b) => b.timeMs - a.timeMs)
  const used = recent.slice(0, samplesMax)
  if (used.length < samplesMin) return { multiplierBps: 0, samplesUsed: used.length, rejected, reason: 'too-few-samples' }
  const mean = (f: (s: SpeedSample) => number) => Math.floor(used.reduce((a, s) => a + f(s), 0) / used.length)
  const averages = { downloadKbps: mean((s) => s.downloadKbps), uploadKbps: mean((s) => s.uploadKbps), latencyMs: mean((s) => s.latencyMs) }
  const multiplierBps = Math.min(
    tierAtLeast(averages.downloadKbps, downloadTiersKbps),
    tierAtLeast(averages.uploadKbps, uploadTiersKbps),
    tierBelow(averages.latencyMs, latencyTiersMs),
  )
  return { multiplierBps, samplesUsed: used.length, rejected, averages }
}
