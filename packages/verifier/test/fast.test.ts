import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CodecError } from '@terrane/codec'
import { deviceKeyObject, verifyDeviceSignature } from '@terrane/attestation'
import { decodeReportBody, makeReport, reportSigningBytes, type BeaconBody, type DeviceReport, type WitnessBody } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import {
  decodeBeaconBody,
  decodeWitnessBody,
  fastBeaconBody,
  fastWitnessBody,
  signingBytes,
  signingBytesCapacity,
  writeSigningBytes,
} from '../src/fast.ts'
import { SeededRng } from '../src/rng.ts'
import { verifyWithKeyObject } from '../src/verify.ts'

const alice = deviceKeyFromSeed('fast-alice')
const bob = deviceKeyFromSeed('fast-bob')
const rng = new SeededRng('fast-paths')

// Integers at every CBOR head boundary (1, 2, 4 and 8 byte arguments).
const boundaries = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, 1_767_225_600_123, Number.MAX_SAFE_INTEGER]

function witnessBody(i: number): WitnessBody {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T
  return {
    beaconDeviceId: bob.deviceId,
    beaconPayloadHash: Uint8Array.from({ length: 32 }, () => rng.int(256)),
    epoch: pick(boundaries),
    rssiCentiDbm: pick([-20_000, -12_000, -25, -24, -1, 0, 23, 24, 255, 256, 5_000]),
    snrCentiDb: pick([-10_000, -257, -256, -24, 0, 500, 10_000]),
    frequencyHz: pick([0, 868_100_000, 904_300_000, 10_000_000_000]),
    receivedAtMs: pick(boundaries),
    location: `8c${(0x1f2a1072d0000 + i).toString(16).padStart(13, '0')}`,
  }
}

test('fast signing bytes equal reportSigningBytes byte for byte (every head size, every kind, every body size)', () => {
  for (let i = 0; i < 400; i++) {
    const report: DeviceReport = {
      deviceId: i % 2 === 0 ? alice.deviceId : bob.deviceId,
      seq: boundaries[i % boundaries.length] as number,
      timeMs: boundaries[(i * 7) % boundaries.length] as number,
      kind: (['heartbeat', 'beacon', 'witness', 'speedtest', 'receipt', 'reading'] as const)[i % 6] as DeviceReport['kind'],
      body: Uint8Array.from({ length: [0, 1, 23, 24, 255, 256, 3072][i % 7] as number }, () => rng.int(256)),
    }
    for (const chainId of ['terrane-test', 'terrane-devnet', 'x'])
      assert.deepEqual(signingBytes(chainId, report), reportSigningBytes(chainId, report))
  }
  // Invalid reports and chain ids throw as the generic path does.
  const valid: DeviceReport = { deviceId: alice.deviceId, seq: 1, timeMs: 1, kind: 'witness', body: new Uint8Array(3) }
  assert.throws(() => signingBytes('terrane-test', { ...valid, deviceId: 'not-a-device' }), CodecError)
  assert.throws(() => signingBytes('terrane-test', { ...valid, seq: -1 }), CodecError)
  assert.throws(() => signingBytes('', valid))
})

test('fast witness decoding agrees with decodeReportBody on valid bodies, and on random one-byte mutations', () => {
  const outcome = (f: () => WitnessBody): string => {
    try {
      return JSON.stringify(f(), (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
    } catch (err) {
      return `throws ${(err as CodecError).code}`
    }
  }
  let mutations = 0
  let accepted = 0
  for (let i = 0; i < 60; i++) {
    const report = makeReport({ deviceId: alice.deviceId, seq: i, timeMs: 0, kind: 'witness' }, witnessBody(i)) as DeviceReport & {
      kind: 'witness'
    }
    assert.notEqual(fastWitnessBody(report.body), undefined, 'valid bodies take the fast path')
    assert.equal(
      outcome(() => decodeWitnessBody(report)),
      outcome(() => decodeReportBody(report)),
    )
    // Mutate one byte at a time (a few positions per body): the fast path must reach the same verdict.
    for (let k = 0; k < 12; k++) {
      const body = Uint8Array.from(report.body)
      const at = rng.int(body.length)
      body[at] = k % 3 === 0 ? (body[at] as number) ^ (1 << rng.int(8)) : rng.int(256)
      const mutated = { ...report, body }
      const fast = outcome(() => decodeWitnessBody(mutated))
      assert.equal(
        fast,
        outcome(() => decodeReportBody(mutated)),
        `mutation at ${at}`,
      )
      mutations++
      if (!fast.startsWith('throws')) accepted++
    }
    // Truncated and extended bodies.
    for (const body of [report.body.subarray(0, report.body.length - 1), Uint8Array.of(...report.body, 0)]) {
      const changed = { ...report, body }
      assert.equal(
        outcome(() => decodeWitnessBody(changed)),
        outcome(() => decodeReportBody(changed)),
      )
    }
  }
  // Both outcomes occur (the comparison is not vacuous).
  assert.ok(accepted > 0 && accepted < mutations, `${accepted} of ${mutations} mutations accepted`)
})

function beaconBody(i: number): BeaconBody {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T
  const body: BeaconBody = {
    epoch: pick(boundaries),
    entropy: Uint8Array.from({ length: 32 }, () => rng.int(256)),
    payload: Uint8Array.from({ length: pick([0, 1, 23, 24, 52, 255, 256]) }, () => rng.int(256)),
    frequencyHz: pick([0, 868_100_000, 904_300_000, 10_000_000_000]),
    txPowerDbm: pick([-50, -25, -24, -1, 0, 14, 23, 24, 60]),
    antennaGainDbi: pick([-20, -1, 0, 3, 23, 24, 40]),
  }
  if (i % 2 === 0) body.localEntropy = Uint8Array.from({ length: 32 }, () => rng.int(256))
  return body
}

test('fast beacon decoding agrees with decodeReportBody on valid bodies (with and without local entropy) and on mutations', () => {
  const outcome = (f: () => BeaconBody): string => {
    try {
      return JSON.stringify(f(), (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
    } catch (err) {
      return `throws ${(err as CodecError).code}`
    }
  }
  let mutations = 0
  let accepted = 0
  for (let i = 0; i < 60; i++) {
    const report = makeReport({ deviceId: alice.deviceId, seq: i, timeMs: 0, kind: 'beacon' }, beaconBody(i)) as DeviceReport & {
      kind: 'beacon'
    }
    assert.notEqual(fastBeaconBody(report.body), undefined, 'valid bodies take the fast path')
    const fast = decodeBeaconBody(report)
    assert.deepEqual(fast, decodeReportBody(report))
    assert.deepEqual(Object.keys(fast), Object.keys(decodeReportBody(report)))
    for (let k = 0; k < 12; k++) {
      const body = Uint8Array.from(report.body)
      const at = rng.int(body.length)
      body[at] = k % 3 === 0 ? (body[at] as number) ^ (1 << rng.int(8)) : rng.int(256)
      const mutated = { ...report, body }
      const result = outcome(() => decodeBeaconBody(mutated))
      assert.equal(
        result,
        outcome(() => decodeReportBody(mutated)),
        `mutation at ${at}`,
      )
      mutations++
      if (!result.startsWith('throws')) accepted++
    }
    for (const body of [report.body.subarray(0, report.body.length - 1), Uint8Array.of(...report.body, 0)]) {
      const changed = { ...report, body }
      assert.equal(
        outcome(() => decodeBeaconBody(changed)),
        outcome(() => decodeReportBody(changed)),
      )
    }
  }
  assert.ok(accepted > 0 && accepted < mutations, `${accepted} of ${mutations} mutations accepted`)
  // An out-of-range field in canonical form (txPowerDbm 61: the schema allows up to 60) takes the generic path, which refuses it.
  const report = makeReport({ deviceId: alice.deviceId, seq: 1, timeMs: 0, kind: 'beacon' }, { ...beaconBody(1), txPowerDbm: 60 })
  const body = Uint8Array.from(report.body)
  const at = Buffer.from(body).indexOf(Buffer.from('txPowerDbm')) + 'txPowerDbm'.length
  assert.deepEqual([body[at], body[at + 1]], [0x18, 60])
  body[at + 1] = 61
  assert.equal(
    outcome(() => decodeBeaconBody({ ...report, body } as DeviceReport & { kind: 'beacon' })),
    'throws CODEC_SCHEMA',
  )
})

test('writeSigningBytes into one reused buffer equals reportSigningBytes, and refuses what the schema refuses', () => {
  const scratch = new Uint8Array(signingBytesCapacity('terrane-test'))
  for (let i = 0; i < 50; i++) {
    const report: DeviceReport = {
      deviceId: i % 2 === 0 ? alice.deviceId : bob.deviceId,
      seq: boundaries[i % boundaries.length] as number,
      timeMs: boundaries[(i * 5) % boundaries.length] as number,
      kind: i % 3 === 0 ? 'beacon' : 'witness',
      body: Uint8Array.from({ length: [0, 24, 300, 3072][i % 4] as number }, () => rng.int(256)),
    }
    const length = writeSigningBytes('terrane-test', report, scratch)
    assert.deepEqual(scratch.slice(0, length), reportSigningBytes('terrane-test', report))
  }
  const valid: DeviceReport = { deviceId: alice.deviceId, seq: 1, timeMs: 1, kind: 'witness', body: new Uint8Array(3) }
  for (const bad of [
    { ...valid, deviceId: 'x' },
    { ...valid, seq: 1.5 },
    { ...valid, body: new Uint8Array(3073) },
    { ...valid, extra: 1 },
  ])
    assert.equal(writeSigningBytes('terrane-test', bad as DeviceReport, scratch), -1)
})

test('the pipeline signature check (one KeyObject per device) agrees with verifyDeviceSignature', () => {
  const message = reportSigningBytes('terrane-test', {
    deviceId: alice.deviceId,
    seq: 3,
    timeMs: 5,
    kind: 'witness',
    body: new Uint8Array(40),
  })
  const good = alice.sign(message)
  // (r, n - s): the high-S twin of a valid signature, which both accept (secure elements do not normalise s).
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
  let s = 0n
  for (const b of good.subarray(32)) s = (s << 8n) | BigInt(b)
  const twin = Uint8Array.from(good)
  for (let i = 63, x = n - s; i >= 32; i--, x >>= 8n) twin[i] = Number(x & 0xffn)
  const zeroR = Uint8Array.from(good).fill(0, 0, 32)
  const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
    [alice.publicKey, message, good],
    [alice.publicKey, message, twin],
    [bob.publicKey, message, good],
    [alice.publicKey, Uint8Array.of(...message, 0), good],
    [alice.publicKey, message, good.subarray(0, 63)],
    [alice.publicKey, message, zeroR],
    [alice.publicKey.subarray(0, 64), message, good],
    [Uint8Array.of(4, ...new Uint8Array(64)), message, good],
  ]
  const verdicts = cases.map(([key, m, sig]) => {
    const expected = verifyDeviceSignature(key, m, sig)
    assert.equal(verifyWithKeyObject(deviceKeyObject(key), m, sig), expected)
    return expected
  })
  assert.deepEqual(verdicts, [true, true, false, false, false, false, false, false])
})
