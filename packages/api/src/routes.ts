/**
 * The REST route table: every /v1 route once, with its schemas, access level and
 * handler over {@link NodeBackend}. server.ts registers it with fastify, which
 * validates with the schemas and hands them to @fastify/swagger for OpenAPI.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox'
import { fromHex } from '@terrane/codec'
import type { NodeBackend, PageRequest } from './backend.ts'
import { ApiError } from './errors.ts'
import type { Access } from './security.ts'
import * as S from './schemas.ts'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface RouteInput<P, Q, B> {
  params: P
  query: Q
  body: B
}

export interface RouteDef {
  method: HttpMethod
  url: string
  operationId: string
  summary: string
  tags: string[]
  access: Access
  params?: TObject
  querystring?: TObject
  body?: TSchema
  response: TSchema
  /** @default 200 */
  status?: number
  handler: (backend: NodeBackend, input: RouteInput<unknown, unknown, unknown>) => Promise<unknown>
}

type Empty = TObject<Record<string, never>>

function route<P extends TObject = Empty, Q extends TObject = Empty, B extends TSchema = Empty>(def: {
  method: HttpMethod
  url: string
  operationId: string
  summary: string
  tags: string[]
  access?: Access
  params?: P
  querystring?: Q
  body?: B
  response: TSchema
  status?: number
  handler: (backend: NodeBackend, input: RouteInput<Static<P>, Static<Q>, Static<B>>) => Promise<unknown>
}): RouteDef {
  return { ...def, access: def.access ?? 'reader', handler: def.handler as RouteDef['handler'] } as RouteDef
}

function found<T>(value: T | null, what: string): T {
  if (value === null) throw new ApiError('API_NOT_FOUND', `${what} not found`)
  return value
}

function pageOf(query: { cursor?: string | undefined; limit?: number | undefined }): PageRequest {
  const page: PageRequest = { limit: query.limit ?? S.pageItemsDefault }
  if (query.cursor !== undefined) page.cursor = query.cursor
  return page
}

/** Copies only the defined keys (exactOptionalPropertyTypes forbids explicit undefined). */
function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v
  return out as { [K in keyof T]?: Exclude<T[K], undefined> }
}

const strict = { additionalProperties: false } as const
const pageFields = S.PageQuery.properties
const HeightParam = Type.Object({ height: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, strict)
const HashParam = Type.Object({ hash: S.Hex32 }, strict)
const AddressParam = Type.Object({ address: S.Address }, strict)
const IdParam = Type.Object({ id: S.ObjectId }, strict)
const DeviceParam = Type.Object({ id: S.DeviceId }, strict)
const PartyQuery = Type.Object({ ...pageFields, party: Type.Optional(S.Address) }, strict)

export const routes: RouteDef[] = [
  route({
    method: 'GET',
    url: '/v1/status',
    operationId: 'getStatus',
    summary: 'Chain id, height, latest block, sync state, peers and version',
    tags: ['node'],
    response: S.Status,
    handler: (b) => b.status(),
  }),
  route({
    method: 'GET',
    url: '/v1/blocks',
    operationId: 'listBlocks',
    summary: 'Block headers, newest first',
    tags: ['blocks'],
    querystring: S.PageQuery,
    response: S.BlockHeaderPage,
    handler: (b, { query }) => b.listBlocks(pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/blocks/:height',
    operationId: 'getBlock',
    summary: 'A block by height',
    tags: ['blocks'],
    params: HeightParam,
    response: S.Block,
    handler: async (b, { params }) => found(await b.getBlock(params.height), `block ${params.height}`),
  }),
  route({
    method: 'GET',
    url: '/v1/blocks/by-hash/:hash',
    operationId: 'getBlockByHash',
    summary: 'A block by hash',
    tags: ['blocks'],
    params: HashParam,
    response: S.Block,
    handler: async (b, { params }) => found(await b.getBlockByHash(params.hash), `block ${params.hash}`),
  }),
  route({
    method: 'POST',
    url: '/v1/txs',
    operationId: 'submitTx',
    summary: 'Submit a transaction (canonical bytes as hex); returns its hash once in the mempool',
    tags: ['transactions'],
    access: 'public',
    body: S.SubmitTxBody,
    status: 202,
    response: S.SubmitTxResult,
    handler: (b, { body }) => b.submitTx(fromHex(body.tx)),
  }),
  route({
    method: 'POST',
    url: '/v1/txs/batch',
    operationId: 'submitTxBatch',
    summary: `Submit up to ${S.submitBatchTxsMax} transactions in one request; each is admitted or refused on its own`,
    tags: ['transactions'],
    access: 'public',
    body: S.SubmitTxBatchBody,
    status: 202,
    response: S.SubmitTxBatchResult,
    handler: async (b, { body }) => {
      const results = []
      // In order: a sender's transactions arrive nonce after nonce. Each costs the node a
      // signature check: yield to the event loop every 64, so a 1,000-tx batch does not hold
      // back the node's consensus messages and timers for its whole length.
      for (const [i, tx] of body.txs.entries()) {
        if (i > 0 && i % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
        try {
          results.push(await b.submitTx(fromHex(tx)))
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          results.push({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } })
        }
      }
      return { results }
    },
  }),
  route({
    method: 'GET',
    url: '/v1/txs/:hash',
    operationId: 'getTx',
    summary: 'A committed transaction with its result code and inclusion proof',
    tags: ['transactions'],
    params: HashParam,
    response: S.Tx,
    handler: async (b, { params }) => found(await b.getTx(params.hash), `transaction ${params.hash}`),
  }),
  route({
    method: 'GET',
    url: '/v1/txs/:hash/status',
    operationId: 'getTxStatus',
    summary: "A transaction's status on this node: committed (height, index, code), pending, dropped (reason) or unknown",
    tags: ['transactions'],
    params: HashParam,
    response: S.TxStatus,
    handler: (b, { params }) => b.getTxStatus(params.hash),
  }),
  route({
    method: 'GET',
    url: '/v1/accounts/:address',
    operationId: 'getAccount',
    summary: 'Balance, nonce and kind of an account',
    tags: ['accounts'],
    params: AddressParam,
    response: S.Account,
    handler: async (b, { params }) => found(await b.getAccount(params.address), `account ${params.address}`),
  }),
  route({
    method: 'GET',
    url: '/v1/accounts/:address/txs',
    operationId: 'listAccountTxs',
    summary: 'Transactions touching an account, newest first',
    tags: ['accounts', 'transactions'],
    params: AddressParam,
    querystring: S.PageQuery,
    response: S.TxPage,
    handler: (b, { params, query }) => b.listAccountTxs(params.address, pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/validators',
    operationId: 'listValidators',
    summary: 'Validators by address',
    tags: ['staking'],
    querystring: S.PageQuery,
    response: S.ValidatorPage,
    handler: (b, { query }) => b.listValidators(pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/validators/:address',
    operationId: 'getValidator',
    summary: 'A validator',
    tags: ['staking'],
    params: AddressParam,
    response: S.Validator,
    handler: async (b, { params }) => found(await b.getValidator(params.address), `validator ${params.address}`),
  }),
  route({
    method: 'GET',
    url: '/v1/delegations',
    operationId: 'listDelegations',
    summary: 'Delegations, filtered by delegator and/or validator',
    tags: ['staking'],
    querystring: Type.Object({ ...pageFields, delegator: Type.Optional(S.Address), validator: Type.Optional(S.Address) }, strict),
    response: S.DelegationPage,
    handler: (b, { query }) => b.listDelegations(defined({ delegator: query.delegator, validator: query.validator }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/devices',
    operationId: 'listDevices',
    summary: 'Devices, filtered by owner and/or H3 cell',
    tags: ['devices'],
    querystring: Type.Object({ ...pageFields, owner: Type.Optional(S.Address), h3Cell: Type.Optional(S.H3Cell) }, strict),
    response: S.DevicePage,
    handler: (b, { query }) => b.listDevices(defined({ owner: query.owner, h3Cell: query.h3Cell }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/devices/:id',
    operationId: 'getDevice',
    summary: 'A device with its attestation status',
    tags: ['devices'],
    params: DeviceParam,
    response: S.Device,
    handler: async (b, { params }) => found(await b.getDevice(params.id), `device ${params.id}`),
  }),
  route({
    method: 'GET',
    url: '/v1/devices/:id/proofs',
    operationId: 'listDeviceProofs',
    summary: "A device's coverage and service proofs with their verdicts",
    tags: ['devices', 'proofs'],
    params: DeviceParam,
    querystring: Type.Object({ ...pageFields, epoch: Type.Optional(S.Epoch), kind: Type.Optional(S.ProofKind) }, strict),
    response: S.DeviceProofPage,
    handler: (b, { params, query }) =>
      b.listDeviceProofs(defined({ deviceId: params.id, epoch: query.epoch, kind: query.kind }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/proofs',
    operationId: 'listProofs',
    summary: 'Coverage and service proofs of all devices, filtered by epoch and kind',
    tags: ['proofs'],
    querystring: Type.Object({ ...pageFields, epoch: Type.Optional(S.Epoch), kind: Type.Optional(S.ProofKind) }, strict),
    response: S.DeviceProofPage,
    handler: (b, { query }) => b.listDeviceProofs(defined({ epoch: query.epoch, kind: query.kind }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/devices/:id/rewards',
    operationId: 'listDeviceRewards',
    summary: "A device's rewards per epoch, newest first, with explanations",
    tags: ['devices', 'rewards'],
    params: DeviceParam,
    querystring: S.PageQuery,
    response: S.RewardPage,
    handler: (b, { params, query }) => b.listRewards({ deviceId: params.id }, pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/devices/:id/rewards/:epoch',
    operationId: 'getDeviceReward',
    summary: "A device's reward for one epoch, with its explanation",
    tags: ['devices', 'rewards'],
    params: Type.Object({ id: S.DeviceId, epoch: S.Epoch }, strict),
    response: S.Reward,
    handler: async (b, { params }) => found(await b.getReward(params.id, params.epoch), `reward of ${params.id} in epoch ${params.epoch}`),
  }),
  route({
    method: 'GET',
    url: '/v1/rewards',
    operationId: 'listRewards',
    summary: 'Rewards of all devices, newest epoch first',
    tags: ['rewards'],
    querystring: Type.Object({ ...pageFields, epoch: Type.Optional(S.Epoch) }, strict),
    response: S.RewardPage,
    handler: (b, { query }) => b.listRewards(defined({ epoch: query.epoch }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/agreements',
    operationId: 'listAgreements',
    summary: 'Service agreements, filtered by party',
    tags: ['agreements'],
    querystring: PartyQuery,
    response: S.AgreementPage,
    handler: (b, { query }) => b.listAgreements(defined({ party: query.party }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/agreements/:id',
    operationId: 'getAgreement',
    summary: 'A service agreement',
    tags: ['agreements'],
    params: IdParam,
    response: S.Agreement,
    handler: async (b, { params }) => found(await b.getAgreement(params.id), `agreement ${params.id}`),
  }),
  route({
    method: 'GET',
    url: '/v1/channels',
    operationId: 'listChannels',
    summary: 'Payment channels, filtered by party',
    tags: ['channels'],
    querystring: PartyQuery,
    response: S.ChannelPage,
    handler: (b, { query }) => b.listChannels(defined({ party: query.party }), pageOf(query)),
  }),
  route({
    method: 'GET',
    url: '/v1/channels/:id',
    operationId: 'getChannel',
    summary: 'A payment channel',
    tags: ['channels'],
    params: IdParam,
    response: S.Channel,
    handler: async (b, { params }) => found(await b.getChannel(params.id), `channel ${params.id}`),
  }),
  route({
    method: 'GET',
    url: '/v1/state/proof',
    operationId: 'getStateProof',
    summary: 'The value under a state key with a proof against the state root (latest height by default)',
    tags: ['state'],
    querystring: Type.Object(
      {
        key: Type.String({ pattern: '^([0-9a-f]{2})+$', maxLength: S.stateKeyBytesMax * 2, description: 'State key as hex.' }),
        height: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
      },
      strict,
    ),
    response: S.StateProof,
    handler: (b, { query }) => b.getStateProof(fromHex(query.key), query.height),
  }),
  route({
    method: 'GET',
    url: '/v1/admin/peers',
    operationId: 'listPeers',
    summary: 'Connected peers',
    tags: ['admin'],
    access: 'operator',
    response: Type.Array(S.Peer),
    handler: (b) => b.admin.listPeers(),
  }),
  route({
    method: 'POST',
    url: '/v1/admin/peers',
    operationId: 'addPeer',
    summary: 'Dial a peer',
    tags: ['admin'],
    access: 'operator',
    body: S.AddPeerBody,
    response: S.Peer,
    handler: (b, { body }) => b.admin.addPeer(body.address),
  }),
  route({
    method: 'DELETE',
    url: '/v1/admin/peers/:peerId',
    operationId: 'removePeer',
    summary: 'Disconnect a peer',
    tags: ['admin'],
    access: 'operator',
    params: Type.Object({ peerId: Type.String({ pattern: '^[1-9A-HJ-NP-Za-km-z]{10,128}$' }) }, strict),
    response: Type.Object({ isRemoved: Type.Boolean() }, strict),
    handler: async (b, { params }) => ({ isRemoved: await b.admin.removePeer(params.peerId) }),
  }),
  route({
    method: 'GET',
    url: '/v1/admin/log-level',
    operationId: 'getLogLevel',
    summary: 'Current log level',
    tags: ['admin'],
    access: 'operator',
    response: S.LogLevelBody,
    handler: async (b) => ({ level: await b.admin.getLogLevel() }),
  }),
  route({
    method: 'PUT',
    url: '/v1/admin/log-level',
    operationId: 'setLogLevel',
    summary: 'Change the log level',
    tags: ['admin'],
    access: 'admin',
    body: S.LogLevelBody,
    response: S.LogLevelBody,
    handler: async (b, { body }) => {
      await b.admin.setLogLevel(body.level)
      return { level: body.level }
    },
  }),
  route({
    method: 'POST',
    url: '/v1/admin/unsafe/flush-mempool',
    operationId: 'unsafeFlushMempool',
    summary: 'Unsafe: drop every pending transaction',
    tags: ['admin'],
    access: 'admin',
    response: S.UnsafeResult,
    handler: (b) => b.admin.unsafeFlushMempool(),
  }),
]
