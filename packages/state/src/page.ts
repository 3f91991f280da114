import assert from 'node:assert'
import { StateError } from './errors.ts'
import { emptyHash, hashBytes, internalHashesInto, leafHashesInto, nibbleAt } from './hash.ts'

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
/** Bytes of a leaf in a page: path, value hash, leaf hash, version. */
const leafBytes = 3 * hashBytes + 8
/** Bytes of a child page reference: hash, version. */
const refBytes = hashBytes + 8
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

/**
 * A page as stored: its encoded bytes (see `encodeDraft`), read slot by slot on demand.
 * Pages of the latest tree stay in memory, linked to their loaded child pages through
 * `children`; a resident page is one object, one buffer and at most one small array, with
 * no object per leaf, which keeps a million-key tree cheap for the garbage collector.
 */
export interface Page {
  /** Nibble depth. */
  readonly depth: number
  readonly version: number
  readonly bytes: Uint8Array
  /** Loaded child pages of the resident tree, by nibble (never set for past versions). */
  children: (Page | undefined)[] | undefined
  /**
   * The page's binary subtree as a heap: index 1 is the page's root, 2i and 2i+1 the
   * children of i, 16 + n slot n. Computed lazily; kept only for the top pages.
   */
  heap: PageHeap | undefined
}

/**
 * A page being built by a commit, and the reference its parent will hold. It names only
 * the slots that changed; the others are those of `base`, the page it replaces, and are
 * hashed and encoded straight from its bytes, with no object per unchanged slot.
 */
export interface DraftPage {
  readonly depth: number
  /** Any path below the page (its first `depth` nibbles are the page's prefix), for its key. */
  readonly path: Uint8Array
  readonly ref: PageRef
  /** The page this one replaces, or undefined for a page built from leaves alone. */
  readonly base: Page | undefined
  /** Slots by nibble; `undefined` means "as in `base`" (and so is never used without a base). */
  readonly slots: (Slot | undefined)[]
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
 * Computes the heap of a stored page from its bytes: the slot hashes sit in the page
 * (a leaf's hash after its path and value hash, a child page's hash first), four native
 * hashing calls at most, one per bit level.
 */
function computeHeap(page: Page): PageHeap {
  const { bytes } = page
  const kinds = new Uint8Array(32)
  const hashes = new Uint8Array(32 * hashBytes) // zero: the empty hash
  const slotBits = ((bytes[0] as number) << 8) | (bytes[1] as number)
  const leafBits = ((bytes[2] as number) << 8) | (bytes[3] as number)
  let offset = 4
  for (let n = 0; n < slotsPerPage; n++) {
    if ((slotBits & (1 << n)) === 0) continue
    if (leafBits & (1 << n)) {
      kinds[16 + n] = NodeKind.Leaf
      hashes.set(bytes.subarray(offset + 2 * hashBytes, offset + 3 * hashBytes), (16 + n) * hashBytes)
      offset += leafBytes
    } else {
      kinds[16 + n] = NodeKind.Internal
      hashes.set(bytes.subarray(offset, offset + hashBytes), (16 + n) * hashBytes)
      offset += refBytes
    }
  }
  const input = new Uint8Array(8 * 2 * hashBytes)
  const output = new Uint8Array(8 * hashBytes)
  for (let level = 3; level >= 0; level--) {
    const first = 1 << level
    const last = first << 1
    let count = 0
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
        // The children of node i are the 64 contiguous bytes at 2i * 32.
        input.set(hashes.subarray(2 * i * hashBytes, (2 * i + 2) * hashBytes), count * 2 * hashBytes)
        count++
      }
    }
    if (count === 0) continue
    internalHashesInto(input.subarray(0, count * 2 * hashBytes), output.subarray(0, count * hashBytes))
    let at = 0
    for (let i = first; i < last; i++) {
      if (kinds[i] !== NodeKind.Internal) continue
      hashes.set(output.subarray(at * hashBytes, (at + 1) * hashBytes), i * hashBytes)
      at++
    }
  }
  // A page holds at least two leaves, or one child page: its root is internal.
  assert.equal(kinds[1], NodeKind.Internal, 'page root must be internal')
  return { kinds, hashes }
}

/**
 * The root hashes of pages whose child pages are already hashed (32 bytes each, in the
 * order of `pages`), in four native hashing calls for any number of pages. Each bit level
 * of all the pages is laid out as one array, node g of a level having its children at 2g
 * and 2g + 1 of the level below, so the children of every node of a level are one
 * contiguous input: no gathering, and no per-page buffers. Nodes that are not internal are
 * hashed too (a few wasted hashes) and then overwritten: empty, or a lone leaf floating up.
 */
export function hashPageRoots(pages: readonly DraftPage[]): Uint8Array {
  const count = pages.length
  let childHashes = new Uint8Array(count * slotsPerPage * hashBytes)
  let childKinds = new Uint8Array(count * slotsPerPage)
  for (let p = 0; p < count; p++) {
    const { slots, base } = pages[p] as DraftPage
    const baseBytes = base?.bytes
    const slotBits = baseBytes === undefined ? 0 : ((baseBytes[0] as number) << 8) | (baseBytes[1] as number)
    const leafBits = baseBytes === undefined ? 0 : ((baseBytes[2] as number) << 8) | (baseBytes[3] as number)
    let baseOffset = 4
    for (let n = 0; n < slotsPerPage; n++) {
      const slot = slots[n]
      const g = p * slotsPerPage + n
      const bit = 1 << n
      if (slot === undefined && baseBytes !== undefined && (slotBits & bit) !== 0) {
        // Unchanged: a leaf's hash follows its path and value hash; a reference's comes first.
        const isLeaf = (leafBits & bit) !== 0
        childKinds[g] = isLeaf ? NodeKind.Leaf : NodeKind.Internal
        copyHash(baseBytes, baseOffset + (isLeaf ? 2 * hashBytes : 0), childHashes, g * hashBytes)
      } else if (slot !== undefined && slot !== null) {
        childKinds[g] = slotKind(slot)
        copySlotHash(slot, childHashes, g * hashBytes)
      }
      if ((slotBits & bit) !== 0) baseOffset += (leafBits & bit) !== 0 ? leafBytes : refBytes
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
        copyHash(childHashes, (a === NodeKind.Leaf ? 2 * g : 2 * g + 1) * hashBytes, hashes, g * hashBytes)
      } else kinds[g] = NodeKind.Internal
    }
    childHashes = hashes
    childKinds = kinds
  }
  // A page holds at least two leaves, or one child page: its root is internal.
  for (let p = 0; p < count; p++) assert.equal(childKinds[p], NodeKind.Internal, 'page root must be internal')
  return childHashes
}

/** Copies a slot's hash into `out`. */
function copySlotHash(slot: Leaf | PageRef, out: Uint8Array, offset: number): void {
  if (slot instanceof PageLeaf) copyHash(slot.bytes, slot.offset + 2 * hashBytes, out, offset)
  else out.set(slot.hash, offset)
}

/**
 * Copies 32 bytes. A plain loop rather than `set(subarray)`: as fast once optimised, and it
 * allocates no view (commits copy hundreds of thousands of hashes, and each view was
 * garbage that made the young-generation collections more frequent).
 */
function copyHash(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number): void {
  for (let b = 0; b < hashBytes; b++) to[toOffset + b] = from[fromOffset + b] as number
}

/** Orders `path` against a leaf's path, bytewise (negative, zero or positive), without a view. */
export function comparePathToLeaf(path: Uint8Array, leaf: Leaf): number {
  if (!(leaf instanceof PageLeaf)) return Buffer.compare(path, leaf.path)
  const { bytes, offset } = leaf
  for (let b = 0; b < hashBytes; b++) {
    const d = (path[b] as number) - (bytes[offset + b] as number)
    if (d !== 0) return d
  }
  return 0
}

/** Pages at nibble depths up to this keep their heap once computed (273 pages, about 300 KiB). */
const heapCacheDepthMax = 2

/** The heap of a page, computed if need be; only the top pages keep it (proofs use them all). */
export function heapOf(page: Page): PageHeap {
  if (page.heap !== undefined) return page.heap
  const heap = computeHeap(page)
  if (page.depth <= heapCacheDepthMax) page.heap = heap
  return heap
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

/** Length of the key of a page at nibble depth `depth`. */
export function pageKeyBytes(depth: number): number {
  return 1 + 8 + 1 + ((depth + 1) >> 1)
}

/** Writes the key of a page into `out` at `offset`; returns the offset after it. */
export function writePageKey(out: Uint8Array, offset: number, version: number, depth: number, path: Uint8Array): number {
  const prefixBytes = (depth + 1) >> 1
  out[offset] = recordPage
  writeVersion(out, offset + 1, version)
  out[offset + 9] = depth
  for (let b = 0; b < prefixBytes; b++) out[offset + 10 + b] = path[b] as number
  const end = offset + 10 + prefixBytes
  if (depth & 1) out[end - 1] = (out[end - 1] as number) & 0xf0
  return end
}

export function pageKey(version: number, depth: number, path: Uint8Array): Uint8Array {
  const key = new Uint8Array(pageKeyBytes(depth))
  writePageKey(key, 0, version, depth, path)
  return key
}

/** Length of the key of a value record. */
export const valueKeyBytes = 1 + hashBytes + 8

/** Writes the key of a value record into `out` at `offset`; returns the offset after it. */
export function writeValueKey(out: Uint8Array, offset: number, path: Uint8Array, version: number): number {
  out[offset] = recordValue
  out.set(path, offset + 1)
  writeVersion(out, offset + 1 + hashBytes, version)
  return offset + valueKeyBytes
}

export function valueKey(path: Uint8Array, version: number): Uint8Array {
  const key = new Uint8Array(valueKeyBytes)
  writeValueKey(key, 0, path, version)
  return key
}

export function versionKey(record: number, version: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = record
  writeVersion(key, 1, version)
  return key
}

/**
 * Page bytes: slot bitmap (2), leaf bitmap (2), then each non-empty slot in order. Slots
 * unchanged from the base page are copied from its bytes.
 */
export function encodeDraft(draft: DraftPage): Uint8Array {
  const { slots, base } = draft
  const baseBytes = base?.bytes
  const baseSlotBits = baseBytes === undefined ? 0 : ((baseBytes[0] as number) << 8) | (baseBytes[1] as number)
  const baseLeafBits = baseBytes === undefined ? 0 : ((baseBytes[2] as number) << 8) | (baseBytes[3] as number)
  let size = 4
  let slotBits = 0
  let leafBits = 0
  for (let n = 0; n < slotsPerPage; n++) {
    const slot = slots[n]
    const bit = 1 << n
    if (slot === undefined) {
      if ((baseSlotBits & bit) === 0) continue
      slotBits |= bit
      if ((baseLeafBits & bit) !== 0) {
        leafBits |= bit
        size += leafBytes
      } else size += refBytes
    } else if (slot !== null) {
      slotBits |= bit
      if (slot.kind === 0) {
        leafBits |= bit
        size += leafBytes
      } else size += refBytes
    }
  }
  const out = new Uint8Array(size)
  out[0] = slotBits >> 8
  out[1] = slotBits & 255
  out[2] = leafBits >> 8
  out[3] = leafBits & 255
  let offset = 4
  let baseOffset = 4
  // Unchanged slots next to each other are one run of the base bytes: copied in one go.
  let runStart = 4
  for (let n = 0; n < slotsPerPage; n++) {
    const slot = slots[n]
    const bit = 1 << n
    const baseLength = (baseSlotBits & bit) === 0 ? 0 : (baseLeafBits & bit) !== 0 ? leafBytes : refBytes
    if (slot !== undefined) {
      if (baseOffset > runStart && baseBytes !== undefined) {
        out.set(baseBytes.subarray(runStart, baseOffset), offset)
        offset += baseOffset - runStart
      }
      if (slot !== null) offset = encodeSlotBody(slot, out, offset)
      runStart = baseOffset + baseLength
    }
    baseOffset += baseLength
  }
  if (baseOffset > runStart && baseBytes !== undefined) {
    out.set(baseBytes.subarray(runStart, baseOffset), offset)
    offset += baseOffset - runStart
  }
  assert.equal(offset, size)
  return out
}

function encodeSlotBody(slot: Leaf | PageRef, out: Uint8Array, offset: number): number {
  if (slot instanceof PageLeaf) {
    // An unchanged leaf: its stored bytes are already its encoding, copied in one go.
    out.set(slot.bytes.subarray(slot.offset, slot.offset + leafBytes), offset)
    return offset + leafBytes
  }
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

/** A page read from the database, its bytes checked for a consistent shape. */
export function readPage(bytes: Uint8Array, depth: number, version: number): Page {
  if (bytes.length < 4) corrupt('page')
  const slotBits = ((bytes[0] as number) << 8) | (bytes[1] as number)
  const leafBits = ((bytes[2] as number) << 8) | (bytes[3] as number)
  if ((leafBits & ~slotBits) !== 0) corrupt('page')
  const leaves = popcount16(leafBits)
  if (bytes.length !== 4 + leaves * leafBytes + (popcount16(slotBits) - leaves) * refBytes) corrupt('page')
  return { depth, version, bytes, children: undefined, heap: undefined }
}

function popcount16(bits: number): number {
  let x = bits - ((bits >> 1) & 0x5555)
  x = (x & 0x3333) + ((x >> 2) & 0x3333)
  x = (x + (x >> 4)) & 0x0f0f
  return (x + (x >> 8)) & 0x1f
}

/**
 * Slot `n` of a page, decoded from its bytes: null, a leaf (a view of the page bytes), or a
 * reference to a child page (linked to the loaded child page if the page is resident).
 */
export function slotAt(page: Page, n: number): Slot {
  const { bytes } = page
  const slotBits = ((bytes[0] as number) << 8) | (bytes[1] as number)
  const bit = 1 << n
  if ((slotBits & bit) === 0) return null
  const leafBits = ((bytes[2] as number) << 8) | (bytes[3] as number)
  const below = bit - 1
  const leavesBelow = popcount16(leafBits & below)
  const offset = 4 + leavesBelow * leafBytes + (popcount16(slotBits & below) - leavesBelow) * refBytes
  if (leafBits & bit) return new PageLeaf(bytes, offset)
  return {
    kind: 1,
    hash: bytes.subarray(offset, offset + hashBytes),
    version: readVersion(bytes, offset + hashBytes),
    page: page.children?.[n],
  }
}

/** Kind of slot `n` of a page, from its bitmaps alone. */
export function slotKindAt(page: Page, n: number): NodeKind {
  const { bytes } = page
  const bit = 1 << n
  if (((((bytes[0] as number) << 8) | (bytes[1] as number)) & bit) === 0) return NodeKind.Empty
  return ((((bytes[2] as number) << 8) | (bytes[3] as number)) & bit) !== 0 ? NodeKind.Leaf : NodeKind.Internal
}

/** The resident page for a draft whose bytes are encoded, linked to the child pages it knows. */
export function pageOfDraft(draft: DraftPage, bytes: Uint8Array, version: number): Page {
  const { slots, base } = draft
  let children: (Page | undefined)[] | undefined
  for (let n = 0; n < slotsPerPage; n++) {
    const slot = slots[n]
    const child = slot === undefined ? base?.children?.[n] : slot !== null && slot.kind === 1 ? slot.page : undefined
    if (child === undefined) continue
    children ??= new Array<Page | undefined>(slotsPerPage)
    children[n] = child
  }
  return { depth: draft.depth, version, bytes, children, heap: undefined }
}

/**
 * Leaves in page format (path, value hash, leaf hash, version: 104 bytes each), written
 * one after another into one buffer: a commit's new leaves cost one buffer, not four
 * small arrays each, and are copied into their pages in one go.
 */
export class LeafTable {
  readonly bytes: Uint8Array
  #count = 0

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity * leafBytes)
  }

  /** Appends a leaf: the value hash and the leaf hash are computed into the table. */
  add(path: Uint8Array, value: Uint8Array, version: number): Leaf {
    const offset = this.#count * leafBytes
    assert.ok(offset + leafBytes <= this.bytes.length, 'leaf table full')
    this.#count++
    const { bytes } = this
    bytes.set(path, offset)
    leafHashesInto(value, bytes, offset)
    writeVersion(bytes, offset + 3 * hashBytes, version)
    return new PageLeaf(bytes, offset)
  }
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
