import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'
import * as dagCbor from '@ipld/dag-cbor'
import { encode, type Schema } from './schema.ts'

/** Length of every hash in the protocol. */
export const hashBytes = 32

/** SHA-256 of the concatenation of the given parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  const digest = h.digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** The hash of a value's canonical encoding: its identity everywhere in Terrane. */
export function hashOf<T>(schema: Schema<T>, value: T): Uint8Array {
  return sha256(encode(schema, value))
}

/** The content identifier (CIDv1, dag-cbor, sha2-256) of canonical bytes. */
export function cidOf(canonicalBytes: Uint8Array): CID {
  return CID.create(1, dagCbor.code, Digest.create(sha256Hasher.code, sha256(canonicalBytes)))
}

/** The CID of an encoded value, as its usual base32 string. */
export function contentIdOf<T>(schema: Schema<T>, value: T): string {
  return cidOf(encode(schema, value)).toString()
}

const leafPrefix = Uint8Array.of(0)
const nodePrefix = Uint8Array.of(1)
const emptyRoot = sha256()

/**
 * Merkle root of an ordered list (transactions in a block, accepted reports in an
 * epoch), as in RFC 6962 section 2.1: leaves hashed with a 0x00 prefix, inner
 * nodes with 0x01, split at the largest power of two below n. Prefixes stop a
 * leaf from being passed off as an inner node.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return emptyRoot
  let level = leaves.map((l) => sha256(leafPrefix, l))
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array
      const right = level[i + 1]
      next.push(right === undefined ? left : sha256(nodePrefix, left, right))
    }
    level = next
  }
  return level[0] as Uint8Array
}

/** Sibling hashes from a leaf up to the root; `index` and `count` fix the shape. */
export interface MerkleProof {
  index: number
  count: number
  siblings: Uint8Array[]
}

/** Inclusion proof for leaf `index` in the list (same tree shape as {@link merkleRoot}). */
export function merkleProof(leaves: readonly Uint8Array[], index: number): MerkleProof {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} out of range`)
  let level = leaves.map((l) => sha256(leafPrefix, l))
  let position = index
  const siblings: Uint8Array[] = []
  while (level.length > 1) {
    const sibling = position % 2 === 0 ? level[position + 1] : level[position - 1]
    if (sibling !== undefined) siblings.push(sibling)
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array
      const right = level[i + 1]
      next.push(right === undefined ? left : sha256(nodePrefix, left, right))
    }
    level = next
    position = Math.floor(position / 2)
  }
  return { index, count: leaves.length, siblings }
}

/** Checks an inclusion proof without the list. Wrong shapes return false. */
export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  const { index, count, siblings } = proof
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) return false
  let hash = sha256(leafPrefix, leaf)
  let position = index
  let width = count
  let used = 0
  while (width > 1) {
    const isLastOdd = position === width - 1 && width % 2 === 1
    if (!isLastOdd) {
      const sibling = siblings[used++]
      if (sibling === undefined || sibling.length !== hashBytes) return false
      hash = position % 2 === 0 ? sha256(nodePrefix, hash, sibling) : sha256(nodePrefix, sibling, hash)
    }
    position = Math.floor(position / 2)
    width = Math.ceil(width / 2)
  }
  return used === siblings.length && bytesEqualHash(hash, root)
}

function bytesEqualHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
