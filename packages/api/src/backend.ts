import type {
  AccountDto,
  AgreementDto,
  BlockDto,
  BlockHeaderDto,
  ChannelDto,
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
  TxDto,
  TxStatusDto,
  UnsafeResultDto,
  ValidatorDto,
  ProofKind,
} from './schemas.ts'
import type { Static } from '@sinclair/typebox'

/**
 * A page request. `cursor` is whatever the backend put in `nextCursor` (opaque to
 * the API); an unknown cursor must throw `ApiError('API_BAD_CURSOR')`. `limit` is
 * already validated by the API (1..pageItemsMax).
 */
export interface PageRequest {
  cursor?: string
  limit: number
}

export interface DeviceQuery {
  owner?: string
  h3Cell?: string
}

export interface DelegationQuery {
  delegator?: string
  validator?: string
}

export interface DeviceProofQuery {
  deviceId?: string
  epoch?: number
  kind?: Static<typeof ProofKind>
}

export interface RewardQuery {
  deviceId?: string
  epoch?: number
}

export interface PartyQuery {
  /** Either side of an agreement or channel. */
  party?: string
}

export interface SubscribeInit {
  /**
   * Replay the events of heights >= fromHeight first, then follow live events,
   * in (height, index) order without gaps or duplicates. A height older than the
   * backend keeps throws `ApiError('API_HEIGHT_PRUNED')`.
   */
  fromHeight?: number
}

export interface EventSubscription {
  /** Stops delivery; idempotent. */
  close(): void
}

/** Node administration, reached only through admin and operator routes. */
export interface AdminBackend {
  listPeers(): Promise<PeerDto[]>
  /** Dials a peer; throws `ApiError('API_BAD_REQUEST')` for an address it cannot parse. */
  addPeer(address: string): Promise<PeerDto>
  /** Returns false when no such peer was connected. */
  removePeer(peerId: string): Promise<boolean>
  getLogLevel(): Promise<LogLevelDto>
  setLogLevel(level: LogLevelDto): Promise<void>
  /** Unsafe: drops every pending transaction; returns how many were dropped. */
  unsafeFlushMempool(): Promise<UnsafeResultDto>
}

/**
 * What the API needs from a node: the read side, transaction submission, the
 * event stream and administration. Implemented by `@terrane/node` against the
 * real chain and by {@link MemoryBackend} for tests. Every method returns the
 * JSON-safe DTOs of schemas.ts; "not found" is `null`, not an exception. Run
 * `runBackendCompliance` (from `@terrane/api/compliance`) against any implementation.
 */
export interface NodeBackend {
  status(): Promise<StatusDto>
  readiness(): Promise<ReadinessDto>

  getBlock(height: number): Promise<BlockDto | null>
  getBlockByHash(hash: string): Promise<BlockDto | null>
  /** Newest first. */
  listBlocks(page: PageRequest): Promise<PageDto<BlockHeaderDto>>

  /**
   * Accepts canonical transaction bytes into the mempool and returns the hash
   * (hex SHA-256 of the bytes). Throws `ApiError('API_BAD_TX')` for bytes that
   * do not decode, `ApiError('API_TX_REJECTED')` for a refused transaction.
   */
  submitTx(bytes: Uint8Array): Promise<{ hash: string }>
  /** A committed transaction with its result and inclusion proof. */
  getTx(hash: string): Promise<TxDto | null>
  /**
   * What this node knows of a transaction, in this order: committed (with height, index
   * and result code), pending (in the mempool, or in a decided block not yet executed),
   * dropped (left the mempool without commit: the removal reason and time, kept for a
   * bounded number of recent drops), else unknown. Never null, never API_NOT_FOUND.
   */
  getTxStatus(hash: string): Promise<TxStatusDto>
  /** Transactions touching an account, newest first. */
  listAccountTxs(address: string, page: PageRequest): Promise<PageDto<TxDto>>

  getAccount(address: string): Promise<AccountDto | null>
  /** Batched lookup (GraphQL loaders): one result per address, in order. */
  getAccounts(addresses: readonly string[]): Promise<(AccountDto | null)[]>

  getValidator(address: string): Promise<ValidatorDto | null>
  listValidators(page: PageRequest): Promise<PageDto<ValidatorDto>>
  listDelegations(query: DelegationQuery, page: PageRequest): Promise<PageDto<DelegationDto>>

  getDevice(id: string): Promise<DeviceDto | null>
  /** Batched lookup: one result per id, in order. */
  getDevices(ids: readonly string[]): Promise<(DeviceDto | null)[]>
  listDevices(query: DeviceQuery, page: PageRequest): Promise<PageDto<DeviceDto>>

  listDeviceProofs(query: DeviceProofQuery, page: PageRequest): Promise<PageDto<DeviceProofDto>>
  getReward(deviceId: string, epoch: number): Promise<RewardDto | null>
  /** Newest epoch first. */
  listRewards(query: RewardQuery, page: PageRequest): Promise<PageDto<RewardDto>>

  getAgreement(id: string): Promise<AgreementDto | null>
  listAgreements(query: PartyQuery, page: PageRequest): Promise<PageDto<AgreementDto>>
  getChannel(id: string): Promise<ChannelDto | null>
  listChannels(query: PartyQuery, page: PageRequest): Promise<PageDto<ChannelDto>>

  /**
   * The value under a state key with a proof against the state root of `height`
   * (default: latest). Throws `ApiError('API_HEIGHT_PRUNED')` for a height whose
   * state is gone, `ApiError('API_NOT_FOUND')` for a height not reached yet.
   */
  getStateProof(key: Uint8Array, height?: number): Promise<StateProofDto>

  /** Delivers matching events to `listener` until closed (see {@link SubscribeInit}). */
  subscribe(filter: TopicFilterDto, listener: (event: EventDto) => void, init?: SubscribeInit): EventSubscription

  readonly admin: AdminBackend
}

/** Whether an event passes a topic filter (shared by every backend and the servers). */
export function matchesFilter(filter: TopicFilterDto, event: EventDto): boolean {
  if (!filter.topics.includes(event.topic)) return false
  switch (event.topic) {
    case 'tx':
      return filter.account === undefined || event.accounts.includes(filter.account)
    case 'deviceReport':
    case 'reward':
      return filter.deviceId === undefined || event.deviceId === filter.deviceId
    default:
      return true
  }
}
