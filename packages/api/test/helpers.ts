import {
  MemoryBackend,
  createApiServer,
  hashApiKey,
  populateMemoryBackend,
  type ApiServer,
  type ApiServerInit,
  type Population,
} from '../src/index.ts'

export const adminKey = 'test-admin-key-0123456789'
export const operatorKey = 'test-operator-key-0123456789'
export const readerKey = 'test-reader-key-0123456789'

export const testKeys = [
  { name: 'admin', keyHash: hashApiKey(adminKey), role: 'admin' as const },
  { name: 'operator', keyHash: hashApiKey(operatorKey), role: 'operator' as const },
  { name: 'reader', keyHash: hashApiKey(readerKey), role: 'reader' as const },
]

export interface TestServer {
  server: ApiServer
  backend: MemoryBackend
  population: Population
}

/** A server over a populated MemoryBackend, rate limits off unless given. */
export async function testServer(init: ApiServerInit = {}, devices = 100): Promise<TestServer> {
  const backend = new MemoryBackend({
    peers: [
      { id: '12D3KooWPeerOne1111', address: '/ip4/10.0.0.2/tcp/26656/p2p/12D3KooWPeerOne1111', direction: 'outbound', latencyMs: 3.5 },
    ],
  })
  const population = populateMemoryBackend(backend, { seed: 3, devices })
  const server = await createApiServer({ backend }, { rateLimit: false, apiKeys: testKeys, hasDocs: true, ...init })
  return { server, backend, population }
}
