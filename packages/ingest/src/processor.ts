import { CodecError } from '@terrane/codec'
import { deviceIdFromPublicKey } from '@terrane/attestation'
import {
  decodeSignedReport,
  reportBytesMax,
  reportSigningBytes,
  verifyReport,
  type DeviceReport,
  type SignedDeviceReport,
} from '@terrane/reports'
import { IngestError } from './errors.ts'
import { parseDeviceTopic } from './topics.ts'
import { ReplayGuard, seqWindowBits } from './replay.ts'
import type { Clock, DeviceDirectory, DeviceRecord } from './components.ts'
import type { SignatureVerifier } from './pool/signature-pool.ts'
import type { IngestMetrics } from './metrics.ts'

/** Why a report was refused: the vocabulary of the `reason` label and of operators' dashboards. */
export type ReportRejectReason =
  | 'topic_invalid' // not terrane/v1/devices/<deviceId>/reports
  | 'oversized' // payload above reportBytesMax
  | 'malformed' // not the canonical encoding of a SignedDeviceReport (or its body)
  | 'topic_mismatch' // the report's device id is not the topic's
  | 'unknown_device' // not in the device directory
  | 'device_inactive' // suspended or revoked
  | 'stale' // device time older than reportAgeMsMax
  | 'future' // device time ahead by more than clockSkewMsMax
  | 'bad_signature' // not signed by the registered key for this chain
  | 'duplicate' // this seq was already accepted (inside the window)
  | 'replayed' // seq below the window: an old report sent again
  | 'capacity' // no room to track a new device's sequence window
  | 'overloaded' // the signature pool's queue is full (submit only)
  | 'verifier_failed' // the signature worker holding it failed (submit only)

export const reportRejectReasons: readonly ReportRejectReason[] = [
  'topic_invalid',
  'oversized',
  'malformed',
  'topic_mismatch',
  'unknown_device',
  'device_inactive',
  'stale',
  'future',
  'bad_signature',
  'duplicate',
  'replayed',
  'capacity',
  'overloaded',
  'verifier_failed',
]

/** A report that passed every check, as handed to the sink. */
export interface VerifiedReport {
  deviceId: string
  report: DeviceReport
  signed: SignedDeviceReport
  /** The exact bytes received (canonical, so they re-encode identically). */
  bytes: Uint8Array
  /** Ingest clock when it was accepted. */
  receivedAtMs: number
}

export type IngestVerdict =
  { ok: true; verified: VerifiedReport } | { ok: false; reason: ReportRejectReason; deviceId?: string; detail?: string }

/** Receives every verified report, once. Errors it throws are counted, never propagated. */
export interface ReportSink {
  onReport(verified: VerifiedReport): void | Promise<void>
}

export interface ReportProcessorInit {
  chainId: string
  /** Oldest device time accepted, relative to the ingest clock. @default 900_000 (15 min) */
  reportAgeMsMax?: number
  /** How far the device clock may run ahead. @default 30_000 */
  clockSkewMsMax?: number
  /** Devices whose sequence window is tracked at once. @default 100_000 */
  replayDevicesMax?: number
}

export interface ReportProcessorComponents {
  clock: Clock
  directory: DeviceDirectory
  sink: ReportSink
  metrics: IngestMetrics
  /** Where `submit` verifies signatures (a worker pool); without it, `submit` verifies inline. */
  signatures?: SignatureVerifier
}

/** Checks each message in order (size, topic, decode, owner, registration, time, seq, signature). */
export interface ReportProcessor {
  /** Every check on this thread, signature included. */
  handle(topic: string, payload: Uint8Array): IngestVerdict
  /**
   * The same checks in the same order, with the signature verified by the `signatures` component
   * (off this thread). The sequence window is re-checked and committed only once the signature
   * is known valid, so two copies of one report racing through the pool are accepted once.
   */
  submit(topic: string, payload: Uint8Array): Promise<IngestVerdict>
  readonly trackedDevices: number
}

export function reportProcessor(init: ReportProcessorInit) {
  return (components: ReportProcessorComponents): ReportProcessor => new DefaultReportProcessor(components, init)
}

class DefaultReportProcessor implements ReportProcessor {
  readonly #c: ReportProcessorComponents
  readonly #chainId: string
  readonly #reportAgeMsMax: number
  readonly #clockSkewMsMax: number
  readonly #replay: ReplayGuard

  constructor(components: ReportProcessorComponents, init: ReportProcessorInit) {
    this.#c = components
    this.#chainId = init.chainId
    this.#reportAgeMsMax = init.reportAgeMsMax ?? 900_000
    this.#clockSkewMsMax = init.clockSkewMsMax ?? 30_000
    if (!(this.#reportAgeMsMax > 0) || !(this.#clockSkewMsMax >= 0))
      throw new IngestError('INGEST_CONFIG', 'reportAgeMsMax must be positive and clockSkewMsMax non-negative')
    this.#replay = new ReplayGuard({ reportAgeMsMax: this.#reportAgeMsMax, devicesMax: init.replayDevicesMax ?? 100_000 })
  }

  get trackedDevices(): number {
    return this.#replay.size
  }

  handle(topic: string, payload: Uint8Array): IngestVerdict {
    const checked = this.#precheck(topic, payload)
    if ('ok' in checked) return this.#settle(payload, checked)
    const isValid = verifyReport(this.#chainId, checked.signed, checked.record.publicKey)
    return this.#settle(payload, this.#commit(checked, payload, isValid))
  }

  async submit(topic: string, payload: Uint8Array): Promise<IngestVerdict> {
    const signatures = this.#c.signatures
    if (signatures === undefined) return this.handle(topic, payload)
    const checked = this.#precheck(topic, payload)
    if ('ok' in checked) return this.#settle(payload, checked)
    const { deviceId, signed, record } = checked
    // verifyReport's own preconditions, kept here: the registered key is this device id's key
    // and the chain id encodes; the worker then does only the ECDSA verification.
    let message: Uint8Array
    try {
      if (deviceIdFromPublicKey(record.publicKey) !== deviceId)
        return this.#settle(payload, { ok: false, reason: 'bad_signature', deviceId })
      message = reportSigningBytes(this.#chainId, signed.report)
    } catch {
      return this.#settle(payload, { ok: false, reason: 'bad_signature', deviceId })
    }
    const pending = signatures.tryVerify({ publicKey: record.publicKey, message, signature: signed.signature })
    if (pending === undefined) return this.#settle(payload, { ok: false, reason: 'overloaded', deviceId })
    this.#c.metrics.setSignaturesPending(signatures.pending)
    let isValid: boolean
    try {
      isValid = await pending
      this.#c.metrics.setSignaturesPending(signatures.pending)
    } catch (err) {
      return this.#settle(payload, { ok: false, reason: 'verifier_failed', deviceId, detail: (err as Error).message })
    }
    return this.#settle(payload, this.#commit(checked, payload, isValid))
  }

  /** Counts the verdict and hands an accepted report to the sink. */
  #settle(payload: Uint8Array, verdict: IngestVerdict): IngestVerdict {
    const m = this.#c.metrics
    m.reportBytes(payload.length)
    if (!verdict.ok) {
      m.reportRejected(verdict.reason)
      return verdict
    }
    m.reportAccepted()
    m.setTrackedDevices(this.#replay.size)
    try {
      const pending = this.#c.sink.onReport(verdict.verified)
      if (pending !== undefined) pending.catch(() => m.sinkFailed())
    } catch {
      m.sinkFailed()
    }
    return verdict
  }

  /** Every check before the signature: size, topic, decode, owner, registration, age, seq. */
  #precheck(topic: string, payload: Uint8Array): Prechecked | Rejection {
    if (payload.length > reportBytesMax) return { ok: false, reason: 'oversized', detail: `${payload.length} > ${reportBytesMax} bytes` }
    const parsed = parseDeviceTopic(topic)
    if (parsed === undefined || parsed.channel !== 'reports') return { ok: false, reason: 'topic_invalid' }
    const { deviceId } = parsed
    let signed: SignedDeviceReport
    try {
      signed = decodeSignedReport(payload)
    } catch (err) {
      if (err instanceof CodecError) return { ok: false, reason: 'malformed', deviceId, detail: err.code }
      throw err
    }
    const { report } = signed
    if (report.deviceId !== deviceId) return { ok: false, reason: 'topic_mismatch', deviceId }
    const record = this.#c.directory.get(deviceId)
    if (record === undefined) return { ok: false, reason: 'unknown_device', deviceId }
    if (record.status !== 'active') return { ok: false, reason: 'device_inactive', deviceId }
    const nowMs = this.#c.clock.nowMs()
    if (report.timeMs < nowMs - this.#reportAgeMsMax) return { ok: false, reason: 'stale', deviceId }
    if (report.timeMs > nowMs + this.#clockSkewMsMax) return { ok: false, reason: 'future', deviceId }
    // Sequence before signature: a duplicate costs no verification. Committed only after it.
    const seqCheck = this.#replay.check(deviceId, report.seq)
    if (seqCheck !== 'fresh') return { ok: false, reason: seqCheck, deviceId }
    return { deviceId, signed, record, nowMs }
  }

  /** After the signature: re-check the window (another copy may have won meanwhile), then commit. */
  #commit(checked: Prechecked, payload: Uint8Array, isValid: boolean): IngestVerdict {
    const { deviceId, signed, nowMs } = checked
    const { report } = signed
    if (!isValid) return { ok: false, reason: 'bad_signature', deviceId }
    const seqCheck = this.#replay.check(deviceId, report.seq)
    if (seqCheck !== 'fresh') return { ok: false, reason: seqCheck, deviceId }
    if (!this.#replay.commit(deviceId, report.seq, report.timeMs, nowMs)) return { ok: false, reason: 'capacity', deviceId }
    return { ok: true, verified: { deviceId, report, signed, bytes: payload, receivedAtMs: nowMs } }
  }
}

interface Prechecked {
  deviceId: string
  signed: SignedDeviceReport
  record: DeviceRecord
  nowMs: number
}

type Rejection = Extract<IngestVerdict, { ok: false }>

export { seqWindowBits }
