import { hash as nodeHash } from 'node:crypto'
import { hashInto } from '@chainsafe/hashtree'

/** Length of every hash and key path, in bytes. */
export const hashBytes = 32

/**
 * The hash of an empty subtree: 32 zero bytes. No SHA-256 preimage of it is known, so it
 * can stand for neither a leaf nor an internal node.
 */
export const emptyHash: Uint8Array = new Uint8Array(hashBytes)

/** First byte of a leaf's 65-byte preimage (internal nodes hash exactly 64 bytes). */
export const leafPrefix = 0x00

/** SHA-256 of `data` (node:crypto one-shot). */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = nodeHash('sha256', data, 'buffer')
  // A plain Uint8Array view: Buffers would leak Buffer semantics into the API.
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/**
 * The 256-bit path of a key in the tree. Keys of exactly 32 bytes are taken as already
 * hashed (the chain hashes its own keys) and are their own path; any other key is hashed
 * with SHA-256. So a key K of another length and the 32-byte key SHA-256(K) name the same
 * entry: callers must not mix raw 32-byte keys with keys they expect to be hashed.
 */
export function pathOf(key: Uint8Array): Uint8Array {
  return key.length === hashBytes ? key : sha256(key)
}

/** The hash of a stored value: SHA-256(value). */
export function valueHashOf(value: Uint8Array): Uint8Array {
  return sha256(value)
}

const leafScratch = new Uint8Array(1 + 2 * hashBytes)

/**
 * Writes a leaf's value hash and leaf hash into `out`: `out` holds the path at `offset`,
 * and receives SHA-256(value) at `offset + 32` and the leaf hash at `offset + 64` (the
 * layout of a leaf in a page), with no intermediate arrays kept.
 */
export function leafHashesInto(value: Uint8Array, out: Uint8Array, offset: number): void {
  const valueHash = nodeHash('sha256', value, 'buffer')
  out.set(valueHash, offset + hashBytes)
  leafScratch[0] = leafPrefix
  leafScratch.set(out.subarray(offset, offset + hashBytes), 1)
  leafScratch.set(valueHash, 1 + hashBytes)
  out.set(nodeHash('sha256', leafScratch, 'buffer'), offset + 2 * hashBytes)
}

/** The hash of a leaf: SHA-256(0x00 || path || valueHash), a 65-byte preimage. */
export function leafHashOf(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  leafScratch[0] = leafPrefix
  leafScratch.set(path, 1)
  leafScratch.set(valueHash, 1 + hashBytes)
  return sha256(leafScratch)
}

const pairScratch = new Uint8Array(2 * hashBytes)

/** The hash of an internal node: SHA-256(left || right), a 64-byte preimage. */
export function internalHashOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  pairScratch.set(left, 0)
  pairScratch.set(right, hashBytes)
  const out = new Uint8Array(hashBytes)
  hashInto(pairScratch, out)
  return out
}

/**
 * Hashes `count` concatenated 64-byte preimages from `input` into `count` 32-byte hashes
 * in `output`, in one native call (@chainsafe/hashtree, SHA-256 with SIMD where available).
 */
export function internalHashesInto(input: Uint8Array, output: Uint8Array): void {
  if (input.length === 0) return
  hashInto(input, output)
}

/** Constant-length byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Bit `index` (0 = most significant bit of byte 0) of a path. */
export function bitAt(path: Uint8Array, index: number): number {
  return ((path[index >> 3] as number) >> (7 - (index & 7))) & 1
}

/** Nibble `index` (0 = high half of byte 0) of a path. */
export function nibbleAt(path: Uint8Array, index: number): number {
  const byte = path[index >> 1] as number
  return index & 1 ? byte & 15 : byte >> 4
}
