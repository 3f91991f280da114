/**
 * A working in-memory {@link NodeBackend}: blocks, transactions, accounts,
 * staking, devices, proofs, rewards, agreements, channels, a proven key-value
 * state and an event log with replay. Data enters the way it enters a node: a
 * transaction through `submitTx` into the mempool, everything else through
 * `commitBlock`, which also emits the block's events. Used by the API and SDK
 * tests and by the API benchmark; the node implements the same interface.
 */
import { encodeCanonical, merkleProof, merkleRoot, sha256, toHex } from '@terrane/codec'
import {
  matchesFilter,
  type AdminBackend,
  type EventSubscription,
  type NodeBackend,
  type PageRequest,
  type SubscribeInit,
} from './backend.ts'
import type { DeviceProofQuery, DelegationQuery, DeviceQuery, PartyQuery, RewardQuery } from './backend.ts'
import { ApiError } from './errors.ts'
import { memoryProofFormat, proveMemoryState, snapshotOf, type StateSnapshot } from './memory-proof.ts'
import type {
  AccountDto,
  AgreementDto,
  BlockDto,
  BlockHeaderDto,
  ChannelDto,
  ConsensusRoundEventDto,
  DelegationDto,
  DeviceDto,
  DeviceProofDto,
  EventDto,
  LogLevelDto,
  PageDto,
  PeerDto,
  ReadinessDto,
  RewardDto,
  StateProofDto,
  StatusDto,
  TopicFilterDto,
  TxDropReasonDto,
  TxDto,
  TxStatusDto,
  ValidatorDto,
} from './schemas.ts'
import { txBytesMax } from './schemas.ts'

/** What the memory backend tells a client refused for a full mempool to wait (one block of a devnet). */
export const mempoolRetryAfterMs = 1000

export interface MemoryBackendInit {
  /** @default 'terrane-memory' */
  chainId?: string
  /** @default '0.1.0' */
  version?: string
  /** Heights whose events are kept for replay. @default 10_000 */
  eventHistoryHeightsMax?: number
  /** Heights whose state snapshots are kept for proofs. @default 100 */
  stateHistoryHeightsMax?: number
  /** Pending transactions kept. @default 10_000 */
  mempoolTxsMax?: number
  /** Dropped transactions remembered for `getTxStatus`, oldest forgotten first (as the node). @default 10_000 */
  droppedTxsMax?: number
  /** Mempool admission check; return a reason to refuse (API_TX_REJECTED). Default: accept. */
  checkTx?: (bytes: Uint8Array) => string | null
  /** A stand-in for the node's peer list. */
  peers?: PeerDto[]
  /** @default true */
  isSynced?: boolean
}

export interface CommittedTxInput {
  bytes: Uint8Array
  /** @default 0 */
  code?: number
  /** @default '' */
  reason?: string
  /** Accounts the transaction touched, sender first. */
  accounts?: string[]
}

/** What one block changes. Every field is optional. */
export interface BlockInput {
  /** Block time. @default previous time + 1000 */
  timeMs?: number
  proposer?: string
  /** Committed transactions, in order (their bytes form the txRoot). */
  txs?: CommittedTxInput[]
  /** Also commit everything in the mempool (after `txs`), with code 0. */
  includeMempool?: boolean
  accounts?: AccountDto[]
  validators?: ValidatorDto[]
  delegations?: DelegationDto[]
  devices?: DeviceDto[]
  /** `height` is set to the new block's height. */
  deviceProofs?: Omit<DeviceProofDto, 'height'>[]
  rewards?: Omit<RewardDto, 'height'>[]
  agreements?: AgreementDto[]
  channels?: ChannelDto[]
  /** State writes: hex key -> hex value (null deletes). */
  state?: [Uint8Array, Uint8Array | null][]
  /** Consensus rounds seen while deciding this block. */
  rounds?: Pick<ConsensusRoundEventDto, 'round' | 'step'>[]
}

/** Counts of backend method calls (tests assert batching with them). */
export type CallCounts = Record<string, number>

const zeroHash = '0'.repeat(64)
const defaultProposer = 'trn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'

function encodeCursor(key: string): string {
  return Buffer.from(`v1:${key}`, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!text.startsWith('v1:') || encodeCursor(text.slice(3)) !== cursor) throw new ApiError('API_BAD_CURSOR', 'unknown cursor')
  return text.slice(3)
}

/**
 * One page of `items`, already in page order, each with a unique sort key; the
 * cursor names the last key served, so pages stay stable while items are added.
 */
function paginate<T>(items: readonly T[], keyOf: (item: T) => string, page: PageRequest, isDescending = false): PageDto<T> {
  let start = 0
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor)
    // items are sorted by key; binary search for the first key past `after`.
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = keyOf(items[mid] as T)
      const isPast = isDescending ? k < after : k > after
      if (isPast) hi = mid
      else lo = mid + 1
    }
    start = lo
  }
  const slice = items.slice(start, start + page.limit)
  const last = slice[slice.length - 1]
  const nextCursor = start + page.limit < items.length && last !== undefined ? encodeCursor(keyOf(last)) : null
  return { items: slice, nextCursor }
}

/** Zero-padded decimal so that string order equals numeric order. */
function pad(n: number): string {
  return n.toString().padStart(16, '0')
}

class SortedMap<V> {
  private readonly map = new Map<string, V>()
  private sorted: V[] | null = null
  constructor(private readonly isDescending = false) {}
  set(key: string, value: V): void {
    this.map.set(key, value)
    this.sorted = null
  }
  get(key: string): V | undefined {
    return this.map.get(key)
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.sorted = null
  }
  get size(): number {
    return this.map.size
  }
  values(): V[] {
    if (this.sorted === null) {
      const keys = [...this.map.keys()].sort()
      if (this.isDescending) keys.reverse()
      this.sorted = keys.map((k) => this.map.get(k) as V)
    }
    return this.sorted
  }
}

interface StoredBlock {
  block: BlockDto
  txs: TxDto[]
}

export class MemoryBackend implements NodeBackend {
  readonly calls: CallCounts = {}
  private readonly chainId: string
  private readonly version: string
  private readonly eventHistoryHeightsMax: number
  private readonly stateHistoryHeightsMax: number
  private readonly mempoolTxsMax: number
  private readonly checkTx: (bytes: Uint8Array) => string | null
  private readonly blocks: StoredBlock[] = []
  private readonly blocksByHash = new Map<string, StoredBlock>()
  private readonly txs = new Map<string, TxDto>()
  private readonly accountTxs = new Map<string, TxDto[]>()
  private readonly mempool = new Map<string, Uint8Array>()
  /** Hash -> why and when it left the mempool uncommitted; insertion order is age. */
  private readonly dropped = new Map<string, { reason: TxDropReasonDto; droppedAtMs: number }>()
  private readonly droppedTxsMax: number
  private readonly accounts = new Map<string, AccountDto>()
  private readonly validators = new SortedMap<ValidatorDto>()
  private readonly delegations = new SortedMap<DelegationDto>()
  private readonly devices = new SortedMap<DeviceDto>()
  private readonly devicesByOwner = new Map<string, SortedMap<DeviceDto>>()
  private readonly devicesByCell = new Map<string, SortedMap<DeviceDto>>()
  private readonly proofs = new SortedMap<DeviceProofDto>()
  private readonly rewards = new SortedMap<RewardDto>(true)
  private readonly agreements = new SortedMap<AgreementDto>()
  private readonly channels = new SortedMap<ChannelDto>()
  private readonly state = new Map<string, [Uint8Array, Uint8Array]>()
  private readonly snapshots = new Map<number, StateSnapshot>()
  private readonly events = new Map<number, EventDto[]>()
  private readonly listeners = new Set<{ filter: TopicFilterDto; listener: (event: EventDto) => void; fromHeight: number }>()
  private peers: PeerDto[]
  private logLevel: LogLevelDto = 'info'
  private isSynced: boolean
  readonly admin: AdminBackend

  constructor(init: MemoryBackendInit = {}) {
    this.chainId = init.chainId ?? 'terrane-memory'
    this.version = init.version ?? '0.1.0'
    this.eventHistoryHeightsMax = init.eventHistoryHeightsMax ?? 10_000
    this.stateHistoryHeightsMax = init.stateHistoryHeightsMax ?? 100
    this.mempoolTxsMax = init.mempoolTxsMax ?? 10_000
    this.droppedTxsMax = init.droppedTxsMax ?? 10_000
    this.checkTx = init.checkTx ?? (() => null)
    this.peers = [...(init.peers ?? [])]
    this.isSynced = init.isSynced ?? true
    this.snapshots.set(0, snapshotOf([]))
    this.admin = this.makeAdmin()
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1
  }

  /** Resets the call counters. */
  resetCalls(): void {
    for (const k of Object.keys(this.calls)) delete this.calls[k]
  }

  get height(): number {
    return this.blocks.length
  }

  setSynced(isSynced: boolean): void {
    this.isSynced = isSynced
  }

  // ---------- feeding ----------

  /** Commits a block at height `this.height + 1`, applies its changes and emits its events. */
  commitBlock(input: BlockInput = {}): BlockDto {
    const height = this.blocks.length + 1
    const previous = this.blocks[this.blocks.length - 1]
    const timeMs = input.timeMs ?? (previous === undefined ? 1_700_000_000_000 : previous.block.header.timeMs + 1000)
    const txInputs: CommittedTxInput[] = [...(input.txs ?? [])]
    if (input.includeMempool === true) {
      for (const bytes of this.mempool.values()) txInputs.push({ bytes })
      this.mempool.clear()
    }
    for (const t of input.txs ?? []) this.mempool.delete(toHex(sha256(t.bytes)))
    const leaves = txInputs.map((t) => t.bytes)
    const txRoot = toHex(merkleRoot(leaves))

    // State first: the header commits to the state after this block.
    for (const [key, value] of input.state ?? []) {
      const id = toHex(key)
      if (value === null) this.state.delete(id)
      else this.state.set(id, [Uint8Array.from(key), Uint8Array.from(value)])
    }
    const snapshot = snapshotOf(this.state.values())
    this.snapshots.set(height, snapshot)
    this.snapshots.delete(height - this.stateHistoryHeightsMax)

    const headerWithoutHash = {
      height,
      parentHash: previous?.block.header.hash ?? zeroHash,
      timeMs,
      proposer: input.proposer ?? defaultProposer,
      txRoot,
      stateRoot: toHex(snapshot.root),
      txCount: txInputs.length,
    }
    const hash = toHex(sha256(encodeCanonical(headerWithoutHash)))
    const header: BlockHeaderDto = { ...headerWithoutHash, hash }
    const txs: TxDto[] = txInputs.map((t, index) => {
      const proof = merkleProof(leaves, index)
      return {
        hash: toHex(sha256(t.bytes)),
        bytes: toHex(t.bytes),
        height,
        index,
        code: t.code ?? 0,
        reason: t.reason ?? '',
        accounts: t.accounts ?? [],
        proof: { txRoot, index, count: proof.count, siblings: proof.siblings.map(toHex) },
      }
    })
    const block: BlockDto = { header, txHashes: txs.map((t) => t.hash) }
    const stored = { block, txs }
    this.blocks.push(stored)
    this.blocksByHash.set(hash, stored)
    for (const tx of txs) {
      this.txs.set(tx.hash, tx)
      this.dropped.delete(tx.hash)
      for (const a of new Set(tx.accounts)) {
        const list = this.accountTxs.get(a) ?? []
        list.push(tx)
        this.accountTxs.set(a, list)
      }
    }

    for (const a of input.accounts ?? []) this.accounts.set(a.address, a)
    for (const v of input.validators ?? []) this.validators.set(v.address, v)
    for (const d of input.delegations ?? []) this.delegations.set(`${d.delegator}/${d.validator}`, d)
    for (const d of input.devices ?? []) this.putDevice(d)
    const proofs = (input.deviceProofs ?? []).map((p) => ({ ...p, height }))
    for (const p of proofs) this.proofs.set(`${p.deviceId}/${pad(p.epoch)}/${p.id}`, p)
    const rewards = (input.rewards ?? []).map((r) => ({ ...r, height }))
    for (const r of rewards) this.rewards.set(`${pad(r.epoch)}/${r.deviceId}`, r)
    for (const a of input.agreements ?? []) this.agreements.set(a.id, a)
    for (const c of input.channels ?? []) this.channels.set(c.id, c)

    const events: EventDto[] = []
    const at = () => ({ height, index: events.length })
    for (const r of input.rounds ?? []) events.push({ topic: 'consensusRound', ...at(), round: r.round, step: r.step })
    events.push({ topic: 'newBlock', ...at(), header })
    for (const tx of txs) events.push({ topic: 'tx', ...at(), hash: tx.hash, code: tx.code, accounts: tx.accounts })
    for (const p of proofs)
      events.push({ topic: 'deviceReport', ...at(), deviceId: p.deviceId, kind: p.kind, verdict: p.verdict, reason: p.reason })
    for (const r of rewards) events.push({ topic: 'reward', ...at(), deviceId: r.deviceId, epoch: r.epoch, amount: r.amount })
    this.events.set(height, events)
    this.events.delete(height - this.eventHistoryHeightsMax)
    for (const event of events) this.emit(event)
    return block
  }

  /**
   * Takes a pooled transaction out of the mempool without committing it, as a node's
   * mempool drops one (replaced, evicted, stale, invalid on re-check, flushed); its status
   * then reads dropped. Returns false (and records nothing) if it was not pooled.
   */
  dropTx(hash: string, reason: TxDropReasonDto, droppedAtMs = Date.now()): boolean {
    if (!this.mempool.delete(hash)) return false
    this.recordDrop(hash, reason, droppedAtMs)
    return true
  }

  private recordDrop(hash: string, reason: TxDropReasonDto, droppedAtMs: number): void {
    this.dropped.delete(hash)
    this.dropped.set(hash, { reason, droppedAtMs })
    if (this.dropped.size > this.droppedTxsMax) this.dropped.delete(this.dropped.keys().next().value as string)
  }

  private putDevice(d: DeviceDto): void {
    const old = this.devices.get(d.id)
    if (old !== undefined) {
      // A device may change owner or cell: drop it from the old indexes.
      this.devicesByOwner.get(old.owner)?.delete(d.id)
      this.devicesByCell.get(old.h3Cell)?.delete(d.id)
    }
    this.devices.set(d.id, d)
    const byOwner = this.devicesByOwner.get(d.owner) ?? new SortedMap<DeviceDto>()
    byOwner.set(d.id, d)
    this.devicesByOwner.set(d.owner, byOwner)
    const byCell = this.devicesByCell.get(d.h3Cell) ?? new SortedMap<DeviceDto>()
    byCell.set(d.id, d)
    this.devicesByCell.set(d.h3Cell, byCell)
  }

  private emit(event: EventDto): void {
    for (const l of this.listeners) {
      if (event.height >= l.fromHeight && matchesFilter(l.filter, event)) l.listener(event)
    }
  }

  // ---------- NodeBackend ----------

  async status(): Promise<StatusDto> {
    this.count('status')
    const last = this.blocks[this.blocks.length - 1]?.block.header
    return {
      chainId: this.chainId,
      height: this.blocks.length,
      latestBlockHash: last?.hash ?? zeroHash,
      latestBlockTimeMs: last?.timeMs ?? 0,
      isSyncing: !this.isSynced,
      peerCount: this.peers.length,
      version: this.version,
    }
  }

  async readiness(): Promise<ReadinessDto> {
    this.count('readiness')
    // A lone devnet node has no peers yet is connected to itself; "connected" here means it has produced a block.
    const isConnected = this.peers.length > 0 || this.blocks.length > 0
    return { isReady: this.isSynced && isConnected, isSynced: this.isSynced, isConnected, height: this.blocks.length }
  }

  async getBlock(height: number): Promise<BlockDto | null> {
    this.count('getBlock')
    return this.blocks[height - 1]?.block ?? null
  }

  async getBlockByHash(hash: string): Promise<BlockDto | null> {
    this.count('getBlockByHash')
    return this.blocksByHash.get(hash)?.block ?? null
  }

  async listBlocks(page: PageRequest): Promise<PageDto<BlockHeaderDto>> {
    this.count('listBlocks')
    let top = this.blocks.length
    if (page.cursor !== undefined) {
      const after = decodeCursor(page.cursor)
      if (!/^[0-9]{16}$/.test(after)) throw new ApiError('API_BAD_CURSOR', 'unknown cursor')
      top = Math.min(top, Number(after) - 1)
    }
    const items: BlockHeaderDto[] = []
    for (let h = top; h >= 1 && items.length < page.limit; h--) items.push((this.blocks[h - 1] as StoredBlock).block.header)
    const last = items[items.length - 1]
    return { items, nextCursor: last !== undefined && last.height > 1 ? encodeCursor(pad(last.height)) : null }
  }

  async submitTx(bytes: Uint8Array): Promise<{ hash: string }> {
    this.count('submitTx')
    if (bytes.length === 0 || bytes.length > txBytesMax) throw new ApiError('API_BAD_TX', `transaction must be 1..${txBytesMax} bytes`)
    const refusal = this.checkTx(bytes)
    if (refusal !== null) throw new ApiError('API_TX_REJECTED', `transaction refused: ${refusal}`, { reason: refusal })
    const hash = toHex(sha256(bytes))
    if (this.txs.has(hash)) throw new ApiError('API_TX_REJECTED', 'transaction already committed', { reason: 'duplicate' })
    if (this.mempool.size >= this.mempoolTxsMax && !this.mempool.has(hash))
      throw new ApiError('API_MEMPOOL_FULL', `mempool is full (${this.mempoolTxsMax} transactions)`, {
        reason: 'pool_full',
        retryAfterMs: mempoolRetryAfterMs,
      })
    this.mempool.set(hash, Uint8Array.from(bytes))
    this.dropped.delete(hash)
    return { hash }
  }

  async getTxStatus(hash: string): Promise<TxStatusDto> {
    this.count('getTxStatus')
    const tx = this.txs.get(hash)
    if (tx !== undefined) return { hash, status: 'committed', height: tx.height, index: tx.index, code: tx.code }
    if (this.mempool.has(hash)) return { hash, status: 'pending' }
    const dropped = this.dropped.get(hash)
    if (dropped !== undefined) return { hash, status: 'dropped', reason: dropped.reason, droppedAtMs: dropped.droppedAtMs }
    return { hash, status: 'unknown' }
  }

  async getTx(hash: string): Promise<TxDto | null> {
    this.count('getTx')
    return this.txs.get(hash) ?? null
  }

  async listAccountTxs(address: string, page: PageRequest): Promise<PageDto<TxDto>> {
    this.count('listAccountTxs')
    const list = [...(this.accountTxs.get(address) ?? [])].reverse()
    return paginate(list, (t) => `${pad(t.height)}/${pad(t.index)}`, page, true)
  }

  async getAccount(address: string): Promise<AccountDto | null> {
    this.count('getAccount')
    return this.accounts.get(address) ?? null
  }

  async getAccounts(addresses: readonly string[]): Promise<(AccountDto | null)[]> {
    this.count('getAccounts')
    return addresses.map((a) => this.accounts.get(a) ?? null)
  }

  async getValidator(address: string): Promise<ValidatorDto | null> {
    this.count('getValidator')
    return this.validators.get(address) ?? null
  }

  async listValidators(page: PageRequest): Promise<PageDto<ValidatorDto>> {
    this.count('listValidators')
    return paginate(this.validators.values(), (v) => v.address, page)
  }

  async listDelegations(query: DelegationQuery, page: PageRequest): Promise<PageDto<DelegationDto>> {
    this.count('listDelegations')
    const items = this.delegations
      .values()
      .filter(
        (d) =>
          (query.delegator === undefined || d.delegator === query.delegator) &&
          (query.validator === undefined || d.validator === query.validator),
      )
    return paginate(items, (d) => `${d.delegator}/${d.validator}`, page)
  }

  async getDevice(id: string): Promise<DeviceDto | null> {
    this.count('getDevice')
    return this.devices.get(id) ?? null
  }

  async getDevices(ids: readonly string[]): Promise<(DeviceDto | null)[]> {
    this.count('getDevices')
    return ids.map((id) => this.devices.get(id) ?? null)
  }

  async listDevices(query: DeviceQuery, page: PageRequest): Promise<PageDto<DeviceDto>> {
    this.count('listDevices')
    let source: DeviceDto[]
    if (query.owner !== undefined) {
      source = this.devicesByOwner.get(query.owner)?.values() ?? []
      if (query.h3Cell !== undefined) source = source.filter((d) => d.h3Cell === query.h3Cell)
    } else if (query.h3Cell !== undefined) source = this.devicesByCell.get(query.h3Cell)?.values() ?? []
    else source = this.devices.values()
    return paginate(source, (d) => d.id, page)
  }

  async listDeviceProofs(query: DeviceProofQuery, page: PageRequest): Promise<PageDto<DeviceProofDto>> {
    this.count('listDeviceProofs')
    const items = this.proofs
      .values()
      .filter(
        (p) =>
          (query.deviceId === undefined || p.deviceId === query.deviceId) &&
          (query.epoch === undefined || p.epoch === query.epoch) &&
          (query.kind === undefined || p.kind === query.kind),
      )
    return paginate(items, (p) => `${p.deviceId}/${pad(p.epoch)}/${p.id}`, page)
  }

  async getReward(deviceId: string, epoch: number): Promise<RewardDto | null> {
    this.count('getReward')
    return this.rewards.get(`${pad(epoch)}/${deviceId}`) ?? null
  }

  async listRewards(query: RewardQuery, page: PageRequest): Promise<PageDto<RewardDto>> {
    this.count('listRewards')
    const items = this.rewards
      .values()
      .filter(
        (r) => (query.deviceId === undefined || r.deviceId === query.deviceId) && (query.epoch === undefined || r.epoch === query.epoch),
      )
    // Newest epoch first; within an epoch by device id descending (the key order).
    return paginate(items, (r) => `${pad(r.epoch)}/${r.deviceId}`, page, true)
  }

  async getAgreement(id: string): Promise<AgreementDto | null> {
    this.count('getAgreement')
    return this.agreements.get(id) ?? null
  }

  async listAgreements(query: PartyQuery, page: PageRequest): Promise<PageDto<AgreementDto>> {
    this.count('listAgreements')
    const items = this.agreements
      .values()
      .filter((a) => query.party === undefined || a.provider === query.party || a.customer === query.party)
    return paginate(items, (a) => a.id, page)
  }

  async getChannel(id: string): Promise<ChannelDto | null> {
    this.count('getChannel')
    return this.channels.get(id) ?? null
  }

  async listChannels(query: PartyQuery, page: PageRequest): Promise<PageDto<ChannelDto>> {
    this.count('listChannels')
    const items = this.channels.values().filter((c) => query.party === undefined || c.payer === query.party || c.payee === query.party)
    return paginate(items, (c) => c.id, page)
  }

  async getStateProof(key: Uint8Array, height?: number): Promise<StateProofDto> {
    this.count('getStateProof')
    const at = height ?? this.blocks.length
    if (at > this.blocks.length) throw new ApiError('API_NOT_FOUND', `height ${at} is not reached yet (latest ${this.blocks.length})`)
    const snapshot = this.snapshots.get(at)
    if (snapshot === undefined) throw new ApiError('API_HEIGHT_PRUNED', `state of height ${at} is no longer kept`)
    const { value, proof } = proveMemoryState(snapshot, key)
    return {
      height: at,
      root: toHex(snapshot.root),
      key: toHex(key),
      value: value === null ? null : toHex(value),
      proofFormat: memoryProofFormat,
      proof: toHex(proof),
    }
  }

  subscribe(filter: TopicFilterDto, listener: (event: EventDto) => void, init: SubscribeInit = {}): EventSubscription {
    this.count('subscribe')
    const fromHeight = init.fromHeight ?? this.blocks.length + 1
    const oldest = Math.max(1, this.blocks.length - this.eventHistoryHeightsMax + 1)
    if (fromHeight < oldest && this.blocks.length > 0)
      throw new ApiError('API_HEIGHT_PRUNED', `events before height ${oldest} are no longer kept`, { oldestHeight: oldest })
    // Replay synchronously, then register: nothing can be committed in between.
    for (let h = Math.max(fromHeight, 1); h <= this.blocks.length; h++) {
      for (const event of this.events.get(h) ?? []) if (matchesFilter(filter, event)) listener(event)
    }
    const entry = { filter, listener, fromHeight }
    this.listeners.add(entry)
    return { close: () => void this.listeners.delete(entry) }
  }

  /** Active subscriptions (tests check that servers release them). */
  get subscriptionCount(): number {
    return this.listeners.size
  }

  get mempoolSize(): number {
    return this.mempool.size
  }

  private makeAdmin(): AdminBackend {
    return {
      listPeers: async () => {
        this.count('admin.listPeers')
        return [...this.peers]
      },
      addPeer: async (address) => {
        this.count('admin.addPeer')
        const match = /\/p2p\/([1-9A-HJ-NP-Za-km-z]{10,128})$/.exec(address)
        if (match === null || !address.startsWith('/'))
          throw new ApiError('API_BAD_REQUEST', 'peer address must be a multiaddr ending in /p2p/<peer id>')
        const peer: PeerDto = { id: match[1] as string, address, direction: 'outbound', latencyMs: null }
        this.peers = this.peers.filter((p) => p.id !== peer.id).concat(peer)
        return peer
      },
      removePeer: async (peerId) => {
        this.count('admin.removePeer')
        const before = this.peers.length
        this.peers = this.peers.filter((p) => p.id !== peerId)
        return this.peers.length < before
      },
      getLogLevel: async () => this.logLevel,
      setLogLevel: async (level) => {
        this.count('admin.setLogLevel')
        this.logLevel = level
      },
      unsafeFlushMempool: async () => {
        this.count('admin.unsafeFlushMempool')
        const affected = this.mempool.size
        const nowMs = Date.now()
        for (const hash of this.mempool.keys()) this.recordDrop(hash, 'flushed', nowMs)
        this.mempool.clear()
        return { action: 'flushMempool', affected }
      },
    }
  }
}
