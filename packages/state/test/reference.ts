import { createHash } from 'node:crypto'

/**
 * A deliberately naive, independent statement of the hashing rules (README, "Hashing
 * rules"): the root of a set of entries, recomputed from scratch with node:crypto.
 */
function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export function referencePath(key: Uint8Array): Uint8Array {
  return key.length === 32 ? key : sha256(key)
}

function bit(path: Uint8Array, i: number): number {
  return ((path[i >> 3] as number) >> (7 - (i & 7))) & 1
}

interface Entry {
  path: Uint8Array
  valueHash: Uint8Array
}

function subtree(entries: Entry[], depth: number): Uint8Array {
  if (entries.length === 0) return new Uint8Array(32)
  if (entries.length === 1) {
    const e = entries[0] as Entry
    return sha256(Uint8Array.of(0), e.path, e.valueHash)
  }
  const left = entries.filter((e) => bit(e.path, depth) === 0)
  const right = entries.filter((e) => bit(e.path, depth) === 1)
  return sha256(subtree(left, depth + 1), subtree(right, depth + 1))
}

/** Root of a map from key to value. */
export function referenceRoot(model: ReadonlyMap<string, Uint8Array>, keyOf: (id: string) => Uint8Array): Uint8Array {
  const entries: Entry[] = []
  for (const [id, value] of model) entries.push({ path: referencePath(keyOf(id)), valueHash: sha256(value) })
  return subtree(entries, 0)
}
