import { toHex } from '@terrane/codec'
import type {
  AccountDto,
  AgreementDto,
  BlockDto,
  BlockHeaderDto,
  ChannelDto,
  DelegationDto,
  DeviceDto,
  DeviceProofDto,
  PageDto,
  PeerDto,
  RewardDto,
  StateProofDto,
  StatusDto,
  TxDto,
  TxStatusDto,
  ValidatorDto,
  LogLevelDto,
} from '@terrane/api/schemas'
import { SdkError } from './errors.ts'
import { subscribeEvents, type EventStream, type EventStreamInit } from './stream.ts'
import { verifyStateProof, verifyTxInclusion } from './verify.ts'
import type { TopicFilterDto, EventDto } from '@terrane/api/schemas'

/** Why the node refused one transaction of a batch (`code` is the API error code, e.g. `API_MEMPOOL_FULL`). */
export interface SubmitTxRefusal {
  code: string
  message: string
  /** For `API_MEMPOOL_FULL`: `{ reason: 'pool_full' | 'queue_full', retryAfterMs }`. */
  details?: unknown
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMsOf(header: string | null, nowMs = Date.now()): number | null {
  if (header === null || header.trim() === '') return null
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs)
}

export interface ClientInit {
  /** Base URL of a node, e.g. http://127.0.0.1:26657 */
  url: string
  /** Sent as `x-api-key` (admin and operator routes, private nodes). */
  apiKey?: string
  /** @default 10_000 */
  timeoutMs?: number
}

export interface PageInit {
  limit?: number
  cursor?: string
}

type Query = Record<string, string | number | undefined>

function queryString(query: Query): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

/** Typed client for a Terrane node's REST, GraphQL and event-stream APIs. */
export class TerraneClient {
  readonly url: string
  private readonly apiKey: string | undefined
  private readonly timeoutMs: number

  constructor(init: ClientInit) {
    this.url = init.url.replace(/\/$/, '')
    this.apiKey = init.apiKey
    this.timeoutMs = init.timeoutMs ?? 10_000
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {}
    if (this.apiKey !== undefined) headers['x-api-key'] = this.apiKey
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(this.url + path, {
        method,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (err) {
      throw new SdkError('SDK_NETWORK', `${method} ${path}: ${(err as Error).message}`)
    }
    const text = await response.text()
    let json: unknown
    try {
      json = text === '' ? null : JSON.parse(text)
    } catch {
      throw new SdkError('SDK_BAD_RESPONSE', `${method} ${path}: response is not JSON`, { status: response.status })
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error
      if (error?.code?.startsWith('API_') === true)
        throw new SdkError(error.code as `API_${string}`, error.message ?? '', {
          status: response.status,
          details: error.details,
          retryAfterMs: retryAfterMsOf(response.headers.get('retry-after')),
        })
      throw new SdkError('SDK_HTTP', `${method} ${path}: HTTP ${response.status}`, { status: response.status })
    }
    return json as T
  }

  /** GET that maps API_NOT_FOUND to null. */
  private async find<T>(path: string): Promise<T | null> {
    try {
      return await this.request<T>('GET', path)
    } catch (err) {
      if (err instanceof SdkError && err.code === 'API_NOT_FOUND') return null
      throw err
    }
  }

  status = (): Promise<StatusDto> => this.request('GET', '/v1/status')
  block = (height: number): Promise<BlockDto | null> => this.find(`/v1/blocks/${height}`)
  blockByHash = (hash: string): Promise<BlockDto | null> => this.find(`/v1/blocks/by-hash/${hash}`)
  blocks = (page: PageInit = {}): Promise<PageDto<BlockHeaderDto>> => this.request('GET', `/v1/blocks${queryString({ ...page })}`)
  tx = (hash: string): Promise<TxDto | null> => this.find(`/v1/txs/${hash}`)
  /**
   * What the node knows of a transaction: `committed` (height, index, code), `pending`,
   * `dropped` (with `reason`: replaced, evicted, stale, invalid_on_recheck, flushed; and
   * `droppedAtMs`) or `unknown`. Never null; a malformed hash throws `API_BAD_REQUEST`.
   */
  txStatus = (hash: string): Promise<TxStatusDto> => this.request('GET', `/v1/txs/${hash}/status`)
  account = (address: string): Promise<AccountDto | null> => this.find(`/v1/accounts/${address}`)
  accountTxs = (address: string, page: PageInit = {}): Promise<PageDto<TxDto>> =>
    this.request('GET', `/v1/accounts/${address}/txs${queryString({ ...page })}`)
  validators = (page: PageInit = {}): Promise<PageDto<ValidatorDto>> => this.request('GET', `/v1/validators${queryString({ ...page })}`)
  validator = (address: string): Promise<ValidatorDto | null> => this.find(`/v1/validators/${address}`)
  delegations = (filter: { delegator?: string; validator?: string } & PageInit = {}): Promise<PageDto<DelegationDto>> =>
    this.request('GET', `/v1/delegations${queryString({ ...filter })}`)
  device = (id: string): Promise<DeviceDto | null> => this.find(`/v1/devices/${encodeURIComponent(id)}`)
  devices = (filter: { owner?: string; h3Cell?: string } & PageInit = {}): Promise<PageDto<DeviceDto>> =>
    this.request('GET', `/v1/devices${queryString({ ...filter })}`)
  deviceProofs = (
    id: string,
    filter: { epoch?: number; kind?: 'coverage' | 'service' } & PageInit = {},
  ): Promise<PageDto<DeviceProofDto>> => this.request('GET', `/v1/devices/${encodeURIComponent(id)}/proofs${queryString({ ...filter })}`)
  deviceRewards = (id: string, page: PageInit = {}): Promise<PageDto<RewardDto>> =>
    this.request('GET', `/v1/devices/${encodeURIComponent(id)}/rewards${queryString({ ...page })}`)
  reward = (id: string, epoch: number): Promise<RewardDto | null> => this.find(`/v1/devices/${encodeURIComponent(id)}/rewards/${epoch}`)
  agreement = (id: string): Promise<AgreementDto | null> => this.find(`/v1/agreements/${encodeURIComponent(id)}`)
  agreements = (filter: { party?: string } & PageInit = {}): Promise<PageDto<AgreementDto>> =>
    this.request('GET', `/v1/agreements${queryString({ ...filter })}`)
  channel = (id: string): Promise<ChannelDto | null> => this.find(`/v1/channels/${encodeURIComponent(id)}`)
  channels = (filter: { party?: string } & PageInit = {}): Promise<PageDto<ChannelDto>> =>
    this.request('GET', `/v1/channels${queryString({ ...filter })}`)
  stateProof = (key: Uint8Array, height?: number): Promise<StateProofDto> =>
    this.request('GET', `/v1/state/proof${queryString({ key: toHex(key), height })}`)

  /** Every item of a paged list, following cursors (bounded by `itemsMax`). */
  async *all<T>(fetchPage: (page: PageInit) => Promise<PageDto<T>>, itemsMax = 100_000): AsyncGenerator<T> {
    let cursor: string | undefined
    let served = 0
    for (;;) {
      const page = await fetchPage(cursor === undefined ? { limit: 100 } : { limit: 100, cursor })
      for (const item of page.items) {
        if (served++ >= itemsMax) return
        yield item
      }
      if (page.nextCursor === null) return
      cursor = page.nextCursor
    }
  }

  /**
   * Submits canonical transaction bytes (e.g. from @terrane/chain buildTransfer / signTx); returns the hash.
   * An overloaded node refuses with SdkError code `API_MEMPOOL_FULL` (HTTP 503) and `retryAfterMs`:
   * nothing was pooled, the same bytes may be sent again after that delay.
   */
  async submitTx(bytes: Uint8Array): Promise<string> {
    return (await this.request<{ hash: string }>('POST', '/v1/txs', { tx: toHex(bytes) })).hash
  }

  /**
   * Submits up to 1,000 transactions in one request (in order, so one sender's nonces
   * stay in sequence); each result is the hash once pooled, or the error refusing it.
   */
  async submitTxBatch(txs: readonly Uint8Array[]): Promise<Array<{ hash: string } | { error: SubmitTxRefusal }>> {
    return (
      await this.request<{ results: Array<{ hash: string } | { error: SubmitTxRefusal }> }>('POST', '/v1/txs/batch', {
        txs: txs.map(toHex),
      })
    ).results
  }

  /** A committed transaction, verified: hash of its bytes and inclusion proof against the block header. */
  async verifiedTx(hash: string): Promise<TxDto | null> {
    const tx = await this.tx(hash)
    if (tx === null) return null
    if (tx.hash !== hash) throw new SdkError('SDK_PROOF_INVALID', 'server returned a different transaction')
    const block = await this.block(tx.height)
    if (block === null) throw new SdkError('SDK_PROOF_INVALID', `block ${tx.height} of the transaction is missing`)
    const verdict = verifyTxInclusion(tx, block.header)
    if (!verdict.isValid) throw new SdkError('SDK_PROOF_INVALID', `inclusion proof refused: ${verdict.reason}`)
    return tx
  }

  /**
   * The value under a state key, verified against the state root of the header
   * at that height (fetched separately), or against `trustedRoot` if given.
   */
  async verifiedState(key: Uint8Array, init: { height?: number; trustedRoot?: string } = {}): Promise<Uint8Array | null> {
    const proof = await this.stateProof(key, init.height)
    let root = init.trustedRoot
    if (root === undefined) {
      const block = await this.block(proof.height)
      if (block === null) throw new SdkError('SDK_PROOF_INVALID', `block ${proof.height} is missing`)
      root = block.header.stateRoot
    }
    if (proof.key !== toHex(key)) throw new SdkError('SDK_PROOF_INVALID', 'proof is for another key')
    const verdict = verifyStateProof(proof, root)
    if (!verdict.isValid) throw new SdkError('SDK_PROOF_INVALID', `state proof refused: ${verdict.reason}`)
    return proof.value === null ? null : Uint8Array.from(Buffer.from(proof.value, 'hex'))
  }

  /** A GraphQL query (or mutation-free operation); errors become SdkError with the first error's code. */
  async graphql<T = unknown>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let result: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] }
    try {
      result = await this.request('POST', '/graphql', { query, variables })
    } catch (err) {
      if (err instanceof SdkError && err.code === 'SDK_HTTP') throw new SdkError('SDK_GRAPHQL', err.message, { status: err.status ?? 0 })
      throw err
    }
    const first = result.errors?.[0]
    if (first !== undefined)
      throw new SdkError((first.extensions?.code as `API_${string}`) ?? 'SDK_GRAPHQL', first.message, { details: result.errors })
    return result.data as T
  }

  /** Follows events over /v1/ws, reconnecting and resuming from the last height seen. */
  subscribe(filter: TopicFilterDto, onEvent: (event: EventDto) => void, init: Omit<EventStreamInit, 'url'> = {}): EventStream {
    return subscribeEvents({ ...init, url: this.url.replace(/^http/, 'ws') + '/v1/ws' }, filter, onEvent)
  }

  readonly admin = {
    peers: (): Promise<PeerDto[]> => this.request('GET', '/v1/admin/peers'),
    addPeer: (address: string): Promise<PeerDto> => this.request('POST', '/v1/admin/peers', { address }),
    removePeer: async (peerId: string): Promise<boolean> =>
      (await this.request<{ isRemoved: boolean }>('DELETE', `/v1/admin/peers/${peerId}`)).isRemoved,
    setLogLevel: async (level: LogLevelDto): Promise<void> => void (await this.request('PUT', '/v1/admin/log-level', { level })),
  }
}

export function createClient(init: ClientInit): TerraneClient {
  return new TerraneClient(init)
}
