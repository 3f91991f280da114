import {
  decodeReportBody,
  deviceIdCharsMax,
  reportBodyBytesMax,
  reportKinds,
  reportDomainTag,
  reportSigningBytes,
  beaconPayloadBytesMax,
  type BeaconBody,
  type DeviceReport,
  type WitnessBody,
} from '@terrane/reports'

// Fast paths for the two steps of the report pipeline that are not the signature check: the signing bytes
// (a canonical DAG-CBOR encoding of the envelope) and the witness body (a strict canonical decoding). Both
// handle only the plain canonical shape and hand anything else to @terrane/reports, so they agree with it
// byte for byte and verdict for verdict (test/fast.test.ts checks it on random and mutated inputs).

const utf8 = new TextEncoder()
const tagBytes = utf8.encode(reportDomainTag)

/** DAG-CBOR map key order: shorter keys first, then bytewise. */
function canonicalOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0))
}

const envelopeKeys = canonicalOrder(['deviceId', 'seq', 'timeMs', 'kind', 'body'])
const witnessKeys = canonicalOrder([
  'beaconDeviceId',
  'beaconPayloadHash',
  'epoch',
  'rssiCentiDbm',
  'snrCentiDb',
  'frequencyHz',
  'receivedAtMs',
  'location',
])
const beaconKeys = canonicalOrder(['epoch', 'entropy', 'payload', 'frequencyHz', 'txPowerDbm', 'antennaGainDbi', 'localEntropy'])
const encodedKey = new Map<string, Uint8Array>()
for (const k of [...envelopeKeys, ...witnessKeys, ...beaconKeys]) encodedKey.set(k, Uint8Array.of(0x60 | k.length, ...utf8.encode(k)))

class Writer {
  bytes: Uint8Array
  length = 0
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity)
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.length)
    this.length += b.length
  }
  /** A CBOR head with the minimal argument encoding (RFC 8949 section 4.2.1). */
  head(major: number, n: number): void {
    const m = major << 5
    const b = this.bytes
    if (n < 24) b[this.length++] = m | n
    else if (n < 0x100) {
      b[this.length++] = m | 24
      b[this.length++] = n
    } else if (n < 0x10000) {
      b[this.length++] = m | 25
      b[this.length++] = n >>> 8
      b[this.length++] = n & 0xff
    } else if (n < 0x1_0000_0000) {
      b[this.length++] = m | 26
      b[this.length++] = n >>> 24
      b[this.length++] = (n >>> 16) & 0xff
      b[this.length++] = (n >>> 8) & 0xff
      b[this.length++] = n & 0xff
    } else {
      b[this.length++] = m | 27
      const high = Math.floor(n / 0x1_0000_0000)
      const low = n >>> 0
      for (const word of [high, low]) {
        b[this.length++] = word >>> 24
        b[this.length++] = (word >>> 16) & 0xff
        b[this.length++] = (word >>> 8) & 0xff
        b[this.length++] = word & 0xff
      }
    }
  }
  /** An ASCII text string (callers check the characters). */
  ascii(s: string): void {
    this.head(3, s.length)
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i)
  }
}

/** The device id pattern of the report schema (bech32m charset, ASCII only). */
const deviceIdPattern = /^tdev1[02-9ac-hj-np-z]{6,}$/

const prefixes = new Map<string, Uint8Array>()

function prefixOf(chainId: string): Uint8Array {
  let prefix = prefixes.get(chainId)
  if (prefix === undefined) {
    // The generic path checks the chain id (and throws on a bad one); its prefix is everything before the envelope.
    const generic = reportSigningBytes(chainId, { deviceId: 'tdev1qqqqqq', seq: 0, timeMs: 0, kind: 'heartbeat', body: new Uint8Array(0) })
    prefix = generic.subarray(0, tagBytes.length + 1 + (generic[tagBytes.length] as number)).slice()
    if (prefixes.size < 16) prefixes.set(chainId, prefix)
  }
  return prefix
}

/** Envelope bytes beyond the prefix, device id and body: map head, keys, integer heads, kind. */
export const envelopeOverheadBytesMax = 64

/** The schema's envelope checks, done directly: false sends the report to the generic path. */
function isPlainEnvelope(report: DeviceReport): boolean {
  if (
    typeof report.deviceId !== 'string' ||
    report.deviceId.length > deviceIdCharsMax ||
    !Number.isSafeInteger(report.seq) ||
    report.seq < 0 ||
    !Number.isSafeInteger(report.timeMs) ||
    report.timeMs < 0 ||
    !(reportKinds as readonly string[]).includes(report.kind) ||
    !(report.body instanceof Uint8Array) ||
    report.body.length > reportBodyBytesMax ||
    !deviceIdPattern.test(report.deviceId)
  )
    return false
  let keys = 0
  for (const key in report) if (Object.hasOwn(report, key)) keys++
  return keys === envelopeKeys.length
}

/** A buffer this long holds the signing bytes of any report `writeSigningBytes` accepts (plain envelopes). */
export function signingBytesCapacity(chainId: string): number {
  return prefixOf(chainId).length + envelopeOverheadBytesMax + deviceIdCharsMax + reportBodyBytesMax
}

/** Bytes `writeSigningBytes` needs in `out` for this report (an upper bound). */
export function signingBytesLengthMax(chainId: string, report: DeviceReport): number {
  const variable =
    (typeof report.deviceId === 'string' ? report.deviceId.length : 0) + (report.body instanceof Uint8Array ? report.body.length : 0)
  return prefixOf(chainId).length + envelopeOverheadBytesMax + variable
}

/**
 * Writes `reportSigningBytes(chainId, report)` into `out` (at least `signingBytesLengthMax` long) and
 * returns its length, or -1 for a report outside the plain canonical shape (the caller takes the
 * generic path, which throws on what the schema refuses). Lets a pipeline reuse one buffer.
 */
export function writeSigningBytes(chainId: string, report: DeviceReport, out: Uint8Array): number {
  const prefix = prefixOf(chainId)
  if (!isPlainEnvelope(report)) return -1
  const w = writer
  w.bytes = out
  w.length = 0
  w.raw(prefix)
  w.head(5, envelopeKeys.length)
  for (const key of envelopeKeys) {
    w.raw(encodedKey.get(key) as Uint8Array)
    if (key === 'seq') w.head(0, report.seq)
    else if (key === 'timeMs') w.head(0, report.timeMs)
    else if (key === 'kind') w.ascii(report.kind)
    else if (key === 'deviceId') w.ascii(report.deviceId)
    else {
      w.head(2, report.body.length)
      w.raw(report.body)
    }
  }
  w.bytes = empty
  return w.length
}
const empty = new Uint8Array(0)
const writer = new Writer(0)

/**
 * `reportSigningBytes(chainId, report)` without the generic encoder: the envelope is a fixed struct, so
 * its canonical encoding is written directly. Reports the schema would refuse take the generic path,
 * which throws as before.
 */
export function signingBytes(chainId: string, report: DeviceReport): Uint8Array {
  if (!isPlainEnvelope(report)) return reportSigningBytes(chainId, report)
  const out = new Uint8Array(signingBytesLengthMax(chainId, report))
  const length = writeSigningBytes(chainId, report, out)
  if (length < 0) return reportSigningBytes(chainId, report)
  return length === out.length ? out : out.slice(0, length)
}

/** Reads the canonical subset the fast decoder accepts; any deviation returns undefined (take the generic path). */
class Reader {
  offset = 0
  bytes: Uint8Array = empty
  reset(bytes: Uint8Array): this {
    this.bytes = bytes
    this.offset = 0
    return this
  }
  /** A head of the given major type with its minimal argument, or undefined. */
  head(major: number): number | undefined {
    const b = this.bytes
    const first = b[this.offset]
    if (first === undefined || first >>> 5 !== major) return undefined
    const info = first & 0x1f
    this.offset++
    if (info < 24) return info
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
    if (size === 0 || this.offset + size > b.length) return undefined
    let n = 0
    for (let i = 0; i < size; i++) n = n * 256 + (b[this.offset + i] as number)
    this.offset += size
    // Minimal form only (and safe integers only: larger ones take the generic path).
    const min = size === 1 ? 24 : size === 2 ? 0x100 : size === 4 ? 0x10000 : 0x1_0000_0000
    if (n < min || !Number.isSafeInteger(n)) return undefined
    return n
  }
  int(): number | undefined {
    const first = this.bytes[this.offset]
    if (first === undefined) return undefined
    if (first >>> 5 === 0) return this.head(0)
    const n = this.head(1)
    return n === undefined ? undefined : -1 - n
  }
  ascii(): string | undefined {
    const n = this.head(3)
    if (n === undefined || this.offset + n > this.bytes.length) return undefined
    const chars = this.bytes.subarray(this.offset, this.offset + n)
    for (let i = 0; i < n; i++) if ((chars[i] as number) > 0x7f) return undefined
    this.offset += n
    // ASCII only (checked above): one char per byte. apply() over a typed array avoids a per-char concatenation.
    return String.fromCharCode.apply(null, chars as unknown as number[])
  }
  byteString(): Uint8Array | undefined {
    const n = this.head(2)
    if (n === undefined || this.offset + n > this.bytes.length) return undefined
    const out = this.bytes.slice(this.offset, this.offset + n)
    this.offset += n
    return out
  }
  key(expected: Uint8Array): boolean {
    for (let i = 0; i < expected.length; i++) if (this.bytes[this.offset + i] !== expected[i]) return false
    this.offset += expected.length
    return true
  }
}

// The witness body's keys in canonical order, read in that order by fastWitnessBody (checked at load).
const witnessKeyOrder = [
  'epoch',
  'location',
  'snrCentiDb',
  'frequencyHz',
  'receivedAtMs',
  'rssiCentiDbm',
  'beaconDeviceId',
  'beaconPayloadHash',
]
if (witnessKeyOrder.join() !== witnessKeys.join()) throw new Error(`fast.ts: witness key order ${witnessKeys.join()} changed`)
const [kEpoch, kLocation, kSnr, kFrequency, kReceivedAt, kRssi, kBeaconDevice, kPayloadHash] = witnessKeyOrder.map(
  (k) => encodedKey.get(k) as Uint8Array,
) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const reader = new Reader()

/** The fast witness decoder alone: undefined for anything outside the canonical shape (exported for tests). */
export function fastWitnessBody(bytes: Uint8Array): WitnessBody | undefined {
  const r = reader.reset(bytes)
  if (r.head(5) !== witnessKeys.length) return undefined
  const epoch = r.key(kEpoch) ? r.int() : undefined
  if (epoch === undefined) return undefined
  const location = r.key(kLocation) ? r.ascii() : undefined
  if (location === undefined) return undefined
  const snrCentiDb = r.key(kSnr) ? r.int() : undefined
  if (snrCentiDb === undefined) return undefined
  const frequencyHz = r.key(kFrequency) ? r.int() : undefined
  if (frequencyHz === undefined) return undefined
  const receivedAtMs = r.key(kReceivedAt) ? r.int() : undefined
  if (receivedAtMs === undefined) return undefined
  const rssiCentiDbm = r.key(kRssi) ? r.int() : undefined
  if (rssiCentiDbm === undefined) return undefined
  const beaconDeviceId = r.key(kBeaconDevice) ? r.ascii() : undefined
  if (beaconDeviceId === undefined) return undefined
  const beaconPayloadHash = r.key(kPayloadHash) ? r.byteString() : undefined
  if (beaconPayloadHash === undefined || r.offset !== bytes.length) return undefined
  r.bytes = empty
  // In the schema's field order, as the generic decoder builds it.
  return { beaconDeviceId, beaconPayloadHash, epoch, rssiCentiDbm, snrCentiDb, frequencyHz, receivedAtMs, location }
}

const h3Res12Pattern = /^8c[0-9a-f]{13}$/
const isInt = (v: number, min: number, max: number): boolean => Number.isSafeInteger(v) && v >= min && v <= max

/** The witness body schema's checks (ranges, lengths, patterns), done directly on a fast-decoded body. */
function isWitnessBody(b: WitnessBody): boolean {
  return (
    b.beaconDeviceId.length <= deviceIdCharsMax &&
    deviceIdPattern.test(b.beaconDeviceId) &&
    b.beaconPayloadHash.length === 32 &&
    isInt(b.epoch, 0, Number.MAX_SAFE_INTEGER) &&
    isInt(b.rssiCentiDbm, -20_000, 5_000) &&
    isInt(b.snrCentiDb, -10_000, 10_000) &&
    isInt(b.frequencyHz, 0, 10_000_000_000) &&
    isInt(b.receivedAtMs, 0, Number.MAX_SAFE_INTEGER) &&
    h3Res12Pattern.test(b.location)
  )
}

/**
 * `decodeReportBody` for witness reports: the canonical shape is parsed directly and checked as the
 * schema checks it (ranges, lengths, patterns); anything else goes through the generic strict decoder,
 * which throws CodecError exactly as before.
 */
export function decodeWitnessBody(report: DeviceReport & { kind: 'witness' }): WitnessBody {
  const fast = report.body.length <= 3072 ? fastWitnessBody(report.body) : undefined
  return fast !== undefined && isWitnessBody(fast) ? fast : decodeReportBody(report)
}

// The beacon body's keys in canonical order (localEntropy is optional), read in that order by fastBeaconBody.
const beaconKeyOrder = ['epoch', 'entropy', 'payload', 'txPowerDbm', 'frequencyHz', 'localEntropy', 'antennaGainDbi']
if (beaconKeyOrder.join() !== beaconKeys.join()) throw new Error(`fast.ts: beacon key order ${beaconKeys.join()} changed`)
const [bEpoch, bEntropy, bPayload, bTxPower, bFrequency, bLocalEntropy, bAntennaGain] = beaconKeyOrder.map(
  (k) => encodedKey.get(k) as Uint8Array,
) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const entropyBytes = 32

/** The fast beacon decoder alone: undefined for anything outside the canonical shape or the schema's ranges (exported for tests). */
export function fastBeaconBody(bytes: Uint8Array): BeaconBody | undefined {
  const r = reader.reset(bytes)
  const fields = r.head(5)
  if (fields !== beaconKeys.length && fields !== beaconKeys.length - 1) return undefined
  const epoch = r.key(bEpoch) ? r.int() : undefined
  if (epoch === undefined) return undefined
  const entropy = r.key(bEntropy) ? r.byteString() : undefined
  if (entropy === undefined) return undefined
  const payload = r.key(bPayload) ? r.byteString() : undefined
  if (payload === undefined) return undefined
  const txPowerDbm = r.key(bTxPower) ? r.int() : undefined
  if (txPowerDbm === undefined) return undefined
  const frequencyHz = r.key(bFrequency) ? r.int() : undefined
  if (frequencyHz === undefined) return undefined
  let localEntropy: Uint8Array | undefined
  if (fields === beaconKeys.length) {
    localEntropy = r.key(bLocalEntropy) ? r.byteString() : undefined
    if (localEntropy === undefined) return undefined
  }
  const antennaGainDbi = r.key(bAntennaGain) ? r.int() : undefined
  if (antennaGainDbi === undefined || r.offset !== bytes.length) return undefined
  r.bytes = empty
  // The schema's checks (ranges, lengths), then its field order, as the generic decoder builds it.
  if (
    !isInt(epoch, 0, Number.MAX_SAFE_INTEGER) ||
    entropy.length !== entropyBytes ||
    payload.length > beaconPayloadBytesMax ||
    !isInt(frequencyHz, 0, 10_000_000_000) ||
    !isInt(txPowerDbm, -50, 60) ||
    !isInt(antennaGainDbi, -20, 40) ||
    (localEntropy !== undefined && localEntropy.length !== entropyBytes)
  )
    return undefined
  const body: BeaconBody = { epoch, entropy, payload, frequencyHz, txPowerDbm, antennaGainDbi }
  if (localEntropy !== undefined) body.localEntropy = localEntropy
  return body
}

/**
 * `decodeReportBody` for beacon reports, as {@link decodeWitnessBody} does for witnesses: the canonical
 * shape directly, anything else through the generic strict decoder (which throws CodecError as before).
 */
export function decodeBeaconBody(report: DeviceReport & { kind: 'beacon' }): BeaconBody {
  const fast = report.body.length <= reportBodyBytesMax ? fastBeaconBody(report.body) : undefined
  return fast ?? decodeReportBody(report)
}
