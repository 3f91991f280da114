/**
 * The one table of API error codes: HTTP status, WebSocket close code where the
 * error ends a socket, and a description. The README's error section lists every
 * code and a test keeps the two in sync (as fastify does for its own codes).
 */
export const errorCodes = {
  API_BAD_REQUEST: { status: 400, description: 'The request does not match the route schema (path, query, headers or body).' },
  API_BAD_JSON: { status: 400, description: 'The body is not valid JSON.' },
  API_BAD_CURSOR: { status: 400, description: 'The pagination cursor was not issued by this node or is malformed.' },
  API_BAD_TX: { status: 400, description: 'The transaction bytes are not a canonical transaction.' },
  API_BAD_KEY: { status: 400, description: 'The state key is empty or too long.' },
  API_UNAUTHORIZED: { status: 401, description: 'The route needs an API key and none (or an unknown one) was given.' },
  API_FORBIDDEN: { status: 403, description: "The API key's role may not use this route." },
  API_NOT_FOUND: { status: 404, description: 'No such block, transaction, account, device or other object.' },
  API_ROUTE_NOT_FOUND: { status: 404, description: 'No route matches the method and path.' },
  API_HEIGHT_PRUNED: { status: 410, description: 'The requested height is older than this node keeps (state or event history).' },
  API_BODY_TOO_LARGE: { status: 413, description: 'The request body exceeds the body limit (1 MB by default).' },
  API_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The content type is not application/json.' },
  API_TX_REJECTED: { status: 422, description: 'The node refused the transaction (signature, nonce, fee or mempool check).' },
  API_RATE_LIMITED: { status: 429, description: 'Too many requests from this client; retry after the given delay.' },
  API_GRAPHQL_DEPTH: { status: 400, description: 'The GraphQL query is nested deeper than the depth limit (6).' },
  API_GRAPHQL_ALIASES: { status: 400, description: 'The GraphQL query uses more aliases than the limit (15).' },
  API_GRAPHQL_COST: { status: 400, description: 'The GraphQL query costs more than the cost limit (5,000).' },
  API_GRAPHQL_BATCH: { status: 400, description: 'A GraphQL batch holds more queries than the batch limit (10).' },
  API_GRAPHQL_INVALID: { status: 400, description: 'The GraphQL document does not parse or validate.' },
  API_WS_TOO_MANY_CLIENTS: {
    status: 429,
    wsCloseCode: 1013,
    description: 'The node serves its maximum number of WebSocket clients (100).',
  },
  API_WS_TOO_MANY_SUBSCRIPTIONS: { status: 429, description: 'A WebSocket client asked for more subscriptions than allowed (5).' },
  API_WS_BAD_MESSAGE: { status: 400, description: 'A WebSocket message is not valid JSON matching the stream protocol.' },
  API_WS_MESSAGE_TOO_LARGE: { status: 413, wsCloseCode: 1009, description: 'A WebSocket message exceeds 1 MiB; the socket is closed.' },
  API_WS_SLOW_CONSUMER: {
    status: 429,
    wsCloseCode: 4008,
    description: 'The client did not keep up: its bounded send queue overflowed; the socket is closed. Resume from the last height seen.',
  },
  API_MEMPOOL_FULL: {
    status: 503,
    description:
      'The node is overloaded: its mempool is full and the fee does not beat the cheapest pooled transaction. Nothing was pooled; retry after the Retry-After delay (details.retryAfterMs) or with a higher fee.',
  },
  API_NOT_READY: { status: 503, description: 'The node is not synced or not connected (only from /ready).' },
  API_UNAVAILABLE: { status: 503, description: 'The backend is shutting down or cannot be reached.' },
  API_INTERNAL: { status: 500, description: 'A bug: the server failed unexpectedly. Never expected; report it.' },
} as const satisfies Record<string, { status: number; wsCloseCode?: number; description: string }>

export type ApiErrorCode = keyof typeof errorCodes

/** HTTP status of an error code. */
export function statusOf(code: ApiErrorCode): number {
  return errorCodes[code].status
}

/** An operating error the API reports to the client as `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  static override name = 'ApiError'
  override name = 'ApiError'
  readonly code: ApiErrorCode
  readonly details: unknown

  constructor(code: ApiErrorCode, message: string, details?: unknown) {
    super(message)
    this.code = code
    this.details = details
  }

  get status(): number {
    return statusOf(this.code)
  }

  toBody(): { error: { code: ApiErrorCode; message: string; details?: unknown } } {
    return this.details === undefined
      ? { error: { code: this.code, message: this.message } }
      : { error: { code: this.code, message: this.message, details: this.details } }
  }
}

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCodes, code)
}
