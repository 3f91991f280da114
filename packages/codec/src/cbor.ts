import * as dagCbor from '@ipld/dag-cbor'
import { CodecError } from './errors.ts'

/**
 * Default bound on one decoded message. Blocks are the largest values; the chain
 * sets its own, smaller limits per kind. CometBFT: max block 21 MB (we stay far below).
 */
export const messageBytesMax = 8 * 1024 * 1024

export interface DecodeInit {
  /** Refuse inputs longer than this. @default messageBytesMax */
  bytesMax?: number
}

/**
 * Canonical DAG-CBOR encoding: map keys sorted by length then bytes, minimal
 * integer and length encodings, no indefinite lengths, no undefined, floats only
 * as float64. The same value always gives the same bytes, so hashes and
 * signatures over it are stable across nodes.
 */
export function encodeCanonical(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value)
  } catch (err) {
    throw new CodecError('CODEC_SCHEMA', `value cannot be encoded: ${(err as Error).message}`)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Strict decoding of untrusted bytes. Accepts only the canonical encoding of a
 * value: anything else (malformed, trailing bytes, unsorted or duplicate keys,
 * non-minimal integers, oversized input) raises a {@link CodecError}.
 */
export function decodeCanonical(bytes: Uint8Array, init: DecodeInit = {}): unknown {
  const bytesMax = init.bytesMax ?? messageBytesMax
  if (!(bytes instanceof Uint8Array)) throw new CodecError('CODEC_MALFORMED', 'input is not a byte array')
  if (bytes.length > bytesMax) throw new CodecError('CODEC_TOO_LARGE', `message of ${bytes.length} bytes exceeds ${bytesMax}`)
  if (bytes.length === 0) throw new CodecError('CODEC_MALFORMED', 'empty input')
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    const message = (err as Error).message
    if (/too many terminals|remainder/i.test(message)) throw new CodecError('CODEC_TRAILING_BYTES', message)
    if (/non-canonical|not sorted|duplicate|minimal|strict/i.test(message)) throw new CodecError('CODEC_NON_CANONICAL', message)
    throw new CodecError('CODEC_MALFORMED', message)
  }
  // The decoder's strict mode checks integer and length forms; re-encoding checks
  // everything else (key order, float width) in one rule: canonical means
  // encode(decode(bytes)) === bytes.
  let again: Uint8Array
  try {
    again = dagCbor.encode(value)
  } catch (err) {
    throw new CodecError('CODEC_NON_CANONICAL', `decoded value does not re-encode: ${(err as Error).message}`)
  }
  if (!sameBytes(again, bytes)) throw new CodecError('CODEC_NON_CANONICAL', 'input is not the canonical encoding of its value')
  return value
}

export { sameBytes as bytesEqual }
