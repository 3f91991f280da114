export * from './schemas.ts'
export { ApiError, errorCodes, statusOf, isApiErrorCode, type ApiErrorCode } from './errors.ts'
export {
  matchesFilter,
  type NodeBackend,
  type AdminBackend,
  type PageRequest,
  type DeviceQuery,
  type DelegationQuery,
  type DeviceProofQuery,
  type RewardQuery,
  type PartyQuery,
  type SubscribeInit,
  type EventSubscription,
} from './backend.ts'
export { MemoryBackend, type MemoryBackendInit, type BlockInput, type CommittedTxInput, type CallCounts } from './memory-backend.ts'
export { memoryProofFormat, verifyMemoryStateProof, proveMemoryState, snapshotOf, stateLeaf, type StateSnapshot } from './memory-proof.ts'
export {
  createApiServer,
  apiServer,
  toApiError,
  bodyBytesMaxDefault,
  rateLimitDefault,
  paramCharsMax,
  type ApiServer,
  type ApiServerInit,
  type ApiServerComponents,
  type RateLimitInit,
} from './server.ts'
export { routes, type RouteDef, type HttpMethod } from './routes.ts'
export {
  graphqlSdl,
  graphqlLimitsDefault,
  graphqlCostWeights,
  queryCostOf,
  queryDepthOf,
  limitRules,
  type GraphqlLimits,
} from './graphql.ts'
export { wsLimitsDefault, type WsLimits } from './ws.ts'
export { createApiMetrics, type ApiMetrics } from './metrics.ts'
export {
  hashApiKey,
  roles,
  ApiKeyAuthority,
  authorize,
  apiKeyCharsMax,
  type Role,
  type Access,
  type ApiKeyEntry,
  type Principal,
} from './security.ts'
export { populateMemoryBackend, seededRandom, fakeAddress, type PopulateInit, type Population } from './fixtures.ts'
