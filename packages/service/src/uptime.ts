import { decodeReportBody, verifyReport, type SignedDeviceReport } from '@terrane/reports'
import { ServiceError } from './errors.ts'

/** Bound on slots per epoch (epoch duration / heartbeat interval). */
export const uptimeSlotsMax = 100_000

export interface EpochWindow {
  /** Inclusive start, ms. */
  startMs: number
  /** Exclusive end, ms. */
  endMs: number
}

export interface UptimeGap {
  fromMs: number
  toMs: number
  missedBeats: number
}

export interface Uptime {
  /** Heartbeat slots in the epoch: ceil(duration / interval). */
  expectedBeats: number
  /** Slots holding at least one heartbeat. */
  beatSlots: number
  /** beatSlots / expectedBeats in basis points. */
  uptimeBps: number
  /** Maximal runs of empty slots, in time order. */
  gaps: UptimeGap[]
}

/**
 * Uptime of one device over one epoch from its heartbeat times. The epoch is cut into slots of
 * `intervalMs` (the heartbeat interval, a chain parameter); a slot is up when it holds a heartbeat.
 * Many beats in one slot count once, so a device cannot make up for downtime by bursting.
 * Helium Mobile asks for 12 hourly heartbeats a day; here the interval is a parameter.
 */
export function uptimeOfEpoch(heartbeatTimesMs: readonly number[], window: EpochWindow, intervalMs: number): Uptime {
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0)
    throw new ServiceError('SERVICE_BAD_CONFIG', 'intervalMs must be a positive integer')
  const durationMs = window.endMs - window.startMs
  if (!(durationMs > 0)) throw new ServiceError('SERVICE_BAD_CONFIG', 'epoch window must have a positive duration', { ...window })
  const expectedBeats = Math.ceil(durationMs / intervalMs)
  if (expectedBeats > uptimeSlotsMax) throw new ServiceError('SERVICE_BAD_CONFIG', `more than ${uptimeSlotsMax} slots per epoch`)
  const up = new Uint8Array(expectedBeats)
  for (const t of heartbeatTimesMs) if (t >= window.startMs && t < window.endMs) up[Math.floor((t - window.startMs) / intervalMs)] = 1
  let beatSlots = 0
  const gaps: UptimeGap[] = []
  let gapStart = -1
  for (let i = 0; i <= expectedBeats; i++) {
    const isUp = i === expectedBeats || up[i] === 1
    if (i < expectedBeats && isUp) beatSlots++
    if (!isUp && gapStart < 0) gapStart = i
    if (isUp && gapStart >= 0) {
      gaps.push({
        fromMs: window.startMs + gapStart * intervalMs,
        toMs: Math.min(window.endMs, window.startMs + i * intervalMs),
        missedBeats: i - gapStart,
      })
      gapStart = -1
    }
  }
  return { expectedBeats, beatSlots, uptimeBps: Math.floor((beatSlots * 10_000) / expectedBeats), gaps }
}

export type HeartbeatRejectReason = 'bad-signature' | 'not-heartbeat' | 'replayed-seq' | 'clock-skew' | 'malformed-body'

export interface ReceivedHeartbeat {
  signed: SignedDeviceReport
  /** When ingest received it (trusted clock); the device clock is only advisory. */
  receivedAtMs: number
}

export interface HeartbeatsVerdict {
  /** Ingest times of the accepted heartbeats. */
  acceptedTimesMs: number[]
  rejected: Array<{ index: number; reason: HeartbeatRejectReason }>
  /** Highest accepted seq (carry it to the next call). */
  lastSeq: number
}

/**
 * Filters a device's signed heartbeats: signature by the registered key for this chain, kind,
 * strictly increasing seq (replays refused), device clock within `clockSkewMsMax` of ingest time.
 * Reports are taken in the given order (ingest order).
 */
export function acceptHeartbeats(
  chainId: string,
  devicePublicKey: Uint8Array,
  heartbeats: readonly ReceivedHeartbeat[],
  init: { lastSeq?: number; clockSkewMsMax?: number } = {},
): HeartbeatsVerdict {
  const clockSkewMsMax = init.clockSkewMsMax ?? 5 * 60_000
  let lastSeq = init.lastSeq ?? -1
  const acceptedTimesMs: number[] = []
  const rejected: HeartbeatsVerdict['rejected'] = []
  heartbeats.forEach((h, index) => {
    const r = h.signed.report
    if (r.kind !== 'heartbeat') return rejected.push({ index, reason: 'not-heartbeat' })
    if (!verifyReport(chainId, h.signed, devicePublicKey)) return rejected.push({ index, reason: 'bad-signature' })
    if (r.seq <= lastSeq) return rejected.push({ index, reason: 'replayed-seq' })
    if (Math.abs(r.timeMs - h.receivedAtMs) > clockSkewMsMax) return rejected.push({ index, reason: 'clock-skew' })
    try {
      decodeReportBody(r)
    } catch {
      return rejected.push({ index, reason: 'malformed-body' })
    }
    lastSeq = r.seq
    acceptedTimesMs.push(h.receivedAtMs)
    return undefined
  })
  return { acceptedTimesMs, rejected, lastSeq }
}
