import assert from 'node:assert'
import { levelBackend, memoryBackend, type BackendOp, type LevelBackendInit, type StateBackend } from './backend.ts'
import { StateError } from './errors.ts'
import { bytesEqual, emptyHash, hashBytes, pathOf } from './hash.ts'
import {
  NodeKind,
  decodeRoot,
  encodeDraft,
  encodeRoot,
  hashPageRoots,
  heapHash,
  heapOf,
  nibbleAt,
  pageDepthMax,
  LeafTable,
  comparePathToLeaf,
  pageKey,
  pageKeyBytes,
  pageOfDraft,
  readPage,
  readVersion,
  recordMeta,
  recordRoot,
  recordStale,
  slotAt,
  slotHash,
  slotKindAt,
  slotsPerPage,
  valueKey,
  valueKeyBytes,
  writePageKey,
  writeValueKey,
  versionKey,
  writeVersion,
  type DraftPage,
  type Leaf,
  type Page,
  type PageRef,
  type Slot,
} from './page.ts'
import type { StateProof } from './proof.ts'

/** Largest key accepted, in bytes. */
export const keyBytesMax = 1024
/** Largest value accepted, in bytes. */
export const valueBytesMax = 4 * 1024 * 1024

export interface StateStoreInit {
  /**
   * How many versions stay readable (`getAt`, `prove`, `rootAt`), the latest included;
   * older ones are pruned as new versions are committed. `Infinity` keeps every version.
   * @default 100
   */
  pruneKeepVersions?: number
  /** Decoded pages kept in memory (LRU). @default 100_000 */
  pageCacheMax?: number
}

export interface LevelStateStoreInit extends StateStoreInit, LevelBackendInit {}

export interface CommitResult {
  version: number
  root: Uint8Array
}

/** Changes to apply atomically as the next version. Later operations on a key win. */
export interface StateBatch {
  put(key: Uint8Array, value: Uint8Array): StateBatch
  delete(key: Uint8Array): StateBatch
  /** Distinct keys touched so far. */
  readonly size: number
  /**
   * The root the batch would give as the next version, computed now without writing
   * anything (the chain needs a block's state root before the block is durable).
   * A later `commit` reuses the work if no other commit happened in between.
   */
  stage(): Uint8Array
  /** Writes the batch as version `store.version + 1`; commits run one after another. */
  commit(): Promise<CommitResult>
}

/** An authenticated key-value state: a sparse Merkle tree with a root per version. */
export interface StateStore {
  /** Latest committed version; 0 before the first commit. */
  readonly version: number
  /** Root hash of the latest version (32 bytes). */
  readonly root: Uint8Array
  /** Oldest version still readable. */
  readonly oldestVersion: number
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  getAt(key: Uint8Array, version: number): Promise<Uint8Array | undefined>
  rootAt(version: number): Promise<Uint8Array>
  batch(): StateBatch
  /** An inclusion proof if the key is present at that version, else a non-inclusion proof. */
  prove(key: Uint8Array, version?: number): Promise<StateProof>
  close(): Promise<void>
}

/** Opens (or creates) a state store in a LevelDB directory. */
export async function openStateStore(init: LevelStateStoreInit): Promise<StateStore> {
  const backend = await levelBackend(init)
  try {
    return new DefaultStateStore(backend, init)
  } catch (err) {
    await backend.close()
    throw err
  }
}

/** A state store held in memory, with the same behaviour (for the simulator and tests). */
export function createMemoryStateStore(init: StateStoreInit = {}): StateStore {
  return new DefaultStateStore(memoryBackend(), init)
}

/** A state store over any backend. */
export function createStateStore(backend: StateBackend, init: StateStoreInit = {}): StateStore {
  return new DefaultStateStore(backend, init)
}

interface Update {
  path: Uint8Array
  value: Uint8Array | null
  leaf: Leaf | null
}

/** A next version computed by `prepareUpdates`, valid while the store is still at `version - 1`. */
interface PreparedCommit {
  version: number
  updates: Update[]
  /** Keys and encoded bytes of the new pages. */
  pageKeys: Uint8Array[]
  pageBytes: Uint8Array[]
  /** The stale list of this version (see encodeKeyList). */
  stale: Uint8Array
  rootSlot: Slot
  root: Uint8Array
}

interface CommitContext {
  version: number
  drafts: DraftPage[]
  stale: KeyListWriter
}

const metaKey = Uint8Array.of(recordMeta)

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length > keyBytesMax) {
    throw new StateError('STATE_INVALID_ARGUMENT', `A key must be a Uint8Array of at most ${keyBytesMax} bytes`)
  }
}

function checkValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > valueBytesMax) {
    throw new StateError('STATE_INVALID_ARGUMENT', `A value must be a Uint8Array of at most ${valueBytesMax} bytes`)
  }
}

/**
 * A list of record keys, each as a length byte and the key, written straight into one
 * growing buffer (a commit makes tens of thousands of pages and values stale).
 */
class KeyListWriter {
  #bytes = new Uint8Array(4096)
  #length = 0

  #reserve(bytes: number): number {
    const offset = this.#length
    if (offset + bytes > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.#bytes.length, offset + bytes))
      grown.set(this.#bytes.subarray(0, offset))
      this.#bytes = grown
    }
    this.#length = offset + bytes
    return offset
  }

  addPageKey(version: number, depth: number, path: Uint8Array): void {
    const length = pageKeyBytes(depth)
    const offset = this.#reserve(1 + length)
    this.#bytes[offset] = length
    writePageKey(this.#bytes, offset + 1, version, depth, path)
  }

  addValueKey(path: Uint8Array, version: number): void {
    const offset = this.#reserve(1 + valueKeyBytes)
    this.#bytes[offset] = valueKeyBytes
    writeValueKey(this.#bytes, offset + 1, path, version)
  }

  get length(): number {
    return this.#length
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length)
  }
}

function decodeKeyList(bytes: Uint8Array): Uint8Array[] {
  const keys: Uint8Array[] = []
  let offset = 0
  while (offset < bytes.length) {
    const length = bytes[offset] as number
    if (offset + 1 + length > bytes.length) throw new StateError('STATE_CORRUPT', 'Malformed stale record in the database')
    keys.push(bytes.subarray(offset + 1, offset + 1 + length))
    offset += 1 + length
  }
  return keys
}

class DefaultStateBatch implements StateBatch {
  readonly #store: DefaultStateStore
  readonly #updates = new Map<string, { path: Uint8Array; value: Uint8Array | null }>()
  #isCommitted = false
  #prepared: PreparedCommit | undefined

  constructor(store: DefaultStateStore) {
    this.#store = store
  }

  get size(): number {
    return this.#updates.size
  }

  put(key: Uint8Array, value: Uint8Array): StateBatch {
    this.#checkOpen()
    this.#prepared = undefined
    checkKey(key)
    checkValue(value)
    const path = pathOf(key).slice()
    this.#updates.set(keyString(path), { path, value: value.slice() })
    return this
  }

  delete(key: Uint8Array): StateBatch {
    this.#checkOpen()
    this.#prepared = undefined
    checkKey(key)
    const path = pathOf(key).slice()
    this.#updates.set(keyString(path), { path, value: null })
    return this
  }

  stage(): Uint8Array {
    this.#checkOpen()
    this.#prepared = this.#store.prepareUpdates(this.#sorted())
    return this.#prepared.root.slice()
  }

  commit(): Promise<CommitResult> {
    this.#checkOpen()
    this.#isCommitted = true
    return this.#store.commitUpdates(this.#sorted(), this.#prepared)
  }

  #sorted(): { path: Uint8Array; value: Uint8Array | null }[] {
    // Sorting the latin1 strings sorts the paths bytewise.
    return [...this.#updates.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1])
  }

  #checkOpen(): void {
    if (this.#isCommitted) throw new StateError('STATE_BATCH_COMMITTED', 'This batch was already committed')
  }
}

class DefaultStateStore implements StateStore {
  readonly #backend: StateBackend
  readonly #keepVersions: number
  readonly #pageCacheMax: number
  readonly #pages = new Map<string, Page>()
  #version: number
  #oldestVersion: number
  #rootSlot: Slot
  #queue: Promise<unknown> = Promise.resolve()
  #isClosed = false

  constructor(backend: StateBackend, init: StateStoreInit) {
    const keep = init.pruneKeepVersions ?? 100
    if (!(keep === Infinity || (Number.isSafeInteger(keep) && keep >= 1))) {
      throw new StateError('STATE_INVALID_ARGUMENT', 'pruneKeepVersions must be a positive integer or Infinity')
    }
    this.#backend = backend
    this.#keepVersions = keep
    this.#pageCacheMax = init.pageCacheMax ?? 100_000
    const meta = backend.readSync(metaKey)
    if (meta === undefined) {
      this.#version = 0
      this.#oldestVersion = 0
      this.#rootSlot = null
    } else {
      if (meta.length !== 16) throw new StateError('STATE_CORRUPT', 'Malformed meta record in the database')
      this.#version = readVersion(meta, 0)
      this.#oldestVersion = readVersion(meta, 8)
      this.#rootSlot = this.#readRoot(this.#version)
    }
  }

  get version(): number {
    return this.#version
  }

  get oldestVersion(): number {
    return this.#oldestVersion
  }

  get root(): Uint8Array {
    return slotHash(this.#rootSlot).slice()
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.getAt(key, this.#version)
  }

  async getAt(key: Uint8Array, version: number): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    checkKey(key)
    const path = pathOf(key)
    const leaf = this.#findLeaf(path, this.#rootSlotAt(version), version === this.#version)
    if (leaf === null) return undefined
    const value = this.#backend.readSync(valueKey(path, leaf.version))
    if (value === undefined) throw new StateError('STATE_CORRUPT', 'A leaf has no value record')
    return value.slice()
  }

  async rootAt(version: number): Promise<Uint8Array> {
    this.#checkOpen()
    return slotHash(this.#rootSlotAt(version)).slice()
  }

  batch(): StateBatch {
    this.#checkOpen()
    return new DefaultStateBatch(this)
  }

  async prove(key: Uint8Array, version: number = this.#version): Promise<StateProof> {
    this.#checkOpen()
    checkKey(key)
    const path = pathOf(key).slice()
    let slot = this.#rootSlotAt(version)
    const isResident = version === this.#version
    const siblings: Uint8Array[] = []
    let parent: Page | undefined
    for (let depth = 0; ; depth++) {
      if (slot === null) return { siblings, leaf: null }
      if (slot.kind === 0) return { siblings, leaf: { path: slot.path.slice(), valueHash: slot.valueHash.slice() } }
      const page = isResident ? this.#residentPage(slot, depth, path, parent) : this.#pastPage(slot, depth, path)
      parent = page
      const heap = heapOf(page)
      const nibble = nibbleAt(path, depth)
      let node = 1
      for (let level = 0; level < 4; level++) {
        const kind = heap.kinds[node] as NodeKind
        if (kind === NodeKind.Empty) return { siblings, leaf: null }
        if (kind === NodeKind.Leaf) {
          const leaf = loneLeafUnder(page, node)
          return { siblings, leaf: { path: leaf.path.slice(), valueHash: leaf.valueHash.slice() } }
        }
        const bit = (nibble >> (3 - level)) & 1
        siblings.push(heapHash(heap, 2 * node + 1 - bit).slice())
        node = 2 * node + bit
      }
      slot = slotAt(page, nibble)
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    await this.#queue.catch(() => undefined)
    this.#pages.clear()
    await this.#backend.close()
  }

  /** Queues a commit of updates sorted by path (called by batches). */
  commitUpdates(updates: { path: Uint8Array; value: Uint8Array | null }[], prepared?: PreparedCommit): Promise<CommitResult> {
    this.#checkOpen()
    const run = this.#queue.then(() => this.#commit(updates, prepared))
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Computes the next version from sorted updates, without writing (see StateBatch.stage). */
  prepareUpdates(input: { path: Uint8Array; value: Uint8Array | null }[]): PreparedCommit {
    this.#checkOpen()
    const version = this.#version + 1
    let puts = 0
    for (const u of input) if (u.value !== null) puts++
    const leaves = new LeafTable(puts)
    const updates: Update[] = input.map(({ path, value }) => ({
      path,
      value,
      leaf: value === null ? null : leaves.add(path, value, version),
    }))
    const ctx: CommitContext = { version, drafts: [], stale: new KeyListWriter() }
    const rootSlot = updates.length === 0 ? this.#rootSlot : this.#update(this.#rootSlot, updates, 0, updates.length, 0, ctx)

    // Hash the new pages bottom-up, all pages of one depth together (every child page
    // before its parent), then encode each once its children's hashes are known. The
    // encoded bytes become both the record to write and the resident page.
    const byDepth: DraftPage[][] = []
    for (const draft of ctx.drafts) (byDepth[draft.depth] ??= []).push(draft)
    // The keys of the new pages: views of one buffer.
    const keyBytes = new Uint8Array(ctx.drafts.length * pageKeyBytes(pageDepthMax))
    let keyOffset = 0
    const pageKeys: Uint8Array[] = []
    const pageBytes: Uint8Array[] = []
    for (let depth = byDepth.length - 1; depth >= 0; depth--) {
      const drafts = byDepth[depth]
      if (drafts === undefined) continue
      const roots = hashPageRoots(drafts)
      for (let i = 0; i < drafts.length; i++) {
        const draft = drafts[i] as DraftPage
        draft.ref.hash = roots.subarray(i * hashBytes, (i + 1) * hashBytes)
        const bytes = encodeDraft(draft)
        draft.ref.page = pageOfDraft(draft, bytes, version)
        const end = writePageKey(keyBytes, keyOffset, version, depth, draft.path)
        pageKeys.push(keyBytes.subarray(keyOffset, end))
        keyOffset = end
        pageBytes.push(bytes)
      }
    }
    const stale = ctx.stale.finish()
    return { version, updates, pageKeys, pageBytes, stale, rootSlot, root: slotHash(rootSlot).slice() }
  }

  async #commit(input: { path: Uint8Array; value: Uint8Array | null }[], prepared?: PreparedCommit): Promise<CommitResult> {
    this.#checkOpen()
    const { version, updates, pageKeys, pageBytes, stale, rootSlot } =
      prepared !== undefined && prepared.version === this.#version + 1 ? prepared : this.prepareUpdates(input)

    const ops: BackendOp[] = []
    for (let i = 0; i < pageKeys.length; i++) ops.push({ type: 'put', key: pageKeys[i] as Uint8Array, value: pageBytes[i] as Uint8Array })
    const valueKeys = new Uint8Array(updates.length * valueKeyBytes)
    let keyOffset = 0
    for (const u of updates) {
      if (u.value === null) continue
      const end = writeValueKey(valueKeys, keyOffset, u.path, version)
      ops.push({ type: 'put', key: valueKeys.subarray(keyOffset, end), value: u.value })
      keyOffset = end
    }
    ops.push({ type: 'put', key: versionKey(recordRoot, version), value: encodeRoot(rootSlot) })
    if (stale.length > 0) ops.push({ type: 'put', key: versionKey(recordStale, version), value: stale })
    const oldestVersion =
      this.#keepVersions === Infinity ? this.#oldestVersion : Math.max(this.#oldestVersion, version - this.#keepVersions + 1)
    this.#prune(this.#oldestVersion, oldestVersion, ops)
    const meta = new Uint8Array(16)
    writeVersion(meta, 0, version)
    writeVersion(meta, 8, oldestVersion)
    ops.push({ type: 'put', key: metaKey, value: meta })

    await this.#backend.write(ops)

    this.#version = version
    this.#oldestVersion = oldestVersion
    // The new pages (made resident by prepareUpdates) replace the old ones on the changed
    // paths; the old versions of those pages are collected.
    this.#rootSlot = rootSlot
    return { version, root: slotHash(rootSlot).slice() }
  }

  /** Adds to `ops` the deletions that move the oldest readable version from `from` to `to`. */
  #prune(from: number, to: number, ops: BackendOp[]): void {
    for (let v = from + 1; v <= to; v++) {
      const staleKey = versionKey(recordStale, v)
      const stale = this.#backend.readSync(staleKey)
      if (stale === undefined) continue
      for (const key of decodeKeyList(stale)) ops.push({ type: 'del', key })
      ops.push({ type: 'del', key: staleKey })
    }
    for (let v = Math.max(from, 1); v < to; v++) ops.push({ type: 'del', key: versionKey(recordRoot, v) })
  }

  /** The slot replacing `slot` (of resident page `parent`, undefined at the root) after updates [lo, hi). */
  #update(slot: Slot, updates: Update[], lo: number, hi: number, depth: number, ctx: CommitContext, parent?: Page): Slot {
    if (slot === null) return this.#build(putsOf(updates, lo, hi), depth, ctx)
    if (slot.kind === 0) {
      let isTouched = false
      const leaves: Leaf[] = []
      let isPlaced = false
      for (let i = lo; i < hi; i++) {
        const u = updates[i] as Update
        if (!isPlaced && !isTouched) {
          const order = comparePathToLeaf(u.path, slot)
          if (order === 0) isTouched = true
          else if (order > 0) {
            leaves.push(slot)
            isPlaced = true
          }
        }
        if (u.leaf !== null) leaves.push(u.leaf)
      }
      if (!isTouched && !isPlaced) leaves.push(slot)
      if (!isTouched && leaves.length === 1) return slot
      if (isTouched) ctx.stale.addValueKey(slot.path, slot.version)
      return this.#build(leaves, depth, ctx)
    }
    const first = (updates[lo] as Update).path
    const page = this.#residentPage(slot, depth, first, parent)
    // Only the touched slots are decoded; the others stay bytes of the old page.
    const slots = new Array<Slot | undefined>(slotsPerPage)
    let isChanged = false
    for (let i = lo; i < hi;) {
      const nibble = nibbleAt((updates[i] as Update).path, depth)
      let j = i + 1
      while (j < hi && nibbleAt((updates[j] as Update).path, depth) === nibble) j++
      const before = slotAt(page, nibble)
      const after = this.#update(before, updates, i, j, depth + 1, ctx, page)
      if (after !== before) {
        slots[nibble] = after
        isChanged = true
      }
      i = j
    }
    if (!isChanged) return slot
    ctx.stale.addPageKey(slot.version, depth, first)
    return this.#finishPage(slots, page, depth, first, ctx)
  }

  /** The slot for a set of leaves (sorted by path) under one prefix of `depth` nibbles. */
  #build(leaves: Leaf[], depth: number, ctx: CommitContext): Slot {
    if (leaves.length === 0) return null
    if (leaves.length === 1) return leaves[0] as Leaf
    assert.ok(depth < pageDepthMax, 'two leaves with one path')
    const slots: Slot[] = new Array<Slot>(slotsPerPage).fill(null)
    for (let i = 0; i < leaves.length;) {
      const nibble = nibbleAt((leaves[i] as Leaf).path, depth)
      let j = i + 1
      while (j < leaves.length && nibbleAt((leaves[j] as Leaf).path, depth) === nibble) j++
      slots[nibble] = this.#build(leaves.slice(i, j), depth + 1, ctx)
      i = j
    }
    return this.#finishPage(slots, undefined, depth, (leaves[0] as Leaf).path, ctx)
  }

  /**
   * A new page with `slots` over those of `base` (undefined slots: as in `base`), unless
   * it would hold nothing or a lone leaf (which then floats up).
   */
  #finishPage(slots: (Slot | undefined)[], base: Page | undefined, depth: number, path: Uint8Array, ctx: CommitContext): Slot {
    let count = 0
    let onlyNibble = -1
    let isOnlyLeaf = false
    for (let n = 0; n < slotsPerPage; n++) {
      const s = slots[n]
      const kind =
        s === undefined
          ? base === undefined
            ? NodeKind.Empty
            : slotKindAt(base, n)
          : s === null
            ? NodeKind.Empty
            : s.kind === 0
              ? NodeKind.Leaf
              : NodeKind.Internal
      if (kind === NodeKind.Empty) continue
      count++
      onlyNibble = n
      isOnlyLeaf = kind === NodeKind.Leaf
    }
    if (count === 0) return null
    if (count === 1 && isOnlyLeaf) return slots[onlyNibble] ?? slotAt(base as Page, onlyNibble)
    const ref: PageRef = { kind: 1, hash: emptyHash, version: ctx.version, page: undefined }
    ctx.drafts.push({ depth, path, ref, base, slots })
    return ref
  }

  #findLeaf(path: Uint8Array, root: Slot, isResident: boolean): Leaf | null {
    let slot = root
    let parent: Page | undefined
    for (let depth = 0; slot !== null && slot.kind === 1; depth++) {
      let page = isResident ? this.#residentPage(slot, depth, path, parent) : this.#pastPage(slot, depth, path)
      // Follow linked child pages without decoding their references.
      for (let linked = page.children?.[nibbleAt(path, depth)]; linked !== undefined; linked = page.children?.[nibbleAt(path, depth)]) {
        page = linked
        depth++
      }
      parent = page
      slot = slotAt(page, nibbleAt(path, depth))
    }
    if (slot === null || !bytesEqual(slot.path, path)) return null
    return slot
  }

  /**
   * The page behind `ref` in the latest tree, at nibble `depth` on `path`, below resident
   * page `parent` (undefined at the root). Pages of the latest tree stay in memory once
   * read, linked from their parent: the latest tree is walked without lookups or database
   * reads.
   */
  #residentPage(ref: PageRef, depth: number, path: Uint8Array, parent: Page | undefined): Page {
    if (ref.page !== undefined) return ref.page
    const page = this.#readPage(ref, depth, path)
    ref.page = page
    if (parent !== undefined) (parent.children ??= new Array<Page | undefined>(slotsPerPage))[nibbleAt(path, depth - 1)] = page
    return page
  }

  /**
   * The page behind `ref` in a past version. These go through the bounded LRU cache and
   * are never linked, so old trees do not pin memory.
   */
  #pastPage(ref: PageRef, depth: number, path: Uint8Array): Page {
    const key = pageKey(ref.version, depth, path)
    const id = keyString(key)
    const cached = this.#pages.get(id)
    if (cached !== undefined) {
      this.#pages.delete(id)
      this.#pages.set(id, cached)
      return cached
    }
    const page = this.#readPage(ref, depth, path)
    this.#cachePage(id, page)
    return page
  }

  #readPage(ref: PageRef, depth: number, path: Uint8Array): Page {
    const bytes = this.#backend.readSync(pageKey(ref.version, depth, path))
    if (bytes === undefined) throw new StateError('STATE_CORRUPT', `Page missing at depth ${depth}, version ${ref.version}`)
    return readPage(bytes, depth, ref.version)
  }

  #cachePage(id: string, page: Page): void {
    this.#pages.set(id, page)
    if (this.#pages.size > this.#pageCacheMax) {
      const oldest = this.#pages.keys().next()
      if (oldest.done !== true) this.#pages.delete(oldest.value)
    }
  }

  #rootSlotAt(version: number): Slot {
    if (!Number.isSafeInteger(version) || version < 0)
      throw new StateError('STATE_INVALID_ARGUMENT', 'A version must be a non-negative integer')
    if (version > this.#version)
      throw new StateError('STATE_VERSION_UNKNOWN', `Version ${version} is not committed (latest ${this.#version})`)
    if (version < this.#oldestVersion)
      throw new StateError('STATE_VERSION_PRUNED', `Version ${version} was pruned (oldest ${this.#oldestVersion})`)
    if (version === this.#version) return this.#rootSlot
    return this.#readRoot(version)
  }

  #readRoot(version: number): Slot {
    if (version === 0) return null
    const bytes = this.#backend.readSync(versionKey(recordRoot, version))
    if (bytes === undefined) throw new StateError('STATE_CORRUPT', `Root of version ${version} missing`)
    return decodeRoot(bytes)
  }

  #checkOpen(): void {
    if (this.#isClosed) throw new StateError('STATE_CLOSED', 'The state store is closed')
  }
}

function putsOf(updates: Update[], lo: number, hi: number): Leaf[] {
  const leaves: Leaf[] = []
  for (let i = lo; i < hi; i++) {
    const leaf = (updates[i] as Update).leaf
    if (leaf !== null) leaves.push(leaf)
  }
  return leaves
}

/** The one leaf below heap node `node` of a page (whose kind is Leaf). */
function loneLeafUnder(page: Page, node: number): Leaf {
  let first = node
  let last = node
  while (first < 16) {
    first = 2 * first
    last = 2 * last + 1
  }
  for (let i = first; i <= last; i++) {
    const slot = slotAt(page, i - 16)
    if (slot !== null) {
      assert.equal(slot.kind, 0)
      return slot as Leaf
    }
  }
  assert.fail('no leaf under a lone-leaf node')
}
