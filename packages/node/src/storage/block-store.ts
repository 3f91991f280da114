import { ClassicLevel } from 'classic-level'
import { decode, encode, sha256, t, toHex } from '@terrane/codec'
import {
  blockHash,
  blockSchema,
  commitSchema,
  validatorSchema,
  type Block,
  type Commit,
  type FinalizeBlockResponse,
  type Validator,
} from '@terrane/consensus'

/** Where a committed transaction sits. */
export interface TxLocation {
  height: number
  index: number
}

const txLocationSchema = t.struct({ height: t.uint(), index: t.uint() })
const genesisRecordSchema = t.struct({ validators: t.array(validatorSchema), stateRoot: t.bytes({ length: 32 }) })

/** What consensus starts from: recorded at the first start, so replays begin from it. */
export interface GenesisRecord {
  validators: Validator[]
  stateRoot: Uint8Array
}

/** How durable a write must be before its promise resolves. */
export interface WriteInit {
  /**
   * true: synced to disk (survives a power loss). false: handed to the operating
   * system (survives `kill -9`, not a power loss) and made durable by the next
   * durable write or `flush()`. @default true
   */
  isDurable?: boolean
}

function heightKey(prefix: string, height: number): string {
  // Zero-padded so that LevelDB's byte order is height order.
  return `${prefix}${height.toString().padStart(16, '0')}`
}

/**
 * Committed blocks, their commit certificates and a transaction index, in LevelDB.
 * A block and everything indexed from it go in one synced write batch, so after a
 * crash a block is either fully stored or absent, and `height` never runs ahead
 * of the blocks actually stored.
 */
export class BlockStore {
  private latest = 0
  private base = 0
  private writing: Promise<void> = Promise.resolve()
  private resultsDeferredThrough = 0

  private constructor(private readonly db: ClassicLevel<string, Uint8Array>) {}

  static async open(path: string): Promise<BlockStore> {
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.open()
    const store = new BlockStore(db)
    const latest = await db.get('meta:latest')
    const base = await db.get('meta:base')
    store.latest = latest === undefined ? 0 : decode(t.uint(), latest)
    store.base = base === undefined ? 0 : decode(t.uint(), base)
    return store
  }

  /** Height of the last stored block (0 when empty). */
  get height(): number {
    return this.latest
  }

  /** Lowest stored height (blocks below were pruned; 0 when empty). */
  get baseHeight(): number {
    return this.base
  }

  /**
   * Stores block `height` with the commit that decided it. Heights must be
   * consecutive; storing the same block again is a no-op. Durable by default: the write is synced before the promise
   * resolves (consensus stores a block it decided this way before executing it).
   */
  async save(block: Block, seenCommit: Commit, init: WriteInit = {}): Promise<void> {
    await this.saveBatch([{ block, commit: seenCommit }], init)
  }

  /**
   * Stores consecutive decided blocks, from `height + 1`, in one write batch (all or
   * none after a crash) with one fsync for the whole batch: how block sync stores a
   * verified run of fetched blocks before executing them.
   */
  async saveBatch(items: ReadonlyArray<{ block: Block; commit: Commit }>, init: WriteInit = {}): Promise<void> {
    // Consensus and block sync both store blocks: one write at a time, each checked
    // against the height the previous one left.
    const write = this.writing.then(() => this.writeBatch(items, init))
    this.writing = write.catch(() => undefined)
    await write
  }

  private async writeBatch(all: ReadonlyArray<{ block: Block; commit: Commit }>, init: WriteInit): Promise<void> {
    // A height stored meanwhile with the same block (consensus decided it while block
    // sync stored it, or the other way round) is already done; a different block is not.
    let skip = 0
    for (const { block } of all) {
      if (block.header.height > this.latest) break
      const stored = await this.heightOfHash(blockHash(block.header))
      if (stored !== block.header.height) throw new RangeError(`block ${block.header.height} does not follow stored height ${this.latest}`)
      skip++
    }
    const items = all.slice(skip)
    if (items.length === 0) return
    const batch = this.db.batch()
    let height = this.latest
    for (const { block, commit } of items) {
      if (block.header.height !== height + 1) throw new RangeError(`block ${block.header.height} does not follow stored height ${height}`)
      if (commit.height !== block.header.height) throw new RangeError(`commit ${commit.height} is not for block ${block.header.height}`)
      height = block.header.height
      batch.put(heightKey('b:', height), encode(blockSchema, block))
      batch.put(heightKey('c:', height), encode(commitSchema, commit))
      batch.put(`h:${toHex(blockHash(block.header))}`, encode(t.uint(), height))
      const at = height
      block.txs.forEach((tx, index) => batch.put(`t:${toHex(sha256(tx))}`, encode(txLocationSchema, { height: at, index })))
    }
    const first = this.latest + 1
    batch.put('meta:latest', encode(t.uint(), height))
    if (this.base === 0) batch.put('meta:base', encode(t.uint(), first))
    await batch.write({ sync: init.isDurable !== false })
    this.latest = height
    if (this.base === 0) this.base = first
  }

  /**
   * Makes every earlier write durable: LevelDB keeps one log, and a synced write
   * syncs it with everything appended before it.
   */
  async flush(): Promise<void> {
    await this.db.put('meta:flushed', encode(t.uint(), this.latest), { sync: true })
  }

  async block(height: number): Promise<Block | undefined> {
    const bytes = await this.db.get(heightKey('b:', height))
    return bytes === undefined ? undefined : decode(blockSchema, bytes)
  }

  /** The commit that decided block `height` (as seen by this node). */
  async commit(height: number): Promise<Commit | undefined> {
    const bytes = await this.db.get(heightKey('c:', height))
    return bytes === undefined ? undefined : decode(commitSchema, bytes)
  }

  async heightOfHash(hash: Uint8Array): Promise<number | undefined> {
    const bytes = await this.db.get(`h:${toHex(hash)}`)
    return bytes === undefined ? undefined : decode(t.uint(), bytes)
  }

  async txLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const bytes = await this.db.get(`t:${toHex(txHash)}`)
    return bytes === undefined ? undefined : decode(txLocationSchema, bytes)
  }

  /** The genesis validator set and state root, as consensus first started from them. */
  async genesis(): Promise<GenesisRecord | undefined> {
    const bytes = await this.db.get('meta:genesis')
    return bytes === undefined ? undefined : decode(genesisRecordSchema, bytes)
  }

  async saveGenesis(record: GenesisRecord): Promise<void> {
    await this.db.put('meta:genesis', encode(genesisRecordSchema, record), { sync: true })
  }

  /**
   * The application's results for block `height`, saved after execution and before
   * the application commits, so a restart can feed them back to consensus
   * without executing the block again. Not consensus data: stored as JSON.
   */
  async saveResults(height: number, response: FinalizeBlockResponse, init: WriteInit = {}): Promise<void> {
    const json = JSON.stringify(response, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('hex') } : v))
    const isDurable = init.isDurable ?? height > this.resultsDeferredThrough
    await this.db.put(heightKey('r:', height), new TextEncoder().encode(json), { sync: isDurable })
  }

  /**
   * Results of heights up to `height` are written without fsync until the next
   * `flush()`. Only for block sync, and only when the state store holds its writes
   * back until after that flush too (`DeferrableStore`): results must never be less
   * durable than the state they describe, or a restart finds the state ahead of them.
   */
  deferResultsThrough(height: number): void {
    this.resultsDeferredThrough = height
  }

  async results(height: number): Promise<FinalizeBlockResponse | undefined> {
    const bytes = await this.db.get(heightKey('r:', height))
    if (bytes === undefined) return undefined
    return JSON.parse(new TextDecoder().decode(bytes), (_k, v: unknown) => {
      if (typeof v === 'object' && v !== null && '$bytes' in v)
        return Uint8Array.from(Buffer.from(String((v as { $bytes: string }).$bytes), 'hex'))
      return v
    }) as FinalizeBlockResponse
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}
