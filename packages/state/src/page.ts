import assert from 'node:assert'
import { StateError } from './errors.ts'
import { emptyHash, hashBytes, internalHashesInto, nibbleAt } from './hash.ts'

/**
 * Storage layout. The tree is a binary sparse Merkle tree (see README, "Hashing rules");
 * for storage it is cut into pages of 4 bit levels (16 slots), as in Diem's Jellyfish
 * Merkle tree. A page at nibble depth k covers the keys whose paths share their first k
 * nibbles; slot n holds the subtree for nibble n at depth k: nothing, a single leaf
 * (stored inline), or a reference to a child page at depth k + 1. A page always holds
 * at least two leaves below it. Pages are immutable and keyed by the version that wrote
 * them, so every retained version stays readable until it is pruned.
 */

export const slotsPerPage = 16
/** Pages on one path: 64 nibbles of a 256-bit path. */
export const pageDepthMax = 64

export interface Leaf {
  readonly kind: 0
  readonly path: Uint8Array
  readonly valueHash: Uint8Array
  /** leafHashOf(path, valueHash). */
  readonly hash: Uint8Array
  /** Version that wrote this value: its value record is keyed by (path, version). */
  readonly version: number
}

export interface PageRef {
  readonly kind: 1
  /** Hash of the page's subtree; filled in when a new page is hashed. */
  hash: Uint8Array
  /** Version that wrote the page. */
  readonly version: number
  /** Set only while a new page waits to be hashed and written. */
  page: Page | undefined
}

export type Slot = Leaf | PageRef | null

export interface Page {
  /** Nibble depth. */
  readonly depth: number
  /** Any path below this page; its first `depth` nibbles are the page's prefix. */
  readonly path: Uint8Array
  readonly version: number
  readonly slots: Slot[]
  /**
   * The page's binary subtree as a heap: index 1 is the page's root, 2i and 2i+1 the
   * children of i, 16 + n slot n. Computed lazily for read pages.
   */
  heap: PageHeap | undefined
}

/** Kinds of a binary node: empty, a lone leaf (its hash floats up), or internal. */
export const enum NodeKind {
  Empty = 0,
  Leaf = 1,
  Internal = 2,
}

export interface PageHeap {
  readonly kinds: Uint8Array
  /** 32 hashes of 32 bytes, node i at offset 32 * i (index 0 unused). */
  readonly hashes: Uint8Array
}

/** Hash of heap node `node`, as a view. */
export function heapHash(heap: PageHeap, node: number): Uint8Array {
  return heap.hashes.subarray(node * hashBytes, (node + 1) * hashBytes)
}

function slotKind(slot: Slot): NodeKind {
  if (slot === null) return NodeKind.Empty
  return slot.kind === 0 ? NodeKind.Leaf : NodeKind.Internal
}

/**
 * Computes the heaps (and so the root hashes) of pages whose child pages are already
 * hashed: four native hashing calls for any number of pages, one per bit level.
 */
export function hashPages(pages: readonly Page[]): void {
  const heaps: PageHeap[] = new Array<PageHeap>(pages.length)
  for (let p = 0; p < pages.length; p++) {
    const page = pages[p] as Page
    const kinds = new Uint8Array(32)
    const hashes = new Uint8Array(32 * hashBytes) // zero: the empty hash
    for (let n = 0; n < slotsPerPage; n++) {
      const slot = page.slots[n] as Slot
      kinds[16 + n] = slotKind(slot)
      if (slot !== null) hashes.set(slot.hash, (16 + n) * hashBytes)
    }
    heaps[p] = { kinds, hashes }
  }
  let input = new Uint8Array(0)
  let output = new Uint8Array(0)
  for (let level = 3; level >= 0; level--) {
    const first = 1 << level
    const last = first << 1
    // Pass 1: kinds; lone leaves float up; count the internal nodes.
    let count = 0
    for (const heap of heaps) {
      const { kinds, hashes } = heap
      for (let i = first; i < last; i++) {
        const a = kinds[2 * i] as NodeKind
        const b = kinds[2 * i + 1] as NodeKind
        if (a === NodeKind.Empty && b === NodeKind.Empty) kinds[i] = NodeKind.Empty
        else if (a + b === 1) {
          // One lone leaf beside an empty subtree: its hash floats up unchanged.
          kinds[i] = NodeKind.Leaf
          const from = (a === NodeKind.Leaf ? 2 * i : 2 * i + 1) * hashBytes
          hashes.copyWithin(i * hashBytes, from, from + hashBytes)
        } else {
          kinds[i] = NodeKind.Internal
          count++
        }
      }
    }
    if (count === 0) continue
    // Pass 2: one native call for every internal node of this level across all pages.
    // The children of node i are the 64 contiguous bytes at 2i * 32.
    if (input.length < count * 2 * hashBytes) {
      input = new Uint8Array(count * 2 * hashBytes)
      output = new Uint8Array(count * hashBytes)
    }
    let offset = 0
    for (const heap of heaps) {
      const { kinds, hashes } = heap
      for (let i = first; i < last; i++) {
        if (kinds[i] !== NodeKind.Internal) continue
        input.set(hashes.subarray(2 * i * hashBytes, (2 * i + 2) * hashBytes), offset)
        offset += 2 * hashBytes
      }
    }
    internalHashesInto(input.subarray(0, count * 2 * hashBytes), output.subarray(0, count * hashBytes))
    offset = 0
    for (const heap of heaps) {
      const { kinds, hashes } = heap
      for (let i = first; i < last; i++) {
        if (kinds[i] !== NodeKind.Internal) continue
        const at = i * hashBytes
        for (let b = 0; b < hashBytes; b++) hashes[at + b] = output[offset + b] as number
        offset += hashBytes
      }
    }
  }
  for (let p = 0; p < pages.length; p++) {
    const page = pages[p] as Page
    const heap = heaps[p] as PageHeap
    // A page holds at least two leaves, or one child page: its root is internal.
    assert.equal(heap.kinds[1], NodeKind.Internal, 'page root must be internal')
    page.heap = heap
  }
}

/**
 * The root hashes of pages whose child pages are already hashed (32 bytes each, in the
 * order of `pages`), in four native hashing calls for any number of pages. Each bit level
 * of all the pages is laid out as one array, node g of a level having its children at 2g
 * and 2g + 1 of the level below, so the children of every node of a level are one
 * contiguous input: no gathering, and no per-page buffers. Nodes that are not internal are
 * hashed too (a few wasted hashes) and then overwritten: empty, or a lone leaf floating up.
 */
export function hashPageRoots(pages: readonly Page[]): Uint8Array {
  const count = pages.length
  let childHashes = new Uint8Array(count * slotsPerPage * hashBytes)
  let childKinds = new Uint8Array(count * slotsPerPage)
  for (let p = 0; p < count; p++) {
    const slots = (pages[p] as Page).slots
    for (let n = 0; n < slotsPerPage; n++) {
      const slot = slots[n] as Slot
      if (slot === null) continue
      const g = p * slotsPerPage + n
      childKinds[g] = slotKind(slot)
      copySlotHash(slot, childHashes, g * hashBytes)
    }
  }
  for (let width = slotsPerPage >> 1; width >= 1; width >>= 1) {
    const hashes = new Uint8Array(count * width * hashBytes)
    const kinds = new Uint8Array(count * width)
    internalHashesInto(childHashes, hashes)
    for (let g = 0; g < kinds.length; g++) {
      const a = childKinds[2 * g] as NodeKind
      const b = childKinds[2 * g + 1] as NodeKind
      if (a === NodeKind.Empty && b === NodeKind.Empty) {
        hashes.fill(0, g * hashBytes, (g + 1) * hashBytes)
      } else if (a + b === 1) {
        // One lone leaf beside an empty subtree: its hash floats up unchanged.
        kinds[g] = NodeKind.Leaf
        const from = (a === NodeKind.Leaf ? 2 * g : 2 * g + 1) * hashBytes
        const to = g * hashBytes
        for (let k = 0; k < hashBytes; k++) hashes[to + k] = childHashes[from + k] as number
      } else kinds[g] = NodeKind.Internal
    }
    childHashes = hashes
    childKinds = kinds
  }
  // A page holds at least two leaves, or one child page: its root is internal.
  for (let p = 0; p < count; p++) assert.equal(childKinds[p], NodeKind.Internal, 'page root must be internal')
  return childHashes
}

/** Copies a slot's hash into `out` without making a view of it. */
function copySlotHash(slot: Leaf | PageRef, out: Uint8Array, offset: number): void {
  if (slot instanceof PageLeaf) {
    const { bytes } = slot
    const from = slot.offset + 2 * hashBytes
    for (let b = 0; b < hashBytes; b++) out[offset + b] = bytes[from + b] as number
  } else out.set(slot.hash, offset)
}

/** Pages at nibble depths up to this keep their heap once computed (273 pages, about 300 KiB). */
const heapCacheDepthMax = 2

/** The heap of a page, computed if need be; only the top pages keep it (proofs use them all). */
export function heapOf(page: Page): PageHeap {
  if (page.heap !== undefined) return page.heap
  hashPages([page])
  const heap = page.heap as PageHeap | undefined
  assert.ok(heap !== undefined)
  if (page.depth > heapCacheDepthMax) page.heap = undefined
  return heap
}

export function pageHash(page: Page): Uint8Array {
  return heapHash(heapOf(page), 1).slice()
}

// ---------------------------------------------------------------------------------------
// Keys and encodings. All records live in one keyspace, told apart by their first byte.

export const recordPage = 0x6e // 'n' + version(8) + depth(1) + packed prefix nibbles
export const recordValue = 0x76 // 'v' + path(32) + version(8)
export const recordRoot = 0x72 // 'r' + version(8)
export const recordStale = 0x73 // 's' + version(8): records made obsolete by that version
export const recordMeta = 0x6d // 'm': latest version(8) + oldest kept version(8)

export function writeVersion(out: Uint8Array, offset: number, version: number): void {
  const high = Math.floor(version / 0x1_0000_0000)
  const low = version >>> 0
  out[offset] = high >>> 24
  out[offset + 1] = (high >>> 16) & 255
  out[offset + 2] = (high >>> 8) & 255
  out[offset + 3] = high & 255
  out[offset + 4] = low >>> 24
  out[offset + 5] = (low >>> 16) & 255
  out[offset + 6] = (low >>> 8) & 255
  out[offset + 7] = low & 255
}

export function readVersion(bytes: Uint8Array, offset: number): number {
  const high =
    (((bytes[offset] as number) << 24) |
      ((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number)) >>>
    0
  const low =
    (((bytes[offset + 4] as number) << 24) |
      ((bytes[offset + 5] as number) << 16) |
      ((bytes[offset + 6] as number) << 8) |
      (bytes[offset + 7] as number)) >>>
    0
  return high * 0x1_0000_0000 + low
}

export function pageKey(version: number, depth: number, path: Uint8Array): Uint8Array {
  const prefixBytes = (depth + 1) >> 1
  const key = new Uint8Array(1 + 8 + 1 + prefixBytes)
  key[0] = recordPage
  writeVersion(key, 1, version)
  key[9] = depth
  key.set(path.subarray(0, prefixBytes), 10)
  if (depth & 1) key[9 + prefixBytes] = (key[9 + prefixBytes] as number) & 0xf0
  return key
}

export function valueKey(path: Uint8Array, version: number): Uint8Array {
  const key = new Uint8Array(1 + hashBytes + 8)
  key[0] = recordValue
  key.set(path, 1)
  writeVersion(key, 1 + hashBytes, version)
  return key
}

export function versionKey(record: number, version: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = record
  writeVersion(key, 1, version)
  return key
}

const leafBytes = 3 * hashBytes + 8
const refBytes = hashBytes + 8

/** Page bytes: slot bitmap (2), leaf bitmap (2), then each non-empty slot in order. */
export function encodePage(page: Page): Uint8Array {
  let size = 4
  let slotBits = 0
  let leafBits = 0
  for (let n = 0; n < slotsPerPage; n++) {
    const slot = page.slots[n] as Slot
    if (slot === null) continue
    slotBits |= 1 << n
    if (slot.kind === 0) {
      leafBits |= 1 << n
      size += leafBytes
    } else size += refBytes
  }
  const out = new Uint8Array(size)
  out[0] = slotBits >> 8
  out[1] = slotBits & 255
  out[2] = leafBits >> 8
  out[3] = leafBits & 255
  let offset = 4
  for (let n = 0; n < slotsPerPage; n++) {
    const slot = page.slots[n] as Slot
    if (slot === null) continue
    offset = encodeSlotBody(slot, out, offset)
  }
  return out
}

function encodeSlotBody(slot: Leaf | PageRef, out: Uint8Array, offset: number): number {
  if (slot.kind === 0) {
    out.set(slot.path, offset)
    out.set(slot.valueHash, offset + hashBytes)
    out.set(slot.hash, offset + 2 * hashBytes)
    writeVersion(out, offset + 3 * hashBytes, slot.version)
    return offset + leafBytes
  }
  out.set(slot.hash, offset)
  writeVersion(out, offset + hashBytes, slot.version)
  return offset + refBytes
}

function corrupt(what: string): never {
  throw new StateError('STATE_CORRUPT', `Malformed ${what} record in the database`)
}

export function decodePage(bytes: Uint8Array, depth: number, path: Uint8Array, version: number): Page {
  if (bytes.length < 4) corrupt('page')
  const slotBits = ((bytes[0] as number) << 8) | (bytes[1] as number)
  const leafBits = ((bytes[2] as number) << 8) | (bytes[3] as number)
  if ((leafBits & ~slotBits) !== 0) corrupt('page')
  const slots: Slot[] = new Array<Slot>(slotsPerPage).fill(null)
  let offset = 4
  for (let n = 0; n < slotsPerPage; n++) {
    if ((slotBits & (1 << n)) === 0) continue
    if (leafBits & (1 << n)) {
      if (offset + leafBytes > bytes.length) corrupt('page')
      slots[n] = decodeLeaf(bytes, offset)
      offset += leafBytes
    } else {
      if (offset + refBytes > bytes.length) corrupt('page')
      slots[n] = {
        kind: 1,
        hash: bytes.subarray(offset, offset + hashBytes),
        version: readVersion(bytes, offset + hashBytes),
        page: undefined,
      }
      offset += refBytes
    }
  }
  if (offset !== bytes.length) corrupt('page')
  return { depth, path, version, slots, heap: undefined }
}

function decodeLeaf(bytes: Uint8Array, offset: number): Leaf {
  return new PageLeaf(bytes, offset)
}

/**
 * A leaf read from page bytes. It keeps the bytes and an offset and makes its views on
 * demand: one small object per resident leaf instead of four (a million-key tree stays in
 * memory, see README "Memory").
 */
class PageLeaf implements Leaf {
  readonly kind = 0 as const
  readonly version: number
  readonly bytes: Uint8Array
  readonly offset: number

  constructor(bytes: Uint8Array, offset: number) {
    this.bytes = bytes
    this.offset = offset
    this.version = readVersion(bytes, offset + 3 * hashBytes)
  }

  get path(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + hashBytes)
  }

  get valueHash(): Uint8Array {
    return this.bytes.subarray(this.offset + hashBytes, this.offset + 2 * hashBytes)
  }

  get hash(): Uint8Array {
    return this.bytes.subarray(this.offset + 2 * hashBytes, this.offset + 3 * hashBytes)
  }
}

/** Root record: 0 (empty), 1 + leaf, or 2 + page reference. */
export function encodeRoot(slot: Slot): Uint8Array {
  if (slot === null) return Uint8Array.of(0)
  const out = new Uint8Array(1 + (slot.kind === 0 ? leafBytes : refBytes))
  out[0] = slot.kind + 1
  encodeSlotBody(slot, out, 1)
  return out
}

export function decodeRoot(bytes: Uint8Array): Slot {
  if (bytes.length === 1 && bytes[0] === 0) return null
  if (bytes.length === 1 + leafBytes && bytes[0] === 1) return decodeLeaf(bytes, 1)
  if (bytes.length === 1 + refBytes && bytes[0] === 2) {
    return { kind: 1, hash: bytes.subarray(1, 1 + hashBytes), version: readVersion(bytes, 1 + hashBytes), page: undefined }
  }
  return corrupt('root')
}

export function slotHash(slot: Slot): Uint8Array {
  return slot === null ? emptyHash : slot.hash
}

export { nibbleAt }
