import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { toHex } from '@terrane/codec'
import { deviceIdPattern } from './topics.ts'
import type { SessionAuthority } from './session.ts'

export interface ChallengeServerInit {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
}

export interface ChallengeServer {
  start(): Promise<void>
  stop(): Promise<void>
  /** `http://host:port` once started. */
  readonly url: string
}

/**
 * Hands out session challenges over HTTP: `GET /v1/devices/<deviceId>/challenge` ->
 * `200 {"nonce":"<64 hex>"}`. Stateless on the server (the nonce is MACed), so it costs
 * nothing to call; anyone may ask, only the device key can turn a nonce into a token.
 */
export function challengeServer(init: ChallengeServerInit = {}) {
  return (components: { session: SessionAuthority }): ChallengeServer => new DefaultChallengeServer(components, init)
}

const pathPattern = /^\/v1\/devices\/([^/]+)\/challenge$/

class DefaultChallengeServer implements ChallengeServer {
  readonly #session: SessionAuthority
  readonly #init: ChallengeServerInit
  #server: Server | undefined
  #url = ''

  constructor(components: { session: SessionAuthority }, init: ChallengeServerInit) {
    this.#session = components.session
    this.#init = init
  }

  get url(): string {
    return this.#url
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const match = req.method === 'GET' ? pathPattern.exec(req.url ?? '') : null
      const deviceId = match?.[1]
      if (deviceId === undefined || !deviceIdPattern.test(deviceId)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"INGEST_NOT_FOUND"}')
        return
      }
      const nonce = this.#session.challenge(deviceId)
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ nonce: toHex(nonce) }))
    })
    server.headersTimeout = 5_000
    server.requestTimeout = 5_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#init.port ?? 0, this.#init.host ?? '127.0.0.1', () => resolve())
    })
    const { address, port } = server.address() as AddressInfo
    this.#url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
    this.#server = server
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server !== undefined) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
