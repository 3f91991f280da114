import {
  decodeReportBody,
  deviceIdCharsMax,
  reportBodyBytesMax,
  reportKinds,
  reportDomainTag,
  reportSigningBytes,
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
const encodedKey = new Map<string, Uint8Array>()
for (const k of [...envelopeKeys, ...witnessKeys]) encodedKey.set(k, Uint8Array.of(0x60 | k.length, ...utf8.encode(k)))

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

/**
 * `reportSigningBytes(chainId, report)` without the generic encoder: the envelope is a fixed struct, so
 * its canonical encoding is written directly. Reports the schema would refuse take the generic path,
 * which throws as before.
 */
export function signingBytes(chainId: string, report: DeviceReport): Uint8Array {
  let prefix = prefixes.get(chainId)
  if (prefix === undefined) {
    // The generic path checks the chain id (and throws on a bad one); its prefix is everything before the envelope.
    const generic = reportSigningBytes(chainId, { deviceId: 'tdev1qqqqqq', seq: 0, timeMs: 0, kind: 'heartbeat', body: new Uint8Array(0) })
    prefix = generic.subarray(0, tagBytes.length + 1 + (generic[tagBytes.length] as number)).slice()
    if (prefixes.size < 16) prefixes.set(chainId, prefix)
  }
  // The schema's checks, done directly; anything they would refuse takes the generic path (which throws).
  if (
    typeof report.deviceId !== 'string' ||
    report.deviceId.length > deviceIdCharsMax ||
    !deviceIdPattern.test(report.deviceId) ||
    !Number.isSafeInteger(report.seq) ||
    report.seq < 0 ||
    !Number.isSafeInteger(report.timeMs) ||
    report.timeMs < 0 ||
    !(reportKinds as readonly string[]).includes(report.kind) ||
    !(report.body instanceof Uint8Array) ||
    report.body.length > reportBodyBytesMax ||
    Object.keys(report).length !== envelopeKeys.length
  )
    return reportSigningBytes(chainId, report)
  const w = new Writer(prefix.length + 64 + report.deviceId.length + report.body.length)
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
  return w.length === w.bytes.length ? w.bytes : w.bytes.slice(0, w.length)
}

/** Reads the canonical subset the fast decoder accepts; any deviation returns undefined (take the generic path). */
class Reader {
  offset = 0
  constructor(readonly bytes: Uint8Array) {}
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
    let s = ''
    for (let i = 0; i < n; i++) {
      const c = this.bytes[this.offset + i] as number
      if (c > 0x7f) return undefined
      s += String.fromCharCode(c)
    }
    this.offset += n
    return s
  }
  byteString(): Uint8Array | undefined {
    const n = this.head(2)
    if (n === undefined || this.offset + n > this.bytes.length) return undefined
    const out = this.bytes.slice(this.offset, this.offset + n)
    this.offset += n
    return out
  }
  key(expected: string): boolean {
    const k = encodedKey.get(expected) as Uint8Array
    for (let i = 0; i < k.length; i++) if (this.bytes[this.offset + i] !== k[i]) return false
    this.offset += k.length
    return true
  }
}

function fastWitnessBody(bytes: Uint8Array): WitnessBody | undefined {
  const r = new Reader(bytes)
  if (r.head(5) !== witnessKeys.length) return undefined
  const out: Record<string, unknown> = {}
  for (const key of witnessKeys) {
    if (!r.key(key)) return undefined
    const value = key === 'beaconPayloadHash' ? r.byteString() : key === 'beaconDeviceId' || key === 'location' ? r.ascii() : r.int()
    if (value === undefined) return undefined
    out[key] = value
  }
  if (r.offset !== bytes.length) return undefined
  // In the schema's field order, as the generic decoder builds it.
  return {
    beaconDeviceId: out.beaconDeviceId,
    beaconPayloadHash: out.beaconPayloadHash,
    epoch: out.epoch,
    rssiCentiDbm: out.rssiCentiDbm,
    snrCentiDb: out.snrCentiDb,
    frequencyHz: out.frequencyHz,
    receivedAtMs: out.receivedAtMs,
    location: out.location,
  } as WitnessBody
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
