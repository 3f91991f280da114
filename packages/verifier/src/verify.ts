import { hash, type KeyObject } from 'node:crypto'
import { bytesEqual } from '@terrane/codec'
import { deviceKeyObject, verifyWithDeviceKeyObject } from '@terrane/attestation'
import {
  beaconPayload,
  reportSigningBytes,
  type BeaconBody,
  type DeviceReport,
  type SignedDeviceReport,
  type WitnessBody,
} from '@terrane/reports'
import { decodeBeaconBody, decodeWitnessBody, signingBytesCapacity, writeSigningBytes } from './fast.ts'
import { cellToParent, gridDistance } from 'h3-js'
import { cellCentre, cellCentreCacheEntriesMax, distanceMeters, isLocationCell } from './geo.ts'
import { freeSpaceRssiMaxDbm } from './model.ts'
import { scheduleChallenges, type ChallengeSchedule, type ChallengeSlot } from './challenges.ts'
import type { BeaconReason, DeviceHistory, DeviceRecord, EpochInputs, Verdict, WitnessReason } from './types.ts'
/** A beacon that passed the report checks (before witness-dependent rules). */
export interface BeaconRecord {
  reportId: Uint8Array
  deviceId: string
  seq: number
  slot: ChallengeSlot
  timeMs: number
  body: BeaconBody
  payloadHash: Uint8Array
  /**
   * Radio evidence: every witness report naming this beacon's payload in time, on its frequency and
   * region, from a located device (first report per device), before the distance and RSSI rules.
   * The statistical defences read receptions from here, whatever the rules later decided.
   */
  heard: Array<{ deviceId: string; rssiDbm: number }>
  /** Witness reports that passed every rule but reciprocity and selection. */
  passed: WitnessRecord[]
  /** Valid witnesses (reciprocity included). */
  valid: WitnessRecord[]
  /** Valid witnesses chosen for rewards by verifiable randomness (at most witnessesPerBeaconMax). */
  selected: WitnessRecord[]
  status: 'pending' | 'valid' | 'rejected'
  reason?: BeaconReason
}

export interface WitnessRecord {
  reportId: Uint8Array
  deviceId: string
  seq: number
  body: WitnessBody
  beacon: BeaconRecord
  distanceMeters: number
  rssiDbm: number
  status: 'pending' | 'valid' | 'selected' | 'unselected' | 'rejected'
  reason?: WitnessReason
}

export interface VerificationResult {
  verdicts: Verdict[]
  beacons: BeaconRecord[]
  witnesses: WitnessRecord[]
  /** Report ids of accepted reports (valid beacons, valid witnesses) in canonical order. */
  acceptedReportIds: Uint8Array[]
  schedule: ChallengeSchedule
  /** Valid-answer count per device: beacons that answered a challenge correctly. */
  answered: Map<string, number>
  /** Devices that filed at least one well-signed report (online in this epoch). */
  active: Set<string>
  lastSeq: Map<string, number>
  /** Devices with a witness report that passed the rules (for the next epoch's reciprocity). */
  witnessedAtMs: Map<string, number>
  beaconedAtMs: Map<string, number>
}

const pairKey = (beaconer: string, witness: string): string => `${beaconer}\u0000${witness}`

/** Bytes of signing bytes written, hashed and verified as one chunk (bounds pass 0's memory at any epoch size). */
export const signingSlabBytes = 1 << 20

/** Pairs farther apart than this are never fewer than `witnessCellsMin` (8) res-11 cells apart. */
export const res11CheckMeters = 1_000

const res11Parents = new Map<string, string>()

/**
 * `res11GridDistance` (geo.ts) with the res-11 parents cached per cell (bounded like the cell-centre cache):
 * a device's asserted cell is the same in every report and every epoch. Infinity where H3 cannot compute it.
 */
function res11Distance(a: string, b: string): number {
  try {
    let pa = res11Parents.get(a)
    if (pa === undefined) {
      if (res11Parents.size >= cellCentreCacheEntriesMax) res11Parents.clear()
      res11Parents.set(a, (pa = cellToParent(a, 11)))
    }
    let pb = res11Parents.get(b)
    if (pb === undefined) {
      if (res11Parents.size >= cellCentreCacheEntriesMax) res11Parents.clear()
      res11Parents.set(b, (pb = cellToParent(b, 11)))
    }
    return gridDistance(pa, pb)
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** SHA-256 in one call (node:crypto's one-shot: no Hash object per report), as a plain Uint8Array. */
function sha256Once(bytes: Uint8Array): Uint8Array {
  const digest = hash('sha256', bytes, 'buffer')
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/**
 * `verifyDeviceSignature` (@terrane/attestation) with the device's KeyObject looked up once per epoch
 * instead of once per report (the same rules: @terrane/attestation's `verifyWithDeviceKeyObject`).
 */
export const verifyWithKeyObject = verifyWithDeviceKeyObject

const utf8 = new TextEncoder()
const selectionTag = utf8.encode('TERRANE-WITNESS-SELECT-V1')
const hashBytes = 32

/** Bytewise order of two report ids (32 bytes each), for the verdicts' canonical order. */
function compareIds(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/** The first 6 bytes of an id as an exact number (below 2^48): orders ids as bytewise order does, up to ties. */
function idPrefix(id: Uint8Array): number {
  let x = 0
  for (let i = 0; i < 6; i++) x = x * 256 + (id[i] ?? 0)
  return x
}

/**
 * Applies every fixed rule of Proof-of-Coverage to the epoch's reports. Deterministic: reports are
 * processed in canonical order (device id, then seq), so the input order never changes a verdict.
 */
export function verifyReports(inputs: EpochInputs): VerificationResult {
  const { params, epoch } = inputs
  const devices = new Map<string, DeviceRecord>()
  for (const d of inputs.devices) devices.set(d.deviceId, d)
  const history = inputs.history.devices
  const deniedKeys = new Set(inputs.denylist?.deviceIds ?? [])
  const deniedPairs = new Set((inputs.denylist?.pairs ?? []).map(([b, w]) => pairKey(b, w)))
  const failedAttestation = new Set(inputs.attestationFailed ?? [])
  const slotsByEntropy = new Map<string, ChallengeSlot>()
  for (const s of inputs.slots) slotsByEntropy.set(Buffer.from(s.entropy).toString('hex'), s)

  const lastChallengeMs = new Map<string, number>()
  for (const [id, h] of history) if (h.lastChallengeMs !== undefined) lastChallengeMs.set(id, h.lastChallengeMs)
  const schedulable = inputs.devices.filter((d) => d.location !== undefined).map((d) => d.deviceId)
  const schedule = scheduleChallenges({ params, slots: inputs.slots, deviceIds: schedulable, lastChallengeMs })

  const verdicts: Verdict[] = []
  const active = new Set<string>()
  const lastSeq = new Map<string, number>()
  const beacons: BeaconRecord[] = []
  const witnessQueue: number[] = []
  const witnessBodies: WitnessBody[] = []
  const witnesses: WitnessRecord[] = []
  const beaconSlots = new Set<string>()

  const sorted = [...inputs.reports].sort((a, b) =>
    a.report.deviceId === b.report.deviceId ? a.report.seq - b.report.seq : a.report.deviceId < b.report.deviceId ? -1 : 1,
  )
  const count = sorted.length

  // Pass 0: every signature, in tight loops. Interleaving other work between verifications evicts the P-256
  // tables from the CPU caches (measured: about 1.4x slower per verification with the rules interleaved,
  // and 4% slower with only the report-id hash interleaved). So the signing bytes of a chunk of reports are
  // written into one slab, then hashed (the report ids), then verified, each in its own loop.
  const reportIds: Uint8Array[] = new Array<Uint8Array>(count)
  const signatureValid = new Uint8Array(count)
  const keyObjects = new Map<string, KeyObject | undefined>()
  const capacity = signingBytesCapacity(params.chainId)
  const slab = new Uint8Array(Math.max(signingSlabBytes, capacity))
  const chunkKeys: Array<KeyObject | undefined> = []
  const chunkMessages: Uint8Array[] = []
  for (let start = 0; start < count;) {
    let end = start
    let offset = 0
    chunkKeys.length = 0
    chunkMessages.length = 0
    for (; end < count && slab.length - offset >= capacity; end++) {
      const report = (sorted[end] as SignedDeviceReport).report
      const length = writeSigningBytes(params.chainId, report, slab.subarray(offset))
      let message: Uint8Array
      if (length >= 0) {
        message = slab.subarray(offset, offset + length)
        offset += length
      } else message = reportSigningBytes(params.chainId, report)
      chunkMessages.push(message)
      const device = devices.get(report.deviceId)
      let key: KeyObject | undefined
      if (device !== undefined) {
        key = keyObjects.get(device.deviceId)
        if (key === undefined && !keyObjects.has(device.deviceId)) {
          key = deviceKeyObject(device.publicKey)
          keyObjects.set(device.deviceId, key)
        }
      }
      chunkKeys.push(key)
    }
    for (let i = start; i < end; i++) reportIds[i] = sha256Once(chunkMessages[i - start] as Uint8Array)
    for (let i = start; i < end; i++)
      if (verifyWithKeyObject(chunkKeys[i - start], chunkMessages[i - start] as Uint8Array, (sorted[i] as SignedDeviceReport).signature))
        signatureValid[i] = 1
    start = end
  }

  const reject = (i: number, reason: string): void => {
    const report = (sorted[i] as SignedDeviceReport).report
    verdicts.push({ reportId: reportIds[i] as Uint8Array, deviceId: report.deviceId, kind: report.kind, status: 'rejected', reason })
  }

  // Pass 1: envelope rules shared by every kind, then beacon pre-checks.
  for (let i = 0; i < count; i++) {
    const report = (sorted[i] as SignedDeviceReport).report
    const reportId = reportIds[i] as Uint8Array
    const device = devices.get(report.deviceId)
    if (device === undefined) {
      reject(i, 'unknown_device')
      continue
    }
    if (signatureValid[i] !== 1) {
      reject(i, 'bad_signature')
      continue
    }
    active.add(report.deviceId)
    const previousSeq = lastSeq.get(report.deviceId) ?? history.get(report.deviceId)?.lastSeq ?? -1
    if (report.seq <= previousSeq) {
      reject(i, 'replayed')
      continue
    }
    lastSeq.set(report.deviceId, report.seq)
    if (report.kind !== 'beacon' && report.kind !== 'witness') {
      verdicts.push({ reportId, deviceId: report.deviceId, kind: report.kind, status: 'other_kind' })
      continue
    }
    let body: BeaconBody | WitnessBody
    try {
      body =
        report.kind === 'witness'
          ? decodeWitnessBody(report as DeviceReport & { kind: 'witness' })
          : decodeBeaconBody(report as DeviceReport & { kind: 'beacon' })
    } catch {
      reject(i, 'malformed_body')
      continue
    }
    if (deniedKeys.has(report.deviceId)) {
      reject(i, 'denylisted_key')
      continue
    }
    if (failedAttestation.has(report.deviceId)) {
      reject(i, 'attestation_failed')
      continue
    }
    if (report.kind === 'witness') {
      witnessQueue.push(i)
      witnessBodies.push(body as WitnessBody)
      continue
    }
    const beacon = body as BeaconBody
    if (device.location === undefined) {
      reject(i, 'no_location')
      continue
    }
    const slot = slotsByEntropy.get(Buffer.from(beacon.entropy).toString('hex'))
    if (slot === undefined || beacon.epoch !== epoch || report.timeMs < slot.startMs || report.timeMs >= slot.endMs) {
      reject(i, 'stale_entropy')
      continue
    }
    if (!(schedule.bySlot.get(slot.slot)?.has(report.deviceId) ?? false)) {
      reject(i, 'not_challenged')
      continue
    }
    // With local entropy the payload is unknowable before the beacon is heard; a verifier that requires it
    // refuses beacons whose payload follows from public data alone.
    if (
      (params.localEntropyRequired && beacon.localEntropy === undefined) ||
      beacon.payload.length === 0 || // beaconPayload refuses length 0: an empty payload must not throw here
      !bytesEqual(beacon.payload, beaconPayload(beacon.entropy, report.deviceId, beacon.payload.length, beacon.localEntropy))
    ) {
      reject(i, 'payload_mismatch')
      continue
    }
    const beaconKey = `${report.deviceId}\u0000${slot.slot}`
    if (beaconSlots.has(beaconKey)) {
      reject(i, 'duplicate')
      continue
    }
    beaconSlots.add(beaconKey)
    beacons.push({
      reportId,
      deviceId: report.deviceId,
      seq: report.seq,
      slot,
      timeMs: report.timeMs,
      body: beacon,
      payloadHash: sha256Once(beacon.payload),
      heard: [],
      passed: [],
      valid: [],
      selected: [],
      status: 'pending',
    })
  }

  const beaconsByDevice = new Map<string, BeaconRecord[]>()
  for (const b of beacons) {
    const list = beaconsByDevice.get(b.deviceId)
    if (list === undefined) beaconsByDevice.set(b.deviceId, [b])
    else list.push(b)
  }

  // Pass 2: witness rules against the beacons that passed their checks.
  const rejectWitness = (i: number, reason: WitnessReason, beacon?: BeaconRecord): void => {
    const v: Verdict = {
      reportId: reportIds[i] as Uint8Array,
      deviceId: (sorted[i] as SignedDeviceReport).report.deviceId,
      kind: 'witness',
      status: 'rejected',
      reason,
    }
    if (beacon !== undefined) v.beaconReportId = beacon.reportId
    verdicts.push(v)
  }
  // Witnesses that passed every rule, per beacon (a second report of the same pair is a duplicate).
  const passedBy = new Map<BeaconRecord, Set<string>>()
  for (let q = 0; q < witnessQueue.length; q++) {
    const i = witnessQueue[q] as number
    const body = witnessBodies[q] as WitnessBody
    const report = (sorted[i] as SignedDeviceReport).report
    const witnessId = report.deviceId
    const witness = devices.get(witnessId) as DeviceRecord
    if (body.beaconDeviceId === witnessId) {
      rejectWitness(i, 'self_witness')
      continue
    }
    if (body.epoch !== epoch) {
      rejectWitness(i, 'stale_entropy')
      continue
    }
    const candidates = beaconsByDevice.get(body.beaconDeviceId)
    if (candidates === undefined) {
      rejectWitness(i, 'unknown_beacon')
      continue
    }
    if (deniedPairs.size > 0 && deniedPairs.has(pairKey(body.beaconDeviceId, witnessId))) {
      rejectWitness(i, 'denylisted_pair')
      continue
    }
    // The beacon this report answers: the one whose payload it names, else the nearest in time.
    let beacon: BeaconRecord | undefined
    for (const b of candidates)
      if (bytesEqual(b.payloadHash, body.beaconPayloadHash)) {
        beacon = b
        break
      }
    const isPayloadMatch = beacon !== undefined
    beacon ??= candidates.reduce((best, b) =>
      Math.abs(b.timeMs - body.receivedAtMs) < Math.abs(best.timeMs - body.receivedAtMs) ? b : best,
    )
    const delayMs = body.receivedAtMs - beacon.timeMs
    if (delayMs < 0 || delayMs > params.witnessDelayMsMax) {
      rejectWitness(i, 'late_witness', beacon)
      continue
    }
    if (!isPayloadMatch) {
      rejectWitness(i, 'payload_mismatch', beacon)
      continue
    }
    if (Math.abs(body.frequencyHz - beacon.body.frequencyHz) > params.frequencyOffsetHzMax) {
      rejectWitness(i, 'frequency_mismatch', beacon)
      continue
    }
    const beaconer = devices.get(beacon.deviceId) as DeviceRecord
    if (witness.region !== beaconer.region) {
      rejectWitness(i, 'region_mismatch', beacon)
      continue
    }
    if (witness.location === undefined || !isLocationCell(witness.location)) {
      rejectWitness(i, 'no_location', beacon)
      continue
    }
    const rssiDbm = body.rssiCentiDbm / 100
    if (!beacon.heard.some((h) => h.deviceId === witnessId)) beacon.heard.push({ deviceId: witnessId, rssiDbm })
    const beaconerLocation = beaconer.location as string
    const distance = distanceMeters(cellCentre(beaconerLocation), cellCentre(witness.location))
    // 8 res-11 cells are about 400 m: only pairs within 1 km need the exact grid distance (over 200,000
    // random pairs on the globe, none under 8 cells apart had res-12 centres more than 419 m apart).
    if (distance < res11CheckMeters && res11Distance(beaconerLocation, witness.location) < params.witnessCellsMin) {
      rejectWitness(i, 'too_close', beacon)
      continue
    }
    if (distance > params.witnessDistanceMetersMax) {
      rejectWitness(i, 'too_far', beacon)
      continue
    }
    const eirpDbm = beacon.body.txPowerDbm + beacon.body.antennaGainDbi
    if (rssiDbm > freeSpaceRssiMaxDbm(distance, beacon.body.frequencyHz, eirpDbm, witness.antennaGainDbi)) {
      rejectWitness(i, 'rssi_above_free_space', beacon)
      continue
    }
    let passed = passedBy.get(beacon)
    if (passed === undefined) passedBy.set(beacon, (passed = new Set()))
    if (passed.has(witnessId)) {
      rejectWitness(i, 'duplicate', beacon)
      continue
    }
    passed.add(witnessId)
    const record: WitnessRecord = {
      reportId: reportIds[i] as Uint8Array,
      deviceId: witnessId,
      seq: report.seq,
      body,
      beacon,
      distanceMeters: distance,
      rssiDbm,
      status: 'pending',
    }
    beacon.passed.push(record)
    witnesses.push(record)
  }

  // Reciprocity (Helium: 48 h), with the zero-witness gap closed: a beacon only counts as
  // "beaconed" when some witness report passed the rules for it.
  const recent = (h: DeviceHistory | undefined, field: 'lastBeaconMs' | 'lastWitnessMs', nowMs: number): boolean => {
    const at = h?.[field]
    return at !== undefined && nowMs - at <= params.reciprocityWindowMs
  }
  const epochStartMs = Math.min(...inputs.slots.map((s) => s.startMs))
  const witnessedAtMs = new Map<string, number>()
  for (const w of witnesses) witnessedAtMs.set(w.deviceId, Math.max(witnessedAtMs.get(w.deviceId) ?? 0, w.body.receivedAtMs))
  const beaconedAtMs = new Map<string, number>()
  for (const b of beacons) if (b.passed.length > 0) beaconedAtMs.set(b.deviceId, Math.max(beaconedAtMs.get(b.deviceId) ?? 0, b.timeMs))
  const hasWitnessed = (id: string): boolean => witnessedAtMs.has(id) || recent(history.get(id), 'lastWitnessMs', epochStartMs)
  const hasBeaconed = (id: string): boolean => beaconedAtMs.has(id) || recent(history.get(id), 'lastBeaconMs', epochStartMs)

  // Selection draws: SHA-256(tag || slot entropy || beacon id || witness id), written into one buffer.
  const drawInput = new Uint8Array(selectionTag.length + 3 * hashBytes)
  drawInput.set(selectionTag, 0)
  const ranked: Array<{ w: WitnessRecord; high: number; low: number }> = []
  const answered = new Map<string, number>()
  for (const b of beacons) {
    answered.set(b.deviceId, (answered.get(b.deviceId) ?? 0) + 1)
    if (b.passed.length === 0) {
      b.status = 'rejected'
      b.reason = 'no_witnesses'
    } else if (!hasWitnessed(b.deviceId)) {
      b.status = 'rejected'
      b.reason = 'not_reciprocal'
    } else b.status = 'valid'
    for (const w of b.passed) {
      if (b.status === 'rejected') {
        w.status = 'rejected'
        w.reason = 'beacon_invalid'
      } else if (!hasBeaconed(w.deviceId)) {
        w.status = 'rejected'
        w.reason = 'not_reciprocal'
      } else {
        w.status = 'valid'
        b.valid.push(w)
      }
    }
    if (b.valid.length === 0) continue
    // Fair selection (not first-come): rank valid witnesses by the first 8 bytes of the draw (big-endian,
    // as hashDraw reads them), ties in canonical order (the sort is stable).
    const isStandard = b.slot.entropy.length === hashBytes && b.reportId.length === hashBytes
    if (isStandard) {
      drawInput.set(b.slot.entropy, selectionTag.length)
      drawInput.set(b.reportId, selectionTag.length + hashBytes)
    }
    ranked.length = 0
    for (const w of b.valid) {
      let digest: Uint8Array
      if (isStandard && w.reportId.length === hashBytes) {
        drawInput.set(w.reportId, selectionTag.length + 2 * hashBytes)
        digest = sha256Once(drawInput)
      } else digest = sha256Once(Buffer.concat([selectionTag, b.slot.entropy, b.reportId, w.reportId]))
      const high =
        (digest[0] as number) * 0x1000000 + (((digest[1] as number) << 16) | ((digest[2] as number) << 8) | (digest[3] as number))
      const low = (digest[4] as number) * 0x1000000 + (((digest[5] as number) << 16) | ((digest[6] as number) << 8) | (digest[7] as number))
      ranked.push({ w, high, low })
    }
    ranked.sort((x, y) => (x.high !== y.high ? x.high - y.high : x.low - y.low))
    for (let k = 0; k < ranked.length; k++) {
      const w = (ranked[k] as (typeof ranked)[number]).w
      w.status = k < params.witnessesPerBeaconMax ? 'selected' : 'unselected'
      if (w.status === 'selected') b.selected.push(w)
    }
  }

  for (const b of beacons) {
    const v: Verdict = { reportId: b.reportId, deviceId: b.deviceId, kind: 'beacon', status: b.status === 'valid' ? 'valid' : 'rejected' }
    if (b.reason !== undefined) v.reason = b.reason
    verdicts.push(v)
  }
  for (const w of witnesses) {
    const v: Verdict = {
      reportId: w.reportId,
      deviceId: w.deviceId,
      kind: 'witness',
      status: w.status === 'selected' || w.status === 'unselected' ? w.status : 'rejected',
      beaconReportId: w.beacon.reportId,
    }
    if (w.reason !== undefined) v.reason = w.reason
    verdicts.push(v)
  }
  // Canonical order: by report id, bytewise (ties, a report filed twice, keep the order above).
  const prefixes = new Float64Array(verdicts.length)
  const order: number[] = new Array<number>(verdicts.length)
  for (let k = 0; k < verdicts.length; k++) {
    prefixes[k] = idPrefix((verdicts[k] as Verdict).reportId)
    order[k] = k
  }
  order.sort(
    (x, y) =>
      (prefixes[x] as number) - (prefixes[y] as number) ||
      compareIds((verdicts[x] as Verdict).reportId, (verdicts[y] as Verdict).reportId) ||
      x - y,
  )
  const canonical = order.map((k) => verdicts[k] as Verdict)
  const acceptedReportIds: Uint8Array[] = []
  for (const v of canonical)
    if (v.status === 'valid' || v.status === 'selected' || v.status === 'unselected') acceptedReportIds.push(v.reportId)

  return {
    verdicts: canonical,
    beacons,
    witnesses,
    acceptedReportIds,
    schedule,
    answered,
    active,
    lastSeq,
    witnessedAtMs,
    beaconedAtMs,
  }
}
