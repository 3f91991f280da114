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
   * consecutive; the write is synced before the promise resolves.
   */
  async save(block: Block, seenCommit: Commit): Promise<void> {
    const height = block.header.height
    if (height !== this.latest + 1) throw new RangeError(`block ${height} does not follow stored height ${this.latest}`)
    const hash = blockHash(block.header)
    const batch = this.db.batch()
    batch.put(heightKey('b:', height), encode(blockSchema, block))
    batch.put(heightKey('c:', height), encode(commitSchema, seenCommit))
    batch.put(`h:${toHex(hash)}`, encode(t.uint(), height))
    block.txs.forEach((tx, index) => batch.put(`t:${toHex(sha256(tx))}`, encode(txLocationSchema, { height, index })))
    batch.put('meta:latest', encode(t.uint(), height))
    if (this.base === 0) batch.put('meta:base', encode(t.uint(), height))
    await batch.write({ sync: true })
    this.latest = height
    if (this.base === 0) this.base = height
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
  async saveResults(height: number, response: FinalizeBlockResponse): Promise<void> {
    const json = JSON.stringify(response, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('hex') } : v))
    await this.db.put(heightKey('r:', height), new TextEncoder().encode(json), { sync: true })
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
