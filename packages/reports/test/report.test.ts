import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CodecError, encode, encodeCanonical, sha256, toHex } from '@terrane/codec'
import {
  ReportError,
  beaconPayload,
  beaconPayloadHash,
  decodeReportBody,
  decodeSignedReport,
  deviceReportSchema,
  encodeSignedReport,
  makeReport,
  reportBytesMax,
  reportDomainTag,
  reportId,
  reportSigningBytes,
  signReport,
  verifyReport,
  type DeviceReport,
} from '../src/index.ts'
import { deviceKeyFromSeed } from '../src/testing.ts'

const chainId = 'terrane-test'
const alice = deviceKeyFromSeed('alice')
const bob = deviceKeyFromSeed('bob')
const entropy = sha256(new TextEncoder().encode('block 41'))

function witnessReport(seq = 7): DeviceReport {
  return makeReport(
    { deviceId: alice.deviceId, seq, timeMs: 1_700_000_000_000, kind: 'witness' },
    {
      beaconDeviceId: bob.deviceId,
      beaconPayloadHash: beaconPayloadHash(beaconPayload(entropy, bob.deviceId)),
      epoch: 3,
      rssiCentiDbm: -11_250,
      snrCentiDb: 350,
      frequencyHz: 868_100_000,
      receivedAtMs: 1_700_000_000_123,
      location: '8c1f05a6d6c81ff',
    },
  )
}

function expectCodecError(fn: () => unknown, code: CodecError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof CodecError && err.code === code)
}

test('test keys are deterministic and give tdev1 ids', () => {
  assert.equal(deviceKeyFromSeed('alice').deviceId, alice.deviceId)
  assert.notEqual(alice.deviceId, bob.deviceId)
  assert.match(alice.deviceId, /^tdev1/)
  assert.equal(alice.publicKey.length, 65)
})

test('signing bytes: domain tag, length-prefixed chain id, then the canonical report', () => {
  const report = witnessReport()
  const bytes = reportSigningBytes(chainId, report)
  const tag = new TextEncoder().encode(reportDomainTag)
  assert.deepEqual(bytes.subarray(0, tag.length), tag)
  assert.equal(bytes[tag.length], chainId.length)
  assert.equal(new TextDecoder().decode(bytes.subarray(tag.length + 1, tag.length + 1 + chainId.length)), chainId)
  assert.deepEqual(bytes.subarray(tag.length + 1 + chainId.length), encode(deviceReportSchema, report))
  assert.notDeepEqual(reportId('other-chain', report), reportId(chainId, report))
  assert.throws(
    () => reportSigningBytes('', report),
    (e: unknown) => e instanceof ReportError && e.code === 'REPORT_BAD_CHAIN_ID',
  )
})

test('sign, encode, decode, verify round trip', () => {
  const signed = signReport(chainId, witnessReport(), alice.sign)
  const bytes = encodeSignedReport(signed)
  assert.ok(bytes.length < reportBytesMax)
  const decoded = decodeSignedReport(bytes)
  assert.deepEqual(decoded, signed)
  assert.equal(verifyReport(chainId, decoded, alice.publicKey), true)
  const body = decodeReportBody(decoded.report as DeviceReport & { kind: 'witness' })
  assert.equal(body.rssiCentiDbm, -11_250)
  assert.equal(body.beaconDeviceId, bob.deviceId)
})

test('verifyReport refuses another chain, another key, a changed report and a bad key', () => {
  const signed = signReport(chainId, witnessReport(), alice.sign)
  assert.equal(verifyReport('terrane-main', signed, alice.publicKey), false)
  assert.equal(verifyReport(chainId, signed, bob.publicKey), false)
  // bob signs a report that claims to be alice's: the key does not own the device id
  const forged = signReport(chainId, witnessReport(), bob.sign)
  assert.equal(verifyReport(chainId, forged, bob.publicKey), false)
  const changed = { ...signed, report: { ...signed.report, seq: 8 } }
  assert.equal(verifyReport(chainId, changed, alice.publicKey), false)
  assert.equal(verifyReport(chainId, signed, new Uint8Array(65)), false)
  assert.throws(
    () => signReport(chainId, witnessReport(), () => new Uint8Array(63)),
    (e: unknown) => e instanceof ReportError && e.code === 'REPORT_BAD_SIGNATURE_LENGTH',
  )
})

test('decodeSignedReport is strict: size, canonical form, envelope and body shape', () => {
  const signed = signReport(chainId, witnessReport(), alice.sign)
  expectCodecError(() => decodeSignedReport(new Uint8Array(reportBytesMax + 1)), 'CODEC_TOO_LARGE')
  const bytes = encodeSignedReport(signed)
  expectCodecError(() => decodeSignedReport(Uint8Array.from([...bytes, 0])), 'CODEC_TRAILING_BYTES')
  // unknown envelope field
  expectCodecError(() => decodeSignedReport(encodeCanonical({ ...signed, extra: 1 })), 'CODEC_SCHEMA')
  // body that is not a witness body
  const badBody = { ...signed, report: { ...signed.report, body: encodeCanonical({ rssiCentiDbm: 1 }) } }
  expectCodecError(() => decodeSignedReport(encodeCanonical(badBody)), 'CODEC_SCHEMA')
  // body bytes that are not canonical CBOR (an int with a non-minimal length)
  const nonCanonical = { ...signed, report: { ...signed.report, body: Uint8Array.of(0x18, 0x01) } }
  expectCodecError(() => decodeSignedReport(encodeCanonical(nonCanonical)), 'CODEC_NON_CANONICAL')
  // short signature
  expectCodecError(() => decodeSignedReport(encodeCanonical({ ...signed, signature: new Uint8Array(63) })), 'CODEC_SCHEMA')
  // witness location must be an H3 resolution-12 cell
  assert.throws(
    () =>
      makeReport(
        { deviceId: alice.deviceId, seq: 1, timeMs: 0, kind: 'witness' },
        { ...decodeReportBody(signed.report as DeviceReport & { kind: 'witness' }), location: '8b1f05a6d6c81ff' },
      ),
    CodecError,
  )
})

test('every kind has a body schema that round-trips', () => {
  const cases = [
    makeReport({ deviceId: alice.deviceId, seq: 1, timeMs: 1, kind: 'heartbeat' }, { uptimeSeconds: 10, firmwareVersion: '1.2.3' }),
    makeReport(
      { deviceId: alice.deviceId, seq: 2, timeMs: 1, kind: 'heartbeat' },
      { uptimeSeconds: 10, firmwareVersion: '1.2.3', measuredBoot: new Uint8Array(32) },
    ),
    makeReport(
      { deviceId: alice.deviceId, seq: 3, timeMs: 1, kind: 'beacon' },
      { epoch: 1, entropy, payload: beaconPayload(entropy, alice.deviceId), frequencyHz: 868_100_000, txPowerDbm: 27, antennaGainDbi: 3 },
    ),
    makeReport(
      { deviceId: alice.deviceId, seq: 3, timeMs: 1, kind: 'beacon' },
      {
        epoch: 1,
        entropy,
        payload: beaconPayload(entropy, alice.deviceId, 52, sha256(entropy)),
        frequencyHz: 868_100_000,
        txPowerDbm: 27,
        antennaGainDbi: 3,
        localEntropy: sha256(entropy),
      },
    ),
    makeReport(
      { deviceId: alice.deviceId, seq: 4, timeMs: 1, kind: 'speedtest' },
      { downloadKbps: 100_000, uploadKbps: 10_000, latencyMs: 30 },
    ),
    makeReport(
      { deviceId: alice.deviceId, seq: 5, timeMs: 1, kind: 'receipt' },
      { sessionId: new Uint8Array(16), counterpartyId: bob.deviceId, dataBytes: 4096 },
    ),
    makeReport(
      { deviceId: alice.deviceId, seq: 6, timeMs: 1, kind: 'reading' },
      { sensor: 'temperature', value: -1250, unit: 'centi-celsius' },
    ),
  ]
  for (const report of cases) {
    const decoded = decodeSignedReport(encodeSignedReport(signReport(chainId, report, alice.sign)))
    assert.deepEqual(decoded.report, report)
  }
})

test('beacon payload: deterministic per (entropy, device), 52 bytes, SHA-256 counter mode', () => {
  const a = beaconPayload(entropy, alice.deviceId)
  assert.equal(a.length, 52)
  assert.deepEqual(beaconPayload(entropy, alice.deviceId), a)
  assert.notDeepEqual(beaconPayload(entropy, bob.deviceId), a)
  assert.notDeepEqual(beaconPayload(sha256(entropy), alice.deviceId), a)
  // the first 32 bytes are block 0 exactly as documented
  const utf8 = new TextEncoder()
  const id = utf8.encode(alice.deviceId)
  const block0 = sha256(utf8.encode('TERRANE-BEACON-PAYLOAD-V1'), entropy, Uint8Array.of(id.length), id, new Uint8Array(4))
  assert.equal(toHex(a.subarray(0, 32)), toHex(block0))
  // a longer payload extends, never changes, the shorter one
  assert.deepEqual(beaconPayload(entropy, alice.deviceId, 100).subarray(0, 52), a)
  assert.throws(() => beaconPayload(new Uint8Array(31), alice.deviceId), ReportError)
})

test('beacon payload with local entropy: depends on remote and local entropy, documented block 0', () => {
  const local = sha256(Uint8Array.of(1, 2, 3))
  const a = beaconPayload(entropy, alice.deviceId, 52, local)
  assert.equal(a.length, 52)
  assert.deepEqual(beaconPayload(entropy, alice.deviceId, 52, local), a)
  // unknowable from the public challenge alone: differs from the remote-only payload and per local draw
  assert.notDeepEqual(beaconPayload(entropy, alice.deviceId), a)
  assert.notDeepEqual(beaconPayload(entropy, alice.deviceId, 52, sha256(local)), a)
  assert.notDeepEqual(beaconPayload(sha256(entropy), alice.deviceId, 52, local), a)
  const utf8 = new TextEncoder()
  const id = utf8.encode(alice.deviceId)
  const block0 = sha256(utf8.encode('TERRANE-BEACON-PAYLOAD-V2'), entropy, local, Uint8Array.of(id.length), id, new Uint8Array(4))
  assert.equal(toHex(a.subarray(0, 32)), toHex(block0))
  assert.throws(() => beaconPayload(entropy, alice.deviceId, 52, new Uint8Array(31)), ReportError)
})

test('beacon body: local entropy must be exactly 32 bytes when present', () => {
  const body = {
    epoch: 1,
    entropy,
    payload: beaconPayload(entropy, alice.deviceId),
    frequencyHz: 868_100_000,
    txPowerDbm: 27,
    antennaGainDbi: 3,
    localEntropy: new Uint8Array(31),
  }
  const report = makeReport({ deviceId: alice.deviceId, seq: 1, timeMs: 1, kind: 'beacon' }, { ...body, localEntropy: new Uint8Array(32) })
  assert.deepEqual(decodeReportBody(report as DeviceReport & { kind: 'beacon' }).localEntropy, new Uint8Array(32))
  assert.throws(() => makeReport({ deviceId: alice.deviceId, seq: 1, timeMs: 1, kind: 'beacon' }, body), CodecError)
})
