/**
 * The state proof format of {@link MemoryBackend}: `terrane-memory-v1`. The state
 * at a height is the list of (key, value) pairs sorted by key; its root is the
 * RFC 6962 Merkle root of the canonical encodings of the pairs. A presence proof
 * is one inclusion proof; an absence proof is the inclusion proofs of the two
 * neighbours that bracket the key (adjacent leaves), or of the one neighbour at
 * an end, or nothing for the empty tree.
 *
 * It stands in until `@terrane/state` exports its own proof and `verifyProof`; the
 * SDK picks a verifier by `proofFormat`.
 */
import { bytesEqual, decodeCanonical, encodeCanonical, merkleProof, merkleRoot, verifyMerkleProof } from '@terrane/codec'

export const memoryProofFormat = 'terrane-memory-v1'

interface LeafProof {
  key: Uint8Array
  value: Uint8Array
  index: number
  siblings: Uint8Array[]
}

interface EncodedProof {
  count: number
  leaves: LeafProof[]
}

/** Canonical bytes of one state entry: the Merkle leaf. */
export function stateLeaf(key: Uint8Array, value: Uint8Array): Uint8Array {
  return encodeCanonical([key, value])
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** A sorted snapshot of state entries with its root. */
export interface StateSnapshot {
  keys: Uint8Array[]
  values: Uint8Array[]
  leaves: Uint8Array[]
  root: Uint8Array
}

export function snapshotOf(entries: Iterable<[Uint8Array, Uint8Array]>): StateSnapshot {
  const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]))
  const keys = sorted.map((e) => e[0])
  const values = sorted.map((e) => e[1])
  const leaves = sorted.map((e) => stateLeaf(e[0], e[1]))
  return { keys, values, leaves, root: merkleRoot(leaves) }
}

/** Proves `key` present (returns its value) or absent (value null) in the snapshot. */
export function proveMemoryState(snapshot: StateSnapshot, key: Uint8Array): { value: Uint8Array | null; proof: Uint8Array } {
  const { keys, values, leaves } = snapshot
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareBytes(keys[mid] as Uint8Array, key) < 0) lo = mid + 1
    else hi = mid
  }
  const leafAt = (i: number): LeafProof => ({
    key: keys[i] as Uint8Array,
    value: values[i] as Uint8Array,
    index: i,
    siblings: merkleProof(leaves, i).siblings,
  })
  const isPresent = lo < keys.length && compareBytes(keys[lo] as Uint8Array, key) === 0
  const proofLeaves: LeafProof[] = []
  if (isPresent) proofLeaves.push(leafAt(lo))
  else {
    if (lo > 0) proofLeaves.push(leafAt(lo - 1))
    if (lo < keys.length) proofLeaves.push(leafAt(lo))
  }
  const encoded: EncodedProof = { count: keys.length, leaves: proofLeaves }
  return { value: isPresent ? (values[lo] as Uint8Array) : null, proof: encodeCanonical(encoded) }
}

function parseProof(proof: Uint8Array): EncodedProof | null {
  let raw: unknown
  try {
    raw = decodeCanonical(proof)
  } catch {
    return null
  }
  if (typeof raw !== 'object' || raw === null) return null
  const { count, leaves } = raw as Record<string, unknown>
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || !Array.isArray(leaves) || leaves.length > 2) return null
  const out: LeafProof[] = []
  for (const l of leaves as unknown[]) {
    if (typeof l !== 'object' || l === null) return null
    const { key, value, index, siblings } = l as Record<string, unknown>
    if (!(key instanceof Uint8Array) || !(value instanceof Uint8Array)) return null
    if (typeof index !== 'number' || !Number.isSafeInteger(index)) return null
    if (!Array.isArray(siblings) || !siblings.every((s) => s instanceof Uint8Array)) return null
    out.push({ key, value, index, siblings: siblings as Uint8Array[] })
  }
  return { count, leaves: out }
}

/**
 * Checks a `terrane-memory-v1` proof: `value` is what the root holds under `key`
 * (null = absent). Never throws; a malformed proof is simply false.
 */
export function verifyMemoryStateProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | null, proof: Uint8Array): boolean {
  const parsed = parseProof(proof)
  if (parsed === null) return false
  const { count, leaves } = parsed
  const included = (l: LeafProof): boolean =>
    verifyMerkleProof(root, stateLeaf(l.key, l.value), { index: l.index, count, siblings: l.siblings })
  if (!leaves.every(included)) return false
  if (value !== null) {
    const leaf = leaves[0]
    return leaves.length === 1 && leaf !== undefined && bytesEqual(leaf.key, key) && bytesEqual(leaf.value, value)
  }
  // Absence: the bracketing neighbours must be adjacent and strictly around the key.
  if (count === 0) return leaves.length === 0 && bytesEqual(root, merkleRoot([]))
  const [first, second] = leaves
  if (first === undefined) return false
  if (second === undefined) {
    const c = compareBytes(key, first.key)
    return (first.index === 0 && c < 0) || (first.index === count - 1 && c > 0)
  }
  return second.index === first.index + 1 && compareBytes(first.key, key) < 0 && compareBytes(key, second.key) < 0
}
