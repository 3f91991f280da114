import { StateError } from './errors.ts'
import { bitAt, bytesEqual, emptyHash, hashBytes, internalHashesInto, leafHashOf, pathOf, valueHashOf } from './hash.ts'

/** Most siblings a proof can carry: one per bit of a 256-bit path. */
export const proofSiblingsMax = 256

/**
 * A Merkle proof for one key: the path from the root down to the node where the search
 * for the key ends, which is either the key's leaf (inclusion), another leaf sharing the
 * prefix walked so far (non-inclusion), or an empty subtree (non-inclusion).
 */
export interface StateProof {
  /** Sibling hashes from the root downward; `siblings[i]` is the sibling at bit depth i. */
  siblings: Uint8Array[]
  /** The leaf where the search ended, or null if it ended in an empty subtree. */
  leaf: { path: Uint8Array; valueHash: Uint8Array } | null
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === hashBytes
}

/** True when `proof` has the exact shape of a StateProof (types and lengths). */
export function isWellFormedProof(proof: unknown): proof is StateProof {
  if (typeof proof !== 'object' || proof === null) return false
  const { siblings, leaf } = proof as { siblings?: unknown; leaf?: unknown }
  if (!Array.isArray(siblings) || siblings.length > proofSiblingsMax) return false
  for (const s of siblings) if (!isHash(s)) return false
  if (leaf === null) return true
  if (typeof leaf !== 'object' || leaf === undefined) return false
  const { path, valueHash } = leaf as { path?: unknown; valueHash?: unknown }
  return isHash(path) && isHash(valueHash)
}

/** The path of `key` and the hash the proof starts from, or null if they cannot agree. */
function terminalOf(key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): { path: Uint8Array; hash: Uint8Array } | null {
  const path = pathOf(key)
  const { leaf, siblings } = proof
  if (value !== undefined) {
    // Inclusion: the search must end at the key's own leaf, holding this value.
    if (leaf === null || !bytesEqual(leaf.path, path) || !bytesEqual(leaf.valueHash, valueHashOf(value))) return null
    return { path, hash: leafHashOf(path, leaf.valueHash) }
  }
  if (leaf === null) return { path, hash: emptyHash }
  // Non-inclusion by another leaf: it must sit where the key's search would end.
  if (bytesEqual(leaf.path, path)) return null
  for (let i = 0; i < siblings.length; i++) if (bitAt(leaf.path, i) !== bitAt(path, i)) return null
  return { path, hash: leafHashOf(leaf.path, leaf.valueHash) }
}

function isValidInput(root: unknown, key: unknown, value: unknown, proof: unknown): proof is StateProof {
  return isHash(root) && key instanceof Uint8Array && (value === undefined || value instanceof Uint8Array) && isWellFormedProof(proof)
}

// Two 64-byte preimage buffers, used in turn: each level's hash is written by the native
// call straight into its half of the next level's preimage (no copies, no allocations).
const foldA = new Uint8Array(2 * hashBytes)
const foldB = new Uint8Array(2 * hashBytes)
/** Half `2 * buffer + side` of the two buffers. */
const foldHalves: readonly Uint8Array[] = [
  foldA.subarray(0, hashBytes),
  foldA.subarray(hashBytes),
  foldB.subarray(0, hashBytes),
  foldB.subarray(hashBytes),
]
const foldHalf = (buffer: number, side: number): Uint8Array => foldHalves[2 * buffer + side] as Uint8Array
const foldResult = new Uint8Array(hashBytes)

/**
 * Checks that under `root`, `key` holds `value` (or is absent, when `value` is
 * undefined). Pure: needs no database. Returns false for any proof that does not verify,
 * including proofs of the wrong shape; never throws.
 */
export function verifyProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): boolean {
  if (!isValidInput(root, key, value, proof)) return false
  const start = terminalOf(key, value, proof)
  if (start === null) return false
  const { siblings } = proof
  const { path } = start
  if (siblings.length === 0) return bytesEqual(start.hash, root)
  // Level i's preimage lives in buffer i & 1; the hash below it sits in the half given by bit i.
  let depth = siblings.length - 1
  let bit = bitAt(path, depth)
  let buffer = depth & 1
  foldHalf(buffer, bit).set(start.hash)
  for (; depth >= 0; depth--) {
    foldHalf(buffer, bit ^ 1).set(siblings[depth] as Uint8Array)
    const input = buffer === 0 ? foldA : foldB
    if (depth === 0) {
      internalHashesInto(input, foldResult)
      break
    }
    bit = bitAt(path, depth - 1)
    buffer ^= 1
    internalHashesInto(input, foldHalf(buffer, bit))
  }
  return bytesEqual(foldResult, root)
}

export interface ProofCheck {
  root: Uint8Array
  key: Uint8Array
  value: Uint8Array | undefined
  proof: StateProof
}

/**
 * Verifies many proofs at once, hashing one tree level of all of them per native call.
 * Same verdicts as {@link verifyProof}, in order.
 */
export function verifyProofs(checks: readonly ProofCheck[]): boolean[] {
  const results = new Array<boolean>(checks.length).fill(false)
  const live: { index: number; path: Uint8Array; hash: Uint8Array; siblings: Uint8Array[] }[] = []
  let depthMax = 0
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as ProofCheck
    if (!isValidInput(c?.root, c?.key, c?.value, c?.proof)) continue
    const start = terminalOf(c.key, c.value, c.proof)
    if (start === null) continue
    live.push({ index: i, path: start.path, hash: start.hash, siblings: c.proof.siblings })
    depthMax = Math.max(depthMax, c.proof.siblings.length)
  }
  let input = new Uint8Array(live.length * 2 * hashBytes)
  let output = new Uint8Array(live.length * hashBytes)
  for (let depth = depthMax - 1; depth >= 0; depth--) {
    let count = 0
    for (const p of live) {
      if (p.siblings.length <= depth) continue
      const sibling = p.siblings[depth] as Uint8Array
      const at = count * 2 * hashBytes
      if (bitAt(p.path, depth) === 0) {
        input.set(p.hash, at)
        input.set(sibling, at + hashBytes)
      } else {
        input.set(sibling, at)
        input.set(p.hash, at + hashBytes)
      }
      count++
    }
    internalHashesInto(input.subarray(0, count * 2 * hashBytes), output.subarray(0, count * hashBytes))
    count = 0
    for (const p of live) {
      if (p.siblings.length <= depth) continue
      p.hash = output.slice(count * hashBytes, (count + 1) * hashBytes)
      count++
    }
  }
  for (const p of live) results[p.index] = bytesEqual(p.hash, (checks[p.index] as ProofCheck).root)
  // Keep the scratch buffers collectable.
  input = output = new Uint8Array(0)
  return results
}

/** Proof wire format version. */
const proofFormat = 1

/**
 * Proof bytes: format (1 byte, = 1), has-leaf flag (1 byte, 0 or 1), sibling count
 * (2 bytes, big-endian, at most 256), then leaf path and value hash (64 bytes, if the
 * flag is 1), then the siblings (32 bytes each, root first).
 */
export function encodeStateProof(proof: StateProof): Uint8Array {
  if (!isWellFormedProof(proof)) throw new StateError('STATE_PROOF_MALFORMED', 'Not a well-formed state proof')
  const count = proof.siblings.length
  const leafBytes = proof.leaf === null ? 0 : 2 * hashBytes
  const out = new Uint8Array(4 + leafBytes + count * hashBytes)
  out[0] = proofFormat
  out[1] = proof.leaf === null ? 0 : 1
  out[2] = count >> 8
  out[3] = count & 255
  let offset = 4
  if (proof.leaf !== null) {
    out.set(proof.leaf.path, offset)
    out.set(proof.leaf.valueHash, offset + hashBytes)
    offset += 2 * hashBytes
  }
  for (const s of proof.siblings) {
    out.set(s, offset)
    offset += hashBytes
  }
  return out
}

/** Parses proof bytes strictly: any other length, flag or format is refused. */
export function decodeStateProof(bytes: Uint8Array): StateProof {
  const malformed = (why: string): never => {
    throw new StateError('STATE_PROOF_MALFORMED', `Malformed state proof: ${why}`)
  }
  if (!(bytes instanceof Uint8Array) || bytes.length < 4) return malformed('too short')
  if (bytes[0] !== proofFormat) return malformed(`unknown format ${bytes[0]}`)
  const flag = bytes[1]
  if (flag !== 0 && flag !== 1) return malformed('bad leaf flag')
  const count = ((bytes[2] as number) << 8) | (bytes[3] as number)
  if (count > proofSiblingsMax) return malformed('too many siblings')
  const leafBytes = flag === 1 ? 2 * hashBytes : 0
  if (bytes.length !== 4 + leafBytes + count * hashBytes) return malformed('wrong length')
  let offset = 4
  let leaf: StateProof['leaf'] = null
  if (flag === 1) {
    leaf = { path: bytes.slice(4, 4 + hashBytes), valueHash: bytes.slice(4 + hashBytes, 4 + 2 * hashBytes) }
    offset += leafBytes
  }
  const siblings: Uint8Array[] = []
  for (let i = 0; i < count; i++, offset += hashBytes) siblings.push(bytes.slice(offset, offset + hashBytes))
  return { siblings, leaf }
}
