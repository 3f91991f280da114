import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CodecError, decode, decodeCanonical, encode, encodeCanonical, t, type Infer } from '../src/index.ts'

const transfer = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  nonce: t.uint(),
  amount: t.u64(),
  to: t.bytes({ length: 20 }),
  memo: t.optional(t.string({ bytesMax: 256 })),
  tags: t.array(t.string({ bytesMax: 16 }), { lengthMax: 4 }),
})
type Transfer = Infer<typeof transfer>

const transferArb: fc.Arbitrary<Transfer> = fc.record(
  {
    chainId: fc.string({ maxLength: 16 }),
    nonce: fc.nat(),
    amount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    to: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    memo: fc.string({ maxLength: 40 }),
    tags: fc.array(fc.string({ maxLength: 4 }), { maxLength: 4 }),
  },
  { requiredKeys: ['chainId', 'nonce', 'amount', 'to', 'tags'] },
)

function expectCodecError(fn: () => unknown, code: CodecError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof CodecError && err.code === code)
}

test('decode(encode(x)) equals x for any valid transfer', () => {
  fc.assert(
    fc.property(transferArb, (x) => {
      const back = decode(transfer, encode(transfer, x))
      assert.deepEqual(back, { ...x })
    }),
    { numRuns: 500 },
  )
})

test('every mutated byte string decodes to a canonical value or raises a CodecError', () => {
  fc.assert(
    fc.property(transferArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (x, flips) => {
      const bytes = encode(transfer, x).slice()
      for (const [at, value] of flips) bytes[at % bytes.length] = value
      try {
        const value = decode(transfer, bytes)
        assert.deepEqual(encode(transfer, value), bytes)
      } catch (err) {
        assert.ok(err instanceof CodecError, `unexpected ${String(err)}`)
      }
    }),
    { numRuns: 2000 },
  )
})

test('arbitrary bytes never escape as anything but a CodecError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        const value = decodeCanonical(bytes)
        assert.deepEqual(encodeCanonical(value), bytes)
      } catch (err) {
        assert.ok(err instanceof CodecError, `unexpected ${String(err)}`)
      }
    }),
    { numRuns: 5000 },
  )
})

test('trailing bytes are refused', () => {
  const bytes = encodeCanonical({ a: 1 })
  const longer = new Uint8Array([...bytes, 0x00])
  expectCodecError(() => decodeCanonical(longer), 'CODEC_TRAILING_BYTES')
})

test('a non-minimal integer is refused as non-canonical', () => {
  // 0x18 0x01: the integer 1 in the one-byte-follows form; canonical is 0x01.
  expectCodecError(() => decodeCanonical(Uint8Array.of(0x18, 0x01)), 'CODEC_NON_CANONICAL')
})

test('unsorted map keys are refused as non-canonical', () => {
  // {"b": 1, "a": 2}: keys out of DAG-CBOR order
  const bytes = Uint8Array.of(0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02)
  expectCodecError(() => decodeCanonical(bytes), 'CODEC_NON_CANONICAL')
})

test('duplicate map keys are refused', () => {
  const bytes = Uint8Array.of(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02)
  assert.throws(() => decodeCanonical(bytes), CodecError)
})

test('indefinite-length items are refused', () => {
  // an indefinite-length array [1] terminated by 0xff
  assert.throws(() => decodeCanonical(Uint8Array.of(0x9f, 0x01, 0xff)), CodecError)
})

test('oversized input is refused before decoding', () => {
  expectCodecError(() => decodeCanonical(new Uint8Array(100), { bytesMax: 99 }), 'CODEC_TOO_LARGE')
})

test('empty input is malformed', () => {
  expectCodecError(() => decodeCanonical(new Uint8Array(0)), 'CODEC_MALFORMED')
})

test('schema errors carry the path of the offending field', () => {
  const bad = encodeCanonical({ chainId: 'x', nonce: -1, amount: 1, to: new Uint8Array(20), tags: [] })
  assert.throws(
    () => decode(transfer, bad),
    (err: unknown) => err instanceof CodecError && err.code === 'CODEC_SCHEMA' && err.path === 'nonce',
  )
})

test('unknown fields, wrong types, oversized fields and wrong lengths are schema errors', () => {
  const base = { chainId: 'x', nonce: 1, amount: 1n, to: new Uint8Array(20), tags: [] as string[] }
  const cases: unknown[] = [
    { ...base, extra: 1 },
    { ...base, nonce: '1' },
    { ...base, amount: 1n << 64n },
    { ...base, to: new Uint8Array(19) },
    { ...base, tags: ['a', 'b', 'c', 'd', 'e'] },
    { ...base, chainId: 'x'.repeat(65) },
    { ...base, nonce: 1.5 },
    [base],
  ]
  for (const value of cases) expectCodecError(() => decode(transfer, encodeCanonical(value)), 'CODEC_SCHEMA')
})

test('optional fields are omitted from the encoding, never encoded as null', () => {
  const x: Transfer = { chainId: 'c', nonce: 0, amount: 0n, to: new Uint8Array(20), tags: [] }
  const value = decodeCanonical(encode(transfer, x)) as Record<string, unknown>
  assert.equal(Object.hasOwn(value, 'memo'), false)
})

test('u64 values in the safe range decode as bigint', () => {
  const x: Transfer = { chainId: 'c', nonce: 0, amount: 5n, to: new Uint8Array(20), tags: [] }
  assert.equal(decode(transfer, encode(transfer, x)).amount, 5n)
})

test('floats are not accepted where integers are expected', () => {
  expectCodecError(() => decode(t.uint(), encodeCanonical(0.5)), 'CODEC_SCHEMA')
})

test('variants select their schema by tag', () => {
  const msg = t.variant('type', {
    send: t.struct({ to: t.bytes({ length: 2 }), amount: t.u64() }),
    burn: t.struct({ amount: t.u64() }),
  })
  const send = { type: 'send' as const, to: Uint8Array.of(1, 2), amount: 3n }
  assert.deepEqual(decode(msg, encode(msg, send)), send)
  const burn = { type: 'burn' as const, amount: 4n }
  assert.deepEqual(decode(msg, encode(msg, burn)), burn)
  expectCodecError(() => decode(msg, encodeCanonical({ type: 'mint', amount: 1 })), 'CODEC_SCHEMA')
  expectCodecError(() => decode(msg, encodeCanonical({ type: 'burn', amount: 1, to: Uint8Array.of(1, 2) })), 'CODEC_SCHEMA')
})
