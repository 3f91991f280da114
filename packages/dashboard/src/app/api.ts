/**
 * The browser's view of the node API. It mirrors `@terrane/sdk`'s TerraneClient
 * (same routes, same DTO types, null for not-found) over `fetch` and the browser's
 * WebSocket: the SDK itself imports `ws` and node:crypto (through @terrane/codec),
 * which a browser bundle cannot include.
 */
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
  PageDto,
  RewardDto,
  StatusDto,
  TopicFilterDto,
  TxDto,
  ValidatorDto,
  WsServerMessageDto,
} from '@terrane/sdk'

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

/** An API failure: the server's `API_*` code, or `HTTP` / `NETWORK`. */
export class ApiRequestError extends Error {
  static override name = 'ApiRequestError'
  override name = 'ApiRequestError'
  readonly code: string
  readonly status: number
  constructor(code: string, message: string, status: number) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** Items fetched at most by `all()` (the map loads every device up to this bound). */
export const listItemsMax = 5000
const requestTimeoutMs = 10_000

export class Api {
  readonly url: string
  constructor(url: string) {
    this.url = url.replace(/\/$/, '')
  }

  private async get<T>(path: string): Promise<T> {
    let response: Response
    try {
      response = await fetch(this.url + path, { signal: AbortSignal.timeout(requestTimeoutMs) })
    } catch (err) {
      throw new ApiRequestError('NETWORK', `GET ${path}: ${(err as Error).message}`, 0)
    }
    const json = (await response.json().catch(() => null)) as unknown
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | null)?.error
      throw new ApiRequestError(error?.code ?? 'HTTP', error?.message ?? `GET ${path}: HTTP ${response.status}`, response.status)
    }
    return json as T
  }

  private async find<T>(path: string): Promise<T | null> {
    try {
      return await this.get<T>(path)
    } catch (err) {
      if (err instanceof ApiRequestError && err.code === 'API_NOT_FOUND') return null
      throw err
    }
  }

  status = (): Promise<StatusDto> => this.get('/v1/status')
  block = (height: number): Promise<BlockDto | null> => this.find(`/v1/blocks/${height}`)
  blockByHash = (hash: string): Promise<BlockDto | null> => this.find(`/v1/blocks/by-hash/${hash}`)
  blocks = (page: PageInit = {}): Promise<PageDto<BlockHeaderDto>> => this.get(`/v1/blocks${queryString({ ...page })}`)
  tx = (hash: string): Promise<TxDto | null> => this.find(`/v1/txs/${hash}`)
  account = (address: string): Promise<AccountDto | null> => this.find(`/v1/accounts/${address}`)
  accountTxs = (address: string, page: PageInit = {}): Promise<PageDto<TxDto>> =>
    this.get(`/v1/accounts/${address}/txs${queryString({ ...page })}`)
  validators = (page: PageInit = {}): Promise<PageDto<ValidatorDto>> => this.get(`/v1/validators${queryString({ ...page })}`)
  validator = (address: string): Promise<ValidatorDto | null> => this.find(`/v1/validators/${address}`)
  delegations = (filter: { delegator?: string; validator?: string } & PageInit = {}): Promise<PageDto<DelegationDto>> =>
    this.get(`/v1/delegations${queryString({ ...filter })}`)
  device = (id: string): Promise<DeviceDto | null> => this.find(`/v1/devices/${encodeURIComponent(id)}`)
  devices = (filter: { owner?: string; h3Cell?: string } & PageInit = {}): Promise<PageDto<DeviceDto>> =>
    this.get(`/v1/devices${queryString({ ...filter })}`)
  deviceProofs = (id: string, filter: { epoch?: number } & PageInit = {}): Promise<PageDto<DeviceProofDto>> =>
    this.get(`/v1/devices/${encodeURIComponent(id)}/proofs${queryString({ ...filter })}`)
  proofs = (filter: { epoch?: number; kind?: 'coverage' | 'service' } & PageInit = {}): Promise<PageDto<DeviceProofDto>> =>
    this.get(`/v1/proofs${queryString({ ...filter })}`)
  deviceRewards = (id: string, page: PageInit = {}): Promise<PageDto<RewardDto>> =>
    this.get(`/v1/devices/${encodeURIComponent(id)}/rewards${queryString({ ...page })}`)
  rewards = (filter: { epoch?: number } & PageInit = {}): Promise<PageDto<RewardDto>> =>
    this.get(`/v1/rewards${queryString({ ...filter })}`)
  agreements = (filter: { party?: string } & PageInit = {}): Promise<PageDto<AgreementDto>> =>
    this.get(`/v1/agreements${queryString({ ...filter })}`)
  channels = (filter: { party?: string } & PageInit = {}): Promise<PageDto<ChannelDto>> =>
    this.get(`/v1/channels${queryString({ ...filter })}`)

  /** Every item of a paged list, following cursors, at most `itemsMax`. */
  async all<T>(fetchPage: (page: PageInit) => Promise<PageDto<T>>, itemsMax = listItemsMax): Promise<T[]> {
    const items: T[] = []
    let cursor: string | null = null
    do {
      const page: PageDto<T> = await fetchPage(cursor === null ? { limit: 100 } : { limit: 100, cursor })
      for (const item of page.items) {
        if (items.length >= itemsMax) return items
        items.push(item)
      }
      cursor = page.nextCursor
    } while (cursor !== null)
    return items
  }

  /** Follows events over /v1/ws, reconnecting and resuming after the last (height, index) delivered. */
  subscribe(
    filter: TopicFilterDto,
    handlers: { onEvent: (event: EventDto) => void; onState?: (isConnected: boolean) => void },
  ): () => void {
    const wsUrl = this.url.replace(/^http/, 'ws') + '/v1/ws'
    let last: { height: number; index: number } | null = null
    let attempts = 0
    let isClosed = false
    let socket: WebSocket | null = null
    let timer: ReturnType<typeof setTimeout> | null = null
    const connect = (): void => {
      const ws = new WebSocket(wsUrl)
      socket = ws
      ws.onopen = () => {
        attempts = 0
        handlers.onState?.(true)
        ws.send(JSON.stringify({ op: 'subscribe', id: 'dashboard', filter, ...(last === null ? {} : { fromHeight: last.height }) }))
      }
      ws.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as WsServerMessageDto
        if (data.type !== 'event') return
        const { event } = data
        if (last !== null && (event.height < last.height || (event.height === last.height && event.index <= last.index))) return
        last = { height: event.height, index: event.index }
        handlers.onEvent(event)
      }
      ws.onclose = () => {
        handlers.onState?.(false)
        if (isClosed) return
        // Backoff as in the SDK: 250 ms doubling to 10 s.
        timer = setTimeout(connect, Math.min(10_000, 250 * 2 ** attempts++))
      }
    }
    connect()
    return () => {
      isClosed = true
      if (timer !== null) clearTimeout(timer)
      socket?.close()
    }
  }
}

/** Same origin by default (the node serves the app); `?api=http://host:port` points it at another node. */
export function apiBaseUrl(location: { origin: string; search: string }): string {
  const override = new URLSearchParams(location.search).get('api')
  return override !== null && /^https?:\/\//.test(override) ? override : location.origin
}
