import {
  ApiError,
  matchesFilter,
  type DeviceProofQuery,
  type DeviceQuery,
  type EventSubscription,
  type NodeBackend,
  type PageRequest,
  type PartyQuery,
  type RewardQuery,
} from '@terrane/api'
import type { Static } from '@sinclair/typebox'
import type * as Dto from '@terrane/api'
import type { ChainApp } from '@terrane/chain'
import { fromHex, merkleProof, sha256, toHex } from '@terrane/codec'
import { blockHash, type Block, type FinalizeBlockResponse } from '@terrane/consensus'
import { decodeAddress, encodeAddress } from '@terrane/crypto'
import { encodeStateProof } from '@terrane/state'
import type { Logger } from 'pino'
import type { TerraneNode } from './node.ts'
import type { NodeChainStore } from './chain-store.ts'
import { mempoolFullRetryAfterMs } from './mempool/mempool.ts'
import type { DepinView } from './depin/service.ts'
import * as depinApi from './depin/api.ts'

type StatusDto = Static<typeof Dto.Status>
type BlockHeaderDto = Static<typeof Dto.BlockHeader>
type BlockDto = Static<typeof Dto.Block>
type TxDto = Static<typeof Dto.Tx>
type TxStatusDto = Static<typeof Dto.TxStatus>
type AccountDto = Static<typeof Dto.Account>
type ValidatorDto = Static<typeof Dto.Validator>
type DelegationDto = Static<typeof Dto.Delegation>
type EventDto = Static<typeof Dto.Event>
type PeerDto = Static<typeof Dto.Peer>

/** Events kept in memory for resumption; older heights are rebuilt from the block store. */
/** Index of the first consensus-round event of a height (block events use 0..n). */
const roundEventIndexBase = 1_000_000
/** Names the state proof encoding of @terrane/state. */
export const stateProofFormat = 'terrane-smt16-v1'

/** The reason name of a result log such as `CHAIN_BAD_NONCE: expected 3`. */
function reasonOf(log: string | undefined): string {
  const match = /^([A-Z][A-Z0-9_]+):/.exec(log ?? '')
  return match?.[1] ?? ''
}

function emptyPage<T>(): { items: T[]; nextCursor: string | null } {
  return { items: [], nextCursor: null }
}

function parseCursor(cursor: string | undefined, fallback: number): number {
  if (cursor === undefined) return fallback
  if (!/^[0-9]{1,16}$/.test(cursor)) throw new ApiError('API_BAD_CURSOR', 'unknown cursor')
  return Number(cursor)
}

function addressOf(text: string): Uint8Array | null {
  try {
    return decodeAddress(text)
  } catch {
    return null
  }
}

function headerDto(block: Block): BlockHeaderDto {
  const h = block.header
  return {
    height: h.height,
    hash: toHex(blockHash(h)),
    parentHash: toHex(h.lastBlockHash),
    timeMs: h.timeMs,
    proposer: encodeAddress(h.proposer),
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    txCount: block.txs.length,
  }
}

/** Accounts a transaction touches: its sender and any `to` of its messages. */
function accountsOf(app: ChainApp, tx: Uint8Array): string[] {
  try {
    const { body } = app.decodeTx(tx)
    const out = new Set([encodeAddress(body.sender)])
    for (const m of body.messages as Array<Record<string, unknown>>) {
      for (const key of ['to', 'recipient', 'payee', 'validator', 'destination']) {
        const v = m[key]
        if (v instanceof Uint8Array && v.length === 20) out.add(encodeAddress(v))
      }
    }
    return [...out]
  } catch {
    return []
  }
}

/**
 * The API's view of a running node: blocks and transactions from the block
 * store, accounts and validators from the state machine, proofs from the Merkle
 * state, events from committed blocks and consensus rounds. Devices, proofs,
 * rewards, agreements and channels answer from their chain modules when the node
 * runs them, and are empty otherwise.
 */
export class NodeApiBackend implements NodeBackend {
  private readonly listeners = new Set<(event: EventDto) => void>()
  /** Transactions by account, newest last: (height, index) pairs. */
  private readonly accountTxs = new Map<string, Array<{ height: number; index: number }>>()
  private indexedHeight = 0
  private roundEvents = 0

  constructor(
    private readonly node: TerraneNode,
    private readonly store: NodeChainStore,
    private readonly logger: Logger,
    private readonly depin?: DepinView,
  ) {}

  /** Indexes stored blocks and follows new ones; call once at start. */
  async start(): Promise<void> {
    for (let h = 1; h <= this.node.blockStore.height; h++) {
      const block = await this.node.blockStore.block(h)
      if (block !== undefined) this.index(block)
    }
    this.node.onBlock((block, _commit, results) => {
      this.roundEvents = 0
      // Each transaction is decoded once for both the account index and the events.
      const accounts = block.txs.map((tx) => accountsOf(this.node.app, tx))
      this.index(block, accounts)
      this.publish(this.blockEvents(block, results, accounts))
    })
    this.node.onRound((height, round, step) => {
      if (step === 'propose' || step === 'prevote' || step === 'precommit' || step === 'commit') {
        // Round events are live only (not replayable): their indexes sit after the block's own events.
        this.publish([{ topic: 'consensusRound', height, index: roundEventIndexBase + this.roundEvents++, round, step }])
      }
    })
  }

  private index(block: Block, accounts = block.txs.map((tx) => accountsOf(this.node.app, tx))): void {
    const height = block.header.height
    if (height <= this.indexedHeight) return
    accounts.forEach((txAccounts, index) => {
      for (const account of txAccounts) {
        let list = this.accountTxs.get(account)
        if (list === undefined) this.accountTxs.set(account, (list = []))
        list.push({ height, index })
      }
    })
    this.indexedHeight = height
  }

  private blockEvents(
    block: Block,
    results: FinalizeBlockResponse | undefined,
    accounts = block.txs.map((tx) => accountsOf(this.node.app, tx)),
  ): EventDto[] {
    const height = block.header.height
    const events: EventDto[] = [{ topic: 'newBlock', height, index: 0, header: headerDto(block) }]
    block.txs.forEach((tx, i) => {
      events.push({
        topic: 'tx',
        height,
        index: i + 1,
        hash: toHex(sha256(tx)),
        code: results?.txResults[i]?.code ?? 0,
        accounts: accounts[i] ?? [],
      })
    })
    return events
  }

  private publish(events: EventDto[]): void {
    for (const e of events) {
      for (const listener of this.listeners) {
        try {
          listener(e)
        } catch (err) {
          this.logger.warn({ err }, 'Event listener failed')
        }
      }
    }
  }

  async status(): Promise<StatusDto> {
    const height = this.node.blockStore.height
    const latest = height > 0 ? await this.node.blockStore.block(height) : undefined
    const peerHeights = [...this.node.reactor.peerHeights().values()]
    return {
      chainId: this.node.genesis.chain.chainId,
      height,
      latestBlockHash: latest === undefined ? toHex(new Uint8Array(32)) : toHex(blockHash(latest.header)),
      latestBlockTimeMs: latest?.header.timeMs ?? this.node.genesis.genesisTimeMs,
      isSyncing: peerHeights.some((h) => h > this.node.driver.height + 1),
      peerCount: this.node.p2p.peers().length,
      version: '0.1.0',
    }
  }

  async readiness() {
    const status = await this.status()
    const isSingleValidator = this.node.genesis.chain.validators.length === 1
    const isConnected = status.peerCount > 0 || isSingleValidator
    const isSynced = !status.isSyncing && status.height > 0
    return { isReady: isSynced && isConnected, isSynced, isConnected, height: status.height }
  }

  async getBlock(height: number): Promise<BlockDto | null> {
    const block = await this.node.blockStore.block(height)
    return block === undefined ? null : { header: headerDto(block), txHashes: block.txs.map((tx) => toHex(sha256(tx))) }
  }

  async getBlockByHash(hash: string): Promise<BlockDto | null> {
    const height = await this.node.blockStore.heightOfHash(fromHex(hash))
    return height === undefined ? null : this.getBlock(height)
  }

  async listBlocks(page: PageRequest) {
    const top = parseCursor(page.cursor, this.node.blockStore.height)
    const items: BlockHeaderDto[] = []
    let h = top
    for (; h >= 1 && items.length < page.limit; h--) {
      const block = await this.node.blockStore.block(h)
      if (block !== undefined) items.push(headerDto(block))
    }
    return { items, nextCursor: h >= 1 ? String(h) : null }
  }

  async submitTx(bytes: Uint8Array) {
    const result = this.node.submitTx(bytes)
    if (result.accepted) return { hash: toHex(result.hash) }
    if (result.reason === 'duplicate') return { hash: toHex(sha256(bytes)) }
    if (result.reason === 'pool_full' || result.reason === 'queue_full')
      throw new ApiError('API_MEMPOOL_FULL', `mempool is full (${this.node.mempool.size} transactions)`, {
        reason: result.reason,
        retryAfterMs: mempoolFullRetryAfterMs,
      })
    const log = result.log ?? result.reason
    if (result.reason === 'invalid' && /CHAIN_BAD_ENCODING|CHAIN_TX_TOO_LARGE|CHAIN_UNKNOWN_MESSAGE|CHAIN_BAD_MESSAGE/.test(log))
      throw new ApiError('API_BAD_TX', log)
    throw new ApiError('API_TX_REJECTED', log, { reason: result.reason, ...(result.code === undefined ? {} : { code: result.code }) })
  }

  private async txAt(height: number, index: number): Promise<TxDto | null> {
    const block = await this.node.blockStore.block(height)
    const tx = block?.txs[index]
    if (block === undefined || tx === undefined) return null
    // A block is stored (and its txs indexed) before it is executed: until its results are saved, the tx is
    // not committed yet, and answering code 0 would call a failed tx a success.
    const result = (await this.node.blockStore.results(height))?.txResults[index]
    if (result === undefined) return null
    const proof = merkleProof(block.txs, index)
    return {
      hash: toHex(sha256(tx)),
      bytes: toHex(tx),
      height,
      index,
      code: result.code,
      reason: reasonOf(result.log),
      accounts: accountsOf(this.node.app, tx),
      proof: { txRoot: toHex(block.header.txRoot), index: proof.index, count: proof.count, siblings: proof.siblings.map(toHex) },
    }
  }

  async getTx(hash: string): Promise<TxDto | null> {
    const location = await this.node.blockStore.txLocation(fromHex(hash))
    return location === undefined ? null : this.txAt(location.height, location.index)
  }

  async getTxStatus(hash: string): Promise<TxStatusDto> {
    const id = fromHex(hash)
    const location = await this.node.blockStore.txLocation(id)
    if (location !== undefined) {
      // Stored but not executed yet (see txAt): decided, its result still to come.
      const result = (await this.node.blockStore.results(location.height))?.txResults[location.index]
      if (result !== undefined) return { hash, status: 'committed', height: location.height, index: location.index, code: result.code }
      return { hash, status: 'pending' }
    }
    if (this.node.mempool.has(id)) return { hash, status: 'pending' }
    const dropped = this.node.droppedTxs.get(hash)
    if (dropped !== undefined) return { hash, status: 'dropped', reason: dropped.reason, droppedAtMs: dropped.droppedAtMs }
    return { hash, status: 'unknown' }
  }

  async listAccountTxs(address: string, page: PageRequest) {
    const list = this.accountTxs.get(address) ?? []
    const start = parseCursor(page.cursor, list.length - 1)
    const items: TxDto[] = []
    let i = Math.min(start, list.length - 1)
    for (; i >= 0 && items.length < page.limit; i--) {
      const at = list[i] as { height: number; index: number }
      const tx = await this.txAt(at.height, at.index)
      if (tx !== null) items.push(tx)
    }
    return { items, nextCursor: i >= 0 ? String(i) : null }
  }

  async getAccount(address: string): Promise<AccountDto | null> {
    const id = addressOf(address)
    if (id === null) return null
    const view = this.node.app.account(id)
    if (view.kind === 'unknown' && view.balanceMicro === 0n && view.nonce === 0) return null
    const isValidator = this.node.app.validator(id) !== undefined
    return {
      address,
      balance: view.balanceMicro.toString(),
      nonce: view.nonce,
      kind: view.kind === 'multisig' ? 'multisig' : isValidator ? 'validator' : 'user',
    }
  }

  async getAccounts(addresses: readonly string[]) {
    return Promise.all(addresses.map((a) => this.getAccount(a)))
  }

  private validatorDto(record: NonNullable<ReturnType<TerraneNode['app']['validator']>>): ValidatorDto {
    const active = this.node.app.activeSet().find((v) => toHex(v.operator) === toHex(record.operator))
    return {
      address: encodeAddress(record.operator),
      publicKey: toHex(record.consensusKey),
      tokens: record.tokensMicro.toString(),
      votingPower: String(active?.power ?? 0),
      commissionBps: record.commissionBps,
      status: active !== undefined ? 'bonded' : record.tokensMicro > 0n ? 'unbonding' : 'unbonded',
      isJailed: record.isJailed,
    }
  }

  async getValidator(address: string): Promise<ValidatorDto | null> {
    const id = addressOf(address)
    const record = id === null ? undefined : this.node.app.validator(id)
    return record === undefined ? null : this.validatorDto(record)
  }

  async listValidators(page: PageRequest) {
    const all = this.node.app
      .validators()
      .map((r) => this.validatorDto(r))
      .sort((a, b) => (BigInt(b.tokens) > BigInt(a.tokens) ? 1 : BigInt(b.tokens) < BigInt(a.tokens) ? -1 : a.address < b.address ? -1 : 1))
    const start = parseCursor(page.cursor, 0)
    const items = all.slice(start, start + page.limit)
    return { items, nextCursor: start + page.limit < all.length ? String(start + page.limit) : null }
  }

  async listDelegations(query: { delegator?: string; validator?: string }, page: PageRequest) {
    if (query.delegator === undefined) throw new ApiError('API_BAD_REQUEST', 'delegations are listed by delegator; pass ?delegator=trn1...')
    const delegator = addressOf(query.delegator)
    if (delegator === null) return emptyPage<DelegationDto>()
    const all: DelegationDto[] = this.node.app
      .delegations(delegator)
      .filter((d) => query.validator === undefined || encodeAddress(d.validator) === query.validator)
      .map((d) => ({
        delegator: query.delegator as string,
        validator: encodeAddress(d.validator),
        shares: d.shares.toString(),
        amount: d.tokensMicro.toString(),
      }))
    const start = parseCursor(page.cursor, 0)
    return { items: all.slice(start, start + page.limit), nextCursor: start + page.limit < all.length ? String(start + page.limit) : null }
  }

  async getDevice(id: string) {
    return this.depin === undefined ? null : depinApi.device(this.depin, id)
  }
  async getDevices(ids: readonly string[]) {
    return Promise.all(ids.map((id) => this.getDevice(id)))
  }
  async listDevices(query: DeviceQuery, page: PageRequest) {
    return this.depin === undefined ? emptyPage<Static<typeof Dto.Device>>() : depinApi.devices(this.depin, query, page)
  }
  async listDeviceProofs(query: DeviceProofQuery, page: PageRequest) {
    return this.depin === undefined ? emptyPage<Static<typeof Dto.DeviceProof>>() : depinApi.proofs(this.depin, query, page)
  }
  async getReward(deviceId: string, epoch: number) {
    return this.depin === undefined ? null : depinApi.reward(this.depin, deviceId, epoch)
  }
  async listRewards(query: RewardQuery, page: PageRequest) {
    return this.depin === undefined ? emptyPage<Static<typeof Dto.Reward>>() : depinApi.rewards(this.depin, query, page)
  }
  async getAgreement(id: string) {
    return depinApi.agreement(this.store, id)
  }
  async listAgreements(query: PartyQuery, page: PageRequest) {
    return depinApi.agreements(this.store, query, page)
  }
  async getChannel(id: string) {
    return depinApi.channel(this.store, id)
  }
  async listChannels(query: PartyQuery, page: PageRequest) {
    return depinApi.channels(this.store, query, page)
  }

  async getStateProof(key: Uint8Array, height?: number) {
    // A proof "at height H" is against the root in block H's header: the state after
    // executing H - 1 (CometBFT's app hash), which is store version H (version 1 is genesis).
    const latest = this.node.blockStore.height
    const at = height ?? latest
    if (at > latest || at < 1) throw new ApiError('API_NOT_FOUND', `no block ${at} yet`)
    const version = at
    if (version < this.store.stateStore.oldestVersion) throw new ApiError('API_HEIGHT_PRUNED', `state of height ${at} was pruned`)
    const [value, proof, root] = await Promise.all([
      this.store.stateStore.getAt(key, version),
      this.store.prove(key, version),
      this.store.stateStore.rootAt(version),
    ])
    return {
      height: at,
      root: toHex(root),
      key: toHex(key),
      value: value === undefined ? null : toHex(value),
      proofFormat: stateProofFormat,
      proof: toHex(encodeStateProof(proof)),
    }
  }

  subscribe(
    filter: Static<typeof Dto.TopicFilter>,
    listener: (event: EventDto) => void,
    init: { fromHeight?: number } = {},
  ): EventSubscription {
    let isOpen = true
    const buffered: EventDto[] = []
    let isReplaying = init.fromHeight !== undefined
    const deliver = (e: EventDto) => {
      if (isOpen && matchesFilter(filter, e)) listener(e)
    }
    const live = (e: EventDto) => (isReplaying ? buffered.push(e) : deliver(e))
    this.listeners.add(live)
    if (init.fromHeight !== undefined) {
      const from = init.fromHeight
      const base = this.node.blockStore.baseHeight
      if (base > 0 && from < base) {
        this.listeners.delete(live)
        throw new ApiError('API_HEIGHT_PRUNED', `events before height ${base} are gone`)
      }
      void (async () => {
        const top = this.node.blockStore.height
        for (let h = Math.max(1, from); h <= top && isOpen; h++) {
          const block = await this.node.blockStore.block(h)
          if (block !== undefined) for (const e of this.blockEvents(block, await this.node.blockStore.results(h))) deliver(e)
        }
        isReplaying = false
        for (const e of buffered) if (e.height > top || e.topic === 'consensusRound') deliver(e)
        buffered.length = 0
      })().catch((err: unknown) => this.logger.warn({ err }, 'Event replay failed'))
    }
    return {
      close: () => {
        isOpen = false
        this.listeners.delete(live)
      },
    }
  }

  readonly admin = {
    listPeers: async (): Promise<PeerDto[]> =>
      this.node.p2p
        .peers()
        .map((p) => ({ id: p.peerId, address: p.addresses[0] ?? '', direction: p.direction, latencyMs: p.latencyMs ?? null })),
    addPeer: async (address: string): Promise<PeerDto> => {
      try {
        await this.node.p2p.dial(address)
      } catch (err) {
        throw new ApiError('API_BAD_REQUEST', `cannot dial ${address}: ${(err as Error).message}`)
      }
      const id = address.split('/p2p/')[1] ?? ''
      return { id, address, direction: 'outbound', latencyMs: null }
    },
    removePeer: async (peerId: string): Promise<boolean> => {
      const isConnected = this.node.p2p.peers().some((p) => p.peerId === peerId)
      if (!isConnected) return false
      this.node.p2p.ban(peerId)
      return true
    },
    getLogLevel: async () => this.logger.level as Static<typeof Dto.LogLevel>,
    setLogLevel: async (level: Static<typeof Dto.LogLevel>) => {
      this.logger.level = level
    },
    unsafeFlushMempool: async () => ({ action: 'flush-mempool', affected: this.node.mempool.clear() }),
  }
}
