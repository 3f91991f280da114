/**
 * GraphQL over the same {@link NodeBackend}: queries with DataLoader-style batching
 * (mercurius loaders: the owner accounts of a page of devices cost one
 * `getAccounts` call), subscriptions fed by `backend.subscribe`, and the limits of
 * GraphQL Armor (depth 6, aliases 15, cost 5,000) plus a batch limit of 10.
 */
import type { FastifyInstance } from 'fastify'
import mercurius, { type IResolvers, type MercuriusLoaders } from 'mercurius'
import {
  GraphQLError,
  GraphQLScalarType,
  Kind,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql'
import { fromHex } from '@terrane/codec'
import type { NodeBackend, PageRequest } from './backend.ts'
import { ApiError, type ApiErrorCode } from './errors.ts'
import { generateSdl } from './graphql-schema.ts'
import type { ApiMetrics } from './metrics.ts'
import * as S from './schemas.ts'
import type { AccountDto, DeviceDto, EventDto, TopicFilterDto } from './schemas.ts'

export interface GraphqlLimits {
  /** GraphQL Armor max-depth default. @default 6 */
  depthMax: number
  /** GraphQL Armor max-aliases default. @default 15 */
  aliasesMax: number
  /** GraphQL Armor cost-limit default. @default 5000 */
  costMax: number
  /** Queries in one batched request (CometBFT's JSON-RPC batch limit). @default 10 */
  batchMax: number
  /** Events buffered per GraphQL subscription before it is ended as too slow. @default 1000 */
  subscriptionQueueEventsMax: number
}

export const graphqlLimitsDefault: GraphqlLimits = {
  depthMax: 6,
  aliasesMax: 15,
  costMax: 5000,
  batchMax: 10,
  subscriptionQueueEventsMax: 1000,
}

/** GraphQL Armor cost-limit defaults: objectCost 2, scalarCost 1, depthCostFactor 1.5. */
export const graphqlCostWeights = { objectCost: 2, scalarCost: 1, depthCostFactor: 1.5 } as const

function limitError(code: ApiErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } })
}

function fragmentsOf(context: ValidationContext): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>()
  for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) map.set(d.name.value, d)
  return map
}

/**
 * Walks selections with fragments inlined. `visiting` stops fragment cycles (the
 * spec's NoFragmentCycles rule reports them; we must only not loop).
 */
function walk(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visit: (field: { hasSelection: boolean; set?: SelectionSetNode; name: string }) => number,
  combine: (values: number[]) => number,
  visiting: Set<string>,
): number {
  const values: number[] = []
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value.startsWith('__')) continue // introspection is ignored, as in GraphQL Armor
      values.push(
        s.selectionSet === undefined
          ? visit({ hasSelection: false, name: s.name.value })
          : visit({ hasSelection: true, set: s.selectionSet, name: s.name.value }),
      )
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      values.push(walk(s.selectionSet, fragments, visit, combine, visiting))
    } else {
      const f = fragments.get(s.name.value)
      if (f === undefined || visiting.has(f.name.value)) continue
      visiting.add(f.name.value)
      values.push(walk(f.selectionSet, fragments, visit, combine, visiting))
      visiting.delete(f.name.value)
    }
  }
  return combine(values)
}

/** Depth of the deepest field (a root field is depth 1). */
export function queryDepthOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): number {
  const depth = (s: SelectionSetNode): number =>
    walk(
      s,
      fragments,
      (f) => 1 + (f.set === undefined ? 0 : depth(f.set)),
      (v) => (v.length === 0 ? 0 : Math.max(...v)),
      new Set(),
    )
  return depth(set)
}

/** GraphQL Armor's cost: leaf = scalarCost, object = objectCost + depthCostFactor x cost of its children. */
export function queryCostOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): number {
  const { objectCost, scalarCost, depthCostFactor } = graphqlCostWeights
  const cost = (s: SelectionSetNode): number =>
    walk(
      s,
      fragments,
      (f) => (f.set === undefined ? scalarCost : objectCost + depthCostFactor * cost(f.set)),
      (v) => v.reduce((a, b) => a + b, 0),
      new Set(),
    )
  return cost(set)
}

function depthRule(max: number, metrics?: ApiMetrics): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context)
    return {
      OperationDefinition(node) {
        const depth = queryDepthOf(node.selectionSet, fragments)
        if (depth > max) {
          metrics?.graphqlRejectedTotal.inc({ code: 'API_GRAPHQL_DEPTH' })
          context.reportError(limitError('API_GRAPHQL_DEPTH', `query depth ${depth} exceeds the limit of ${max}`))
        }
      },
    } satisfies ASTVisitor
  }
}

function costRule(max: number, metrics?: ApiMetrics): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context)
    return {
      OperationDefinition(node) {
        const cost = queryCostOf(node.selectionSet, fragments)
        if (cost > max) {
          metrics?.graphqlRejectedTotal.inc({ code: 'API_GRAPHQL_COST' })
          context.reportError(limitError('API_GRAPHQL_COST', `query cost ${cost} exceeds the limit of ${max}`))
        }
      },
    }
  }
}

function aliasRule(max: number, metrics?: ApiMetrics): ValidationRule {
  return (context) => {
    let aliases = 0
    return {
      Field(node) {
        if (node.alias !== undefined) aliases++
      },
      Document: {
        leave() {
          if (aliases > max) {
            metrics?.graphqlRejectedTotal.inc({ code: 'API_GRAPHQL_ALIASES' })
            context.reportError(limitError('API_GRAPHQL_ALIASES', `query uses ${aliases} aliases, more than the limit of ${max}`))
          }
        },
      },
    }
  }
}

export function limitRules(limits: GraphqlLimits, metrics?: ApiMetrics): ValidationRule[] {
  return [depthRule(limits.depthMax, metrics), aliasRule(limits.aliasesMax, metrics), costRule(limits.costMax, metrics)]
}

// ---------- schema ----------

const pageArgs = `first: Int = ${S.pageItemsDefault}, after: String`

export const graphqlSdl = `
"A JSON number holding an integer in -(2^53 - 1)..2^53 - 1."
scalar SafeInt

${generateSdl([
  S.Status,
  S.Block,
  S.Tx,
  S.TxStatus,
  S.Account,
  S.Validator,
  S.Delegation,
  S.Device,
  S.DeviceProof,
  S.Reward,
  S.Agreement,
  S.Channel,
  S.StateProof,
  S.BlockHeaderPage,
  S.TxPage,
  S.ValidatorPage,
  S.DelegationPage,
  S.DevicePage,
  S.DeviceProofPage,
  S.RewardPage,
  S.AgreementPage,
  S.ChannelPage,
  S.Event,
])}

extend type Device {
  "The owner's account (batched: one backend read per query, not per device)."
  ownerAccount: Account
  proofs(epoch: SafeInt, ${pageArgs}): DeviceProofPage!
  rewards(${pageArgs}): RewardPage!
}

extend type Account {
  txs(${pageArgs}): TxPage!
  devices(${pageArgs}): DevicePage!
}

type Query {
  status: Status!
  block(height: SafeInt, hash: String): Block
  blocks(${pageArgs}): BlockHeaderPage!
  tx(hash: String!): Tx
  "What this node knows of a transaction: committed, pending, dropped (with the reason) or unknown."
  txStatus(hash: String!): TxStatus!
  account(address: String!): Account
  validator(address: String!): Validator
  validators(${pageArgs}): ValidatorPage!
  delegations(delegator: String, validator: String, ${pageArgs}): DelegationPage!
  device(id: String!): Device
  devices(owner: String, h3Cell: String, ${pageArgs}): DevicePage!
  proofs(deviceId: String, epoch: SafeInt, kind: ProofKind, ${pageArgs}): DeviceProofPage!
  reward(deviceId: String!, epoch: SafeInt!): Reward
  rewards(deviceId: String, epoch: SafeInt, ${pageArgs}): RewardPage!
  agreement(id: String!): Agreement
  agreements(party: String, ${pageArgs}): AgreementPage!
  channel(id: String!): Channel
  channels(party: String, ${pageArgs}): ChannelPage!
  stateProof(key: String!, height: SafeInt): StateProof!
}

type Subscription {
  newBlocks(fromHeight: SafeInt): NewBlockEvent!
  txs(account: String!, fromHeight: SafeInt): TxEvent!
  deviceEvents(deviceId: String, fromHeight: SafeInt): DeviceReportEvent!
  rewards(deviceId: String, fromHeight: SafeInt): RewardEvent!
}
`

function parseSafeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError('SafeInt must be an integer within +-(2^53 - 1)')
  return value
}

const SafeInt = new GraphQLScalarType({
  name: 'SafeInt',
  serialize: parseSafeInt,
  parseValue: parseSafeInt,
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw new TypeError('SafeInt must be an integer literal')
    return parseSafeInt(Number(ast.value))
  },
})

// ---------- argument checks ----------

function badArg(name: string, why: string): GraphQLError {
  return new GraphQLError(`argument ${name}: ${why}`, { extensions: { code: 'API_BAD_REQUEST' } })
}

function checkPattern(name: string, value: unknown, pattern: RegExp, optional = true): string | undefined {
  if (value === undefined || value === null) {
    if (optional) return undefined
    throw badArg(name, 'required')
  }
  if (typeof value !== 'string' || !pattern.test(value)) throw badArg(name, `must match ${pattern.source}`)
  return value
}

const patterns = {
  address: new RegExp(S.Address.pattern as string),
  hash: new RegExp(S.Hex32.pattern as string),
  deviceId: new RegExp(S.DeviceId.pattern as string),
  h3Cell: new RegExp(S.H3Cell.pattern as string),
  objectId: new RegExp(S.ObjectId.pattern as string),
  cursor: new RegExp(S.Cursor.pattern as string),
  key: /^([0-9a-f]{2}){1,256}$/,
}

interface PageArgs {
  first?: number | null
  after?: string | null
}

function pageOf(args: PageArgs): PageRequest {
  const first = args.first ?? S.pageItemsDefault
  if (!Number.isInteger(first) || first < 1 || first > S.pageItemsMax) throw badArg('first', `must be 1..${S.pageItemsMax}`)
  const page: PageRequest = { limit: first }
  const after = checkPattern('after', args.after, patterns.cursor)
  if (after !== undefined) {
    if (after.length > S.cursorCharsMax) throw badArg('after', 'too long')
    page.cursor = after
  }
  return page
}

function optionalHeight(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || value < 0) throw badArg(name, 'must be a non-negative integer')
  return value
}

/** ApiErrors thrown by the backend keep their code in the GraphQL error. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof ApiError) throw new GraphQLError(err.message, { extensions: { code: err.code } })
    throw err
  }
}

// ---------- subscriptions ----------

/**
 * Bridges `backend.subscribe` to the async iterator graphql-js consumes. The
 * queue is bounded: a consumer that falls more than `queueMax` events behind
 * gets an API_WS_SLOW_CONSUMER error and the stream ends.
 */
export function eventIterator(
  backend: NodeBackend,
  filter: TopicFilterDto,
  fromHeight: number | undefined,
  queueMax: number,
): AsyncIterableIterator<EventDto> {
  const queue: EventDto[] = []
  let waiting: ((r: IteratorResult<EventDto>) => void) | null = null
  let failure: Error | null = null
  let isDone = false
  const subscription = backend.subscribe(
    filter,
    (event) => {
      if (isDone) return
      if (waiting !== null) {
        const w = waiting
        waiting = null
        w({ value: event, done: false })
      } else if (queue.length >= queueMax) {
        failure = new GraphQLError('subscriber fell behind; resubscribe from the last height seen', {
          extensions: { code: 'API_WS_SLOW_CONSUMER' },
        })
        finish()
      } else queue.push(event)
    },
    fromHeight === undefined ? {} : { fromHeight },
  )
  function finish(): void {
    isDone = true
    subscription.close()
    if (waiting !== null && failure === null) waiting({ value: undefined, done: true })
  }
  return {
    next() {
      const event = queue.shift()
      if (event !== undefined) return Promise.resolve({ value: event, done: false })
      if (failure !== null) return Promise.reject(failure)
      if (isDone) return Promise.resolve({ value: undefined, done: true })
      return new Promise((resolve) => (waiting = resolve))
    },
    return() {
      queue.length = 0
      finish()
      return Promise.resolve({ value: undefined, done: true })
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

// ---------- registration ----------

declare module 'mercurius' {
  interface MercuriusContext {
    backend: NodeBackend
  }
}

export interface GraphqlComponents {
  backend: NodeBackend
  metrics?: ApiMetrics
}

/** Registers /graphql (queries, batched queries, subscriptions over WebSocket) on the app. */
export async function registerGraphql(app: FastifyInstance, components: GraphqlComponents, limits: GraphqlLimits): Promise<void> {
  const { backend, metrics } = components
  const rules = limitRules(limits, metrics)
  const b = backend

  const resolvers: IResolvers = {
    SafeInt,
    Event: {
      resolveType: (event: EventDto) =>
        ({
          newBlock: 'NewBlockEvent',
          tx: 'TxEvent',
          deviceReport: 'DeviceReportEvent',
          consensusRound: 'ConsensusRoundEvent',
          reward: 'RewardEvent',
        })[event.topic],
    },
    Query: {
      status: () => guarded(() => b.status()),
      block: (_: unknown, args: { height?: number | null; hash?: string | null }) =>
        guarded(async () => {
          const hash = checkPattern('hash', args.hash, patterns.hash)
          if (hash !== undefined) return b.getBlockByHash(hash)
          const height = optionalHeight('height', args.height)
          if (height === undefined) throw badArg('height', 'give height or hash')
          return b.getBlock(height)
        }),
      blocks: (_: unknown, args: PageArgs) => guarded(() => b.listBlocks(pageOf(args))),
      tx: (_: unknown, args: { hash: string }) => guarded(() => b.getTx(checkPattern('hash', args.hash, patterns.hash, false) as string)),
      txStatus: (_: unknown, args: { hash: string }) =>
        guarded(() => b.getTxStatus(checkPattern('hash', args.hash, patterns.hash, false) as string)),
      account: (_: unknown, args: { address: string }) =>
        guarded(() => b.getAccount(checkPattern('address', args.address, patterns.address, false) as string)),
      validator: (_: unknown, args: { address: string }) =>
        guarded(() => b.getValidator(checkPattern('address', args.address, patterns.address, false) as string)),
      validators: (_: unknown, args: PageArgs) => guarded(() => b.listValidators(pageOf(args))),
      delegations: (_: unknown, args: PageArgs & { delegator?: string | null; validator?: string | null }) =>
        guarded(() => {
          const query: { delegator?: string; validator?: string } = {}
          const delegator = checkPattern('delegator', args.delegator, patterns.address)
          const validator = checkPattern('validator', args.validator, patterns.address)
          if (delegator !== undefined) query.delegator = delegator
          if (validator !== undefined) query.validator = validator
          return b.listDelegations(query, pageOf(args))
        }),
      device: (_: unknown, args: { id: string }) =>
        guarded(() => b.getDevice(checkPattern('id', args.id, patterns.deviceId, false) as string)),
      devices: (_: unknown, args: PageArgs & { owner?: string | null; h3Cell?: string | null }) =>
        guarded(() => {
          const query: { owner?: string; h3Cell?: string } = {}
          const owner = checkPattern('owner', args.owner, patterns.address)
          const h3Cell = checkPattern('h3Cell', args.h3Cell, patterns.h3Cell)
          if (owner !== undefined) query.owner = owner
          if (h3Cell !== undefined) query.h3Cell = h3Cell
          return b.listDevices(query, pageOf(args))
        }),
      proofs: (_: unknown, args: PageArgs & { deviceId?: string | null; epoch?: number | null; kind?: 'coverage' | 'service' | null }) =>
        guarded(() => {
          const query: { deviceId?: string; epoch?: number; kind?: 'coverage' | 'service' } = {}
          const deviceId = checkPattern('deviceId', args.deviceId, patterns.deviceId)
          const epoch = optionalHeight('epoch', args.epoch)
          if (deviceId !== undefined) query.deviceId = deviceId
          if (epoch !== undefined) query.epoch = epoch
          if (args.kind !== undefined && args.kind !== null) query.kind = args.kind
          return b.listDeviceProofs(query, pageOf(args))
        }),
      reward: (_: unknown, args: { deviceId: string; epoch: number }) =>
        guarded(() =>
          b.getReward(
            checkPattern('deviceId', args.deviceId, patterns.deviceId, false) as string,
            optionalHeight('epoch', args.epoch) ?? 0,
          ),
        ),
      rewards: (_: unknown, args: PageArgs & { deviceId?: string | null; epoch?: number | null }) =>
        guarded(() => {
          const query: { deviceId?: string; epoch?: number } = {}
          const deviceId = checkPattern('deviceId', args.deviceId, patterns.deviceId)
          const epoch = optionalHeight('epoch', args.epoch)
          if (deviceId !== undefined) query.deviceId = deviceId
          if (epoch !== undefined) query.epoch = epoch
          return b.listRewards(query, pageOf(args))
        }),
      agreement: (_: unknown, args: { id: string }) =>
        guarded(() => b.getAgreement(checkPattern('id', args.id, patterns.objectId, false) as string)),
      agreements: (_: unknown, args: PageArgs & { party?: string | null }) =>
        guarded(() => {
          const party = checkPattern('party', args.party, patterns.address)
          return b.listAgreements(party === undefined ? {} : { party }, pageOf(args))
        }),
      channel: (_: unknown, args: { id: string }) =>
        guarded(() => b.getChannel(checkPattern('id', args.id, patterns.objectId, false) as string)),
      channels: (_: unknown, args: PageArgs & { party?: string | null }) =>
        guarded(() => {
          const party = checkPattern('party', args.party, patterns.address)
          return b.listChannels(party === undefined ? {} : { party }, pageOf(args))
        }),
      stateProof: (_: unknown, args: { key: string; height?: number | null }) =>
        guarded(() =>
          b.getStateProof(fromHex(checkPattern('key', args.key, patterns.key, false) as string), optionalHeight('height', args.height)),
        ),
    },
    Device: {
      proofs: (device: DeviceDto, args: PageArgs & { epoch?: number | null }) =>
        guarded(() => {
          const epoch = optionalHeight('epoch', args.epoch)
          return b.listDeviceProofs(epoch === undefined ? { deviceId: device.id } : { deviceId: device.id, epoch }, pageOf(args))
        }),
      rewards: (device: DeviceDto, args: PageArgs) => guarded(() => b.listRewards({ deviceId: device.id }, pageOf(args))),
    },
    Account: {
      txs: (account: AccountDto, args: PageArgs) => guarded(() => b.listAccountTxs(account.address, pageOf(args))),
      devices: (account: AccountDto, args: PageArgs) => guarded(() => b.listDevices({ owner: account.address }, pageOf(args))),
    },
    Subscription: {
      newBlocks: {
        subscribe: (_: unknown, args: { fromHeight?: number | null }) =>
          guarded(async () =>
            eventIterator(b, { topics: ['newBlock'] }, optionalHeight('fromHeight', args.fromHeight), limits.subscriptionQueueEventsMax),
          ),
        resolve: (event: EventDto) => event,
      },
      txs: {
        subscribe: (_: unknown, args: { account: string; fromHeight?: number | null }) =>
          guarded(async () => {
            const account = checkPattern('account', args.account, patterns.address, false) as string
            return eventIterator(
              b,
              { topics: ['tx'], account },
              optionalHeight('fromHeight', args.fromHeight),
              limits.subscriptionQueueEventsMax,
            )
          }),
        resolve: (event: EventDto) => event,
      },
      deviceEvents: {
        subscribe: (_: unknown, args: { deviceId?: string | null; fromHeight?: number | null }) =>
          guarded(async () => {
            const deviceId = checkPattern('deviceId', args.deviceId, patterns.deviceId)
            const filter: TopicFilterDto = deviceId === undefined ? { topics: ['deviceReport'] } : { topics: ['deviceReport'], deviceId }
            return eventIterator(b, filter, optionalHeight('fromHeight', args.fromHeight), limits.subscriptionQueueEventsMax)
          }),
        resolve: (event: EventDto) => event,
      },
      rewards: {
        subscribe: (_: unknown, args: { deviceId?: string | null; fromHeight?: number | null }) =>
          guarded(async () => {
            const deviceId = checkPattern('deviceId', args.deviceId, patterns.deviceId)
            const filter: TopicFilterDto = deviceId === undefined ? { topics: ['reward'] } : { topics: ['reward'], deviceId }
            return eventIterator(b, filter, optionalHeight('fromHeight', args.fromHeight), limits.subscriptionQueueEventsMax)
          }),
        resolve: (event: EventDto) => event,
      },
    },
  }

  // Batched per request: N devices' owners cost one getAccounts call.
  const loaders: MercuriusLoaders = {
    Device: {
      ownerAccount: async (queries: { obj: DeviceDto }[], ctx) => ctx.backend.getAccounts(queries.map((q) => q.obj.owner)),
    },
  }

  await app.register(mercurius, {
    schema: graphqlSdl,
    resolvers,
    loaders,
    context: () => ({ backend }),
    validationRules: rules,
    allowBatchedQueries: true,
    graphiql: false,
    path: '/graphql',
    // API errors raised around execution (batch limit, rate limit, keys) keep their code and HTTP status.
    errorFormatter: (execution, context) => {
      const formatted = mercurius.defaultErrorFormatter(execution, context)
      const apiError = execution.errors.map((e) => e.originalError).find((e): e is ApiError => e instanceof ApiError)
      if (apiError === undefined) return formatted
      return {
        statusCode: apiError.status,
        response: { data: null, errors: [{ message: apiError.message, extensions: { code: apiError.code } }] },
      }
    },
    // GraphQL documents itself (introspection); keep it out of the OpenAPI document.
    additionalRouteOptions: { schema: { hide: true } },
    subscription: {
      context: () => ({ backend }),
    },
  })

  // Subscriptions skip mercurius's validation rules: apply the limits before they run.
  app.graphql.addHook('preSubscriptionExecution', async (schema: GraphQLSchema, document: DocumentNode) => {
    const errors = validate(schema, document, rules)
    if (errors.length > 0) throw errors[0]
  })
}
