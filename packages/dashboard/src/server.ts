/**
 * A small static file server for the built dashboard that forwards the API's
 * paths (REST, WebSocket, GraphQL) to a node, so that the app runs same-origin
 * exactly as it will when the node serves it at `/`. Used by the browser tests,
 * and handy for pointing a build at any node (`startDashboardServer({ apiUrl })`).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { Duplex } from 'node:stream'
import { dashboardAssetsDir } from './config.ts'
import { DashboardError, upstreamErrorCode } from './errors.ts'

export interface DashboardServerInit {
  /** Base URL of the node API to forward to, e.g. http://127.0.0.1:26601. */
  apiUrl: string
  /** Directory of the built files. @default dashboardAssetsDir() */
  dir?: string
  /** @default 0 (any free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

export interface DashboardServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string
  close(): Promise<void>
}

/** Path prefixes that belong to the API; everything else is a static file. */
export const apiPathPrefixes: readonly string[] = ['/v1', '/graphql', '/openapi.json', '/docs', '/metrics', '/health', '/ready']

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
}

export function isApiPath(path: string): boolean {
  return apiPathPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
}

async function serveFile(dir: string, path: string, res: ServerResponse): Promise<void> {
  const relative = normalize(decodeURIComponent(path === '/' ? '/index.html' : path)).replace(/^([/\\])+/, '')
  const file = join(dir, relative)
  if (!file.startsWith(dir + sep)) {
    res.writeHead(403).end()
    return
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file')
    const body = await readFile(file)
    // Vite names assets by content hash: they may be cached forever; index.html never.
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream', 'cache-control': cache })
    res.end(body)
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
  }
}

function forward(api: URL, req: IncomingMessage, res: ServerResponse): void {
  const upstream = httpRequest(
    { host: api.hostname, port: api.port, method: req.method, path: req.url, headers: { ...req.headers, host: api.host } },
    (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers)
      response.pipe(res)
    },
  )
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { code: upstreamErrorCode, message: 'the node API is unreachable' } }))
  })
  req.pipe(upstream)
}

function forwardUpgrade(api: URL, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const upstream = connect(Number(api.port), api.hostname, () => {
    const headers = Object.entries({ ...req.headers, host: api.host })
      .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : v === undefined ? [] : [`${k}: ${v}`]))
      .join('\r\n')
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`)
    if (head.length > 0) upstream.write(head)
    upstream.pipe(socket).pipe(upstream)
  })
  upstream.on('error', () => socket.destroy())
  socket.on('error', () => upstream.destroy())
  socket.on('close', () => upstream.destroy())
}

/** Serves `dir` at `/` and forwards the API paths to `apiUrl` (HTTP and WebSocket upgrades). */
export async function startDashboardServer(init: DashboardServerInit): Promise<DashboardServer> {
  const api = new URL(init.apiUrl)
  if (api.protocol !== 'http:') throw new DashboardError('DASHBOARD_BAD_API_URL', `only http: API URLs are forwarded, not ${api.protocol}`)
  const dir = normalize(init.dir ?? dashboardAssetsDir())
  try {
    await stat(join(dir, 'index.html'))
  } catch {
    throw new DashboardError('DASHBOARD_NOT_BUILT', `no index.html in ${dir}: run buildDashboard() first`)
  }
  const sockets = new Set<Duplex>()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string
    if (isApiPath(path)) return forward(api, req, res)
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end()
    void serveFile(dir, path, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    if (isApiPath((req.url ?? '/').split('?')[0] as string)) forwardUpgrade(api, req, socket, head)
    else socket.destroy()
  })
  const host = init.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port ?? 0, host, resolve)
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new DashboardError('DASHBOARD_LISTEN', 'server has no TCP address')
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
