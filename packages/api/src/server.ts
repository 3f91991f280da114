/**
 * The API server: REST (/v1, OpenAPI at /openapi.json, docs at /docs), GraphQL
 * (/graphql), WebSocket event streams (/v1/ws), /metrics, /health and /ready, on
 * one fastify instance over one {@link NodeBackend}.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fastifyStatic from '@fastify/static'
import websocket from '@fastify/websocket'
import { Registry } from 'prom-client'
import type { NodeBackend } from './backend.ts'
import { ApiError, isApiErrorCode, type ApiErrorCode } from './errors.ts'
import { graphqlLimitsDefault, registerGraphql, type GraphqlLimits } from './graphql.ts'
import { createApiMetrics, type ApiMetrics } from './metrics.ts'
import { routes, type RouteDef } from './routes.ts'
import { ErrorBody, Health, Readiness } from './schemas.ts'
import { ApiKeyAuthority, authorize, type Access, type ApiKeyEntry, type Principal } from './security.ts'
import { registerEventStream, wsLimitsDefault, type WsLimits } from './ws.ts'

export interface RateLimitInit {
  /** Requests per window per client (API key name, else IP). @default 1000 */
  requestsMax: number
  /** @default 10_000 */
  windowMs: number
}

export interface ApiServerInit {
  /** Largest request body: CometBFT's RPC limit. @default 1_000_000 */
  bodyBytesMax?: number
  /** Per-client rate limit, or false to disable (benchmarks). */
  rateLimit?: RateLimitInit | false
  /** Configured API keys (hashed) and their roles. @default [] */
  apiKeys?: ApiKeyEntry[]
  /** Whether reader routes need no key. @default true */
  isPublicReadable?: boolean
  graphql?: Partial<GraphqlLimits>
  ws?: Partial<WsLimits>
  /** Serve /docs (Swagger UI). @default true */
  hasDocs?: boolean
  /** A pino-compatible logger, or false. @default false */
  logger?: FastifyBaseLogger | false
  /** Server version reported by OpenAPI. @default '0.1.0' */
  version?: string
  /** A directory of static files served at `/` (the built dashboard). */
  staticDir?: string
}

export interface ApiServerComponents {
  backend: NodeBackend
  /** The node's metrics registry; the API adds its terrane_api_* metrics to it. @default a new Registry */
  registry?: Registry
}

export interface ApiServer {
  readonly app: FastifyInstance
  readonly metrics: ApiMetrics
  readonly registry: Registry
  /** Listens and returns the base URL, e.g. http://127.0.0.1:26657. */
  start(options?: { port?: number; host?: string }): Promise<string>
  stop(): Promise<void>
}

export const bodyBytesMaxDefault = 1_000_000
export const rateLimitDefault: RateLimitInit = { requestsMax: 1000, windowMs: 10_000 }
/** Longest path parameter (device ids are up to 128 characters). */
export const paramCharsMax = 256
/** Validation errors echoed back in `details`. */
const validationDetailsMax = 5

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyContextConfig {
    access?: Access
  }
}

function bodyOf(err: ApiError): ReturnType<ApiError['toBody']> {
  return err.toBody()
}

/** Maps anything thrown while serving a request to an ApiError (never leaks internals). */
export function toApiError(err: FastifyError | Error): ApiError {
  if (err instanceof ApiError) return err
  const e = err as FastifyError & { validation?: { instancePath?: string; message?: string }[]; validationContext?: string }
  if (e.validation !== undefined) {
    const details = e.validation
      .slice(0, validationDetailsMax)
      .map((v) => ({ path: `${e.validationContext ?? ''}${v.instancePath ?? ''}`, message: v.message ?? '' }))
    return new ApiError('API_BAD_REQUEST', e.message, details)
  }
  const byFastifyCode: Record<string, ApiErrorCode> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'API_BODY_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'API_UNSUPPORTED_MEDIA_TYPE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'API_BAD_REQUEST',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'API_BAD_JSON',
    FST_ERR_CTP_INVALID_JSON_BODY: 'API_BAD_JSON',
    FST_ERR_BAD_URL: 'API_BAD_REQUEST',
    FST_ERR_ASYNC_CONSTRAINT: 'API_BAD_REQUEST',
  }
  const mapped = e.code === undefined ? undefined : byFastifyCode[e.code]
  if (mapped !== undefined) return new ApiError(mapped, e.message)
  if (isApiErrorCode(e.code)) return new ApiError(e.code, e.message)
  if (e instanceof SyntaxError || (typeof e.statusCode === 'number' && e.statusCode === 400 && /JSON/i.test(e.message)))
    return new ApiError('API_BAD_JSON', `invalid JSON body: ${e.message}`)
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new ApiError('API_BODY_TOO_LARGE', e.message)
    if (e.statusCode === 415) return new ApiError('API_UNSUPPORTED_MEDIA_TYPE', e.message)
    return new ApiError('API_BAD_REQUEST', e.message)
  }
  return new ApiError('API_INTERNAL', 'internal error')
}

function registerRoute(app: FastifyInstance, def: RouteDef, backend: NodeBackend): void {
  const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody }
  app.route({
    method: def.method,
    url: def.url,
    config: { access: def.access },
    schema: {
      operationId: def.operationId,
      summary: def.summary,
      tags: def.tags,
      ...(def.access === 'public' || def.access === 'reader' ? {} : { security: [{ apiKey: [] }, { bearer: [] }] }),
      ...(def.params === undefined ? {} : { params: def.params }),
      ...(def.querystring === undefined ? {} : { querystring: def.querystring }),
      ...(def.body === undefined ? {} : { body: def.body }),
      response: { [def.status ?? 200]: def.response, ...errorResponses },
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await def.handler(backend, { params: request.params, query: request.query, body: request.body })
      reply.code(def.status ?? 200)
      // A batch answers per item; when the node refused any for overload, the response says when to retry.
      const retryAfterMs = batchRetryAfterMsOf(result)
      if (retryAfterMs !== undefined) reply.header('retry-after', Math.max(1, Math.ceil(retryAfterMs / 1000)))
      return result
    },
  })
}

/** Errors that tell the client when to come back (rate limit, overload) carry `details.retryAfterMs`. */
function retryAfterMsOf(err: { code: string; details?: unknown }): number | undefined {
  if (err.code !== 'API_RATE_LIMITED' && err.code !== 'API_MEMPOOL_FULL') return undefined
  const retryAfterMs = (err.details as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs
  return typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? retryAfterMs : undefined
}

/** The longest retry delay among a batch's refused items, if any was refused for overload. */
function batchRetryAfterMsOf(result: unknown): number | undefined {
  const results = (result as { results?: unknown } | null | undefined)?.results
  if (!Array.isArray(results)) return undefined
  let longest: number | undefined
  for (const item of results) {
    const error = (item as { error?: { code: string; details?: unknown } }).error
    const ms = error === undefined ? undefined : retryAfterMsOf(error)
    if (ms !== undefined && (longest === undefined || ms > longest)) longest = ms
  }
  return longest
}

/** Builds the server (routes registered, not yet listening). */
export async function createApiServer(components: ApiServerComponents, init: ApiServerInit = {}): Promise<ApiServer> {
  const { backend } = components
  const registry = components.registry ?? new Registry()
  const metrics = createApiMetrics(registry)
  const authority = new ApiKeyAuthority(init.apiKeys ?? [])
  const isPublicReadable = init.isPublicReadable ?? true
  const graphqlLimits: GraphqlLimits = { ...graphqlLimitsDefault, ...init.graphql }
  const wsLimits: WsLimits = { ...wsLimitsDefault, ...init.ws }
  const rateLimitInit = init.rateLimit === undefined ? rateLimitDefault : init.rateLimit

  const app = Fastify({
    logger: init.logger ?? false,
    bodyLimit: init.bodyBytesMax ?? bodyBytesMaxDefault,
    routerOptions: { maxParamLength: paramCharsMax },
    // Refuse prototype-poisoning payloads instead of silently stripping them.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Errors raised before routing (a URL that does not decode) get the same error body.
    frameworkErrors: (err, _request, reply: FastifyReply) => {
      const apiError = toApiError(err)
      void reply.code(apiError.status).send(bodyOf(apiError))
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  }) as unknown as FastifyInstance

  app.decorateRequest('principal', null)
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const apiError = toApiError(err)
    if (apiError.code === 'API_INTERNAL') request.log.error({ err }, 'Failed to serve request')
    const retryAfterMs = retryAfterMsOf(apiError)
    if (retryAfterMs !== undefined) reply.header('retry-after', Math.max(1, Math.ceil(retryAfterMs / 1000)))
    return reply.code(apiError.status).send(bodyOf(apiError))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(bodyOf(new ApiError('API_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200)}`))),
  )

  // Who is calling: before the rate limiter, which keys on it.
  app.addHook('onRequest', async (request) => {
    request.principal = authority.principalOf(request.headers)
  })
  app.addHook('preHandler', async (request) => {
    // ajv coerces "1e400" to Infinity and lets it past `maximum`: refuse non-finite numbers here.
    for (const source of [request.params, request.query])
      if (typeof source === 'object' && source !== null)
        for (const [name, value] of Object.entries(source))
          if (typeof value === 'number' && !Number.isFinite(value)) throw new ApiError('API_BAD_REQUEST', `${name} must be a finite number`)
    const access = request.routeOptions.config.access
    if (access !== undefined) authorize(access, request.principal, isPublicReadable)
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.requestDurationSeconds.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
  })
  // GraphQL batches: at most graphqlLimits.batchMax operations per request.
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url === '/graphql' && Array.isArray(request.body) && request.body.length > graphqlLimits.batchMax)
      throw new ApiError('API_GRAPHQL_BATCH', `a batch may hold at most ${graphqlLimits.batchMax} queries, got ${request.body.length}`)
  })

  if (rateLimitInit !== false) {
    await app.register(rateLimit, {
      global: true,
      max: rateLimitInit.requestsMax,
      timeWindow: rateLimitInit.windowMs,
      keyGenerator: (request) => (request.principal === null ? `ip:${request.ip}` : `key:${request.principal.name}`),
      errorResponseBuilder: (_request, context) =>
        new ApiError('API_RATE_LIMITED', `rate limit of ${context.max} requests per ${context.after} exceeded`, {
          retryAfterMs: context.ttl,
        }),
    })
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Terrane node API',
        version: init.version ?? '0.1.0',
        description: 'REST API of a Terrane node. Errors are `{ error: { code, message, details? } }`; lists use cursor pagination.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  })
  if (init.hasDocs ?? true) await app.register(swaggerUi, { routePrefix: '/docs' })
  // The web dashboard: static files at `/`; the API's own routes are more specific and win.
  if (init.staticDir !== undefined)
    await app.register(fastifyStatic, { root: init.staticDir, prefix: '/', wildcard: false, index: ['index.html'] })

  await app.register(websocket, {
    options: {
      maxPayload: wsLimits.messageBytesMax,
      verifyClient: (_info, done) => {
        const count = app.websocketServer.clients.size
        if (count >= wsLimits.clientsMax) {
          metrics.wsDroppedClientsTotal.inc({ reason: 'too_many_clients' })
          done(false, 429, 'API_WS_TOO_MANY_CLIENTS')
        } else done(true)
      },
    },
  })

  for (const def of routes) registerRoute(app, def, backend)

  app.get('/health', { schema: { hide: true, response: { 200: Health } } }, async () => ({ status: 'ok' as const }))
  app.get('/ready', { schema: { hide: true, response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const readiness = await backend.readiness()
    reply.code(readiness.isReady ? 200 : 503)
    return readiness
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    metrics.wsClients.set(app.websocketServer.clients.size)
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  registerEventStream(app, { backend, metrics }, wsLimits)
  await registerGraphql(app, { backend, metrics }, graphqlLimits)

  await app.ready()

  return {
    app,
    metrics,
    registry,
    async start(options = {}) {
      return app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
    },
    async stop() {
      for (const client of app.websocketServer.clients) client.terminate()
      await app.close()
      metrics.close()
    },
  }
}

/** STYLE.md factory form: `apiServer(init)(components)`. */
export function apiServer(init: ApiServerInit = {}) {
  return (components: ApiServerComponents): Promise<ApiServer> => createApiServer(components, init)
}
