import { CodecError } from './errors.ts'
import { decodeCanonical, encodeCanonical, type DecodeInit } from './cbor.ts'

/**
 * A typed schema for values that are hashed, signed or sent over the wire.
 * `parse` checks an untrusted value (fresh from the decoder, or built by code
 * that is about to encode it) and returns it in normal form: exact keys, no
 * `undefined`, bigints for 64-bit integers.
 */
export interface Schema<T> {
  readonly description: string
  parse(value: unknown, path?: string): T
}

/** Marks a struct field that may be absent (never `undefined` on the wire). */
export interface OptionalSchema<T> extends Schema<T> {
  readonly isOptional: true
}

export type Infer<S> = S extends Schema<infer T> ? T : never

type Shape = Record<string, Schema<unknown>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? never : K }[keyof S]
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S]
export type InferShape<S extends Shape> = Simplify<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>

/** Default bound on a byte or string field: 1 MiB. Protocol types set tighter ones. */
export const fieldBytesMax = 1024 * 1024
/** Default bound on array lengths. */
export const arrayLengthMax = 100_000

const u64Max = (1n << 64n) - 1n
const utf8 = new TextEncoder()

function fail(path: string, message: string): never {
  throw new CodecError('CODEC_SCHEMA', message, path)
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return 'bytes'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

function schema<T>(description: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { description, parse: (value, path = '') => parse(value, path) }
}

export interface IntInit {
  min?: number
  max?: number
}

/** A safe integer (heights, rounds, counts, timestamps in ms). */
function int(init: IntInit = {}): Schema<number> {
  const min = init.min ?? Number.MIN_SAFE_INTEGER
  const max = init.max ?? Number.MAX_SAFE_INTEGER
  return schema(`int[${min},${max}]`, (v, path) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, `expected a safe integer, got ${typeName(v)}`)
    if (v < min || v > max) fail(path, `integer ${v} outside [${min}, ${max}]`)
    return v
  })
}

/** A non-negative safe integer. */
function uint(init: { max?: number } = {}): Schema<number> {
  return int({ min: 0, max: init.max ?? Number.MAX_SAFE_INTEGER })
}

/** An unsigned 64-bit integer as a bigint (token amounts, shares). */
function u64(): Schema<bigint> {
  return schema('u64', (v, path) => {
    let n: bigint
    if (typeof v === 'bigint') n = v
    else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
    else fail(path, `expected an unsigned 64-bit integer, got ${typeName(v)}`)
    if (n < 0n || n > u64Max) fail(path, `integer ${n} outside the u64 range`)
    return n
  })
}

export interface BytesInit {
  /** Exact length, e.g. 32 for a hash. */
  length?: number
  /** @default fieldBytesMax */
  lengthMax?: number
}

function bytes(init: BytesInit = {}): Schema<Uint8Array> {
  const lengthMax = init.lengthMax ?? fieldBytesMax
  return schema(init.length === undefined ? `bytes[..${lengthMax}]` : `bytes[${init.length}]`, (v, path) => {
    if (!(v instanceof Uint8Array)) fail(path, `expected bytes, got ${typeName(v)}`)
    if (init.length !== undefined && v.length !== init.length) fail(path, `expected ${init.length} bytes, got ${v.length}`)
    if (v.length > lengthMax) fail(path, `${v.length} bytes exceeds ${lengthMax}`)
    return v
  })
}

export interface StringInit {
  /** UTF-8 bytes. @default 1024 */
  bytesMax?: number
  pattern?: RegExp
}

function string(init: StringInit = {}): Schema<string> {
  const bytesMax = init.bytesMax ?? 1024
  return schema(`string[..${bytesMax}]`, (v, path) => {
    if (typeof v !== 'string') fail(path, `expected a string, got ${typeName(v)}`)
    if (v.length > bytesMax || utf8.encode(v).length > bytesMax) fail(path, `string exceeds ${bytesMax} bytes`)
    if (init.pattern !== undefined && !init.pattern.test(v)) fail(path, `string does not match ${init.pattern}`)
    return v
  })
}

function bool(): Schema<boolean> {
  return schema('bool', (v, path) => {
    if (typeof v !== 'boolean') fail(path, `expected a boolean, got ${typeName(v)}`)
    return v
  })
}

function literal<const L extends string | number | boolean>(expected: L): Schema<L> {
  return schema(`literal ${JSON.stringify(expected)}`, (v, path) => {
    if (v !== expected) fail(path, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`)
    return expected
  })
}

function enumOf<const L extends string>(values: readonly L[]): Schema<L> {
  const allowed = new Set<string>(values)
  return schema(`enum ${values.join('|')}`, (v, path) => {
    if (typeof v !== 'string' || !allowed.has(v)) fail(path, `expected one of ${values.join(', ')}`)
    return v as L
  })
}

export interface ArrayInit {
  /** @default arrayLengthMax */
  lengthMax?: number
  lengthMin?: number
}

function array<T>(item: Schema<T>, init: ArrayInit = {}): Schema<T[]> {
  const lengthMax = init.lengthMax ?? arrayLengthMax
  const lengthMin = init.lengthMin ?? 0
  return schema(`array<${item.description}>`, (v, path) => {
    if (!Array.isArray(v)) fail(path, `expected an array, got ${typeName(v)}`)
    if (v.length > lengthMax) fail(path, `array of ${v.length} exceeds ${lengthMax}`)
    if (v.length < lengthMin) fail(path, `array of ${v.length} is shorter than ${lengthMin}`)
    return v.map((x, i) => item.parse(x, `${path}[${i}]`))
  })
}

function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { description: `optional ${inner.description}`, isOptional: true, parse: inner.parse }
}

function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`nullable ${inner.description}`, (v, path) => (v === null ? null : inner.parse(v, path)))
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A struct with exactly these fields: unknown fields are refused, optional ones may be absent. */
function struct<S extends Shape>(shape: S): Schema<InferShape<S>> & { readonly shape: S } {
  const keys = Object.keys(shape)
  const known = new Set(keys)
  const s = schema(`struct{${keys.join(',')}}`, (v, path) => {
    if (!isPlainObject(v)) fail(path, `expected a struct, got ${typeName(v)}`)
    for (const k of Object.keys(v)) if (!known.has(k)) fail(path === '' ? k : `${path}.${k}`, 'unknown field')
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const field = shape[k] as Schema<unknown>
      const value = v[k]
      const fieldPath = path === '' ? k : `${path}.${k}`
      if (value === undefined) {
        if ((field as Partial<OptionalSchema<unknown>>).isOptional === true) continue
        fail(fieldPath, 'missing field')
      }
      out[k] = field.parse(value, fieldPath)
    }
    return out as InferShape<S>
  })
  return Object.assign(s, { shape })
}

type VariantMap = Record<string, Schema<unknown> & { readonly shape: Shape }>
type InferVariants<Tag extends string, V extends VariantMap> = {
  [K in keyof V & string]: Simplify<{ [T in Tag]: K } & Infer<V[K]>>
}[keyof V & string]

/**
 * A tagged union: `{ [tag]: 'name', ...fields of variants.name }`.
 * The tag selects the variant before any other field is read.
 */
function variant<const Tag extends string, V extends VariantMap>(tag: Tag, variants: V): Schema<InferVariants<Tag, V>> {
  const names = Object.keys(variants)
  return schema(`variant ${tag}: ${names.join('|')}`, (v, path) => {
    if (!isPlainObject(v)) fail(path, `expected a struct, got ${typeName(v)}`)
    const name = v[tag]
    if (typeof name !== 'string' || !Object.hasOwn(variants, name))
      fail(path === '' ? tag : `${path}.${tag}`, `expected one of ${names.join(', ')}`)
    const { [tag]: _omit, ...rest } = v
    const body = (variants[name] as Schema<Record<string, unknown>>).parse(rest, path)
    return { [tag]: name, ...body } as InferVariants<Tag, V>
  })
}

/** Schema constructors. */
export const t = { int, uint, u64, bytes, string, bool, literal, enumOf, array, optional, nullable, struct, variant }

/** Validates `value` against `schema` and returns its canonical bytes. */
export function encode<T>(schema: Schema<T>, value: T): Uint8Array {
  return encodeCanonical(schema.parse(value))
}

/** Strictly decodes untrusted bytes into a value of `schema`, or throws a CodecError. */
export function decode<T>(schema: Schema<T>, bytes: Uint8Array, init: DecodeInit = {}): T {
  return schema.parse(decodeCanonical(bytes, init))
}
