import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CodecError } from '@terrane/codec'
import { decodeReportBody, makeReport, reportSigningBytes, type DeviceReport, type WitnessBody } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { decodeWitnessBody, signingBytes } from '../src/fast.ts'
import { SeededRng } from '../src/rng.ts'

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
