/**
 * Hash routing (`#/blocks/12`), so the app can be served as static files at `/`
 * with no server-side rewrites. Pure parsing here; the React hook is in hooks.ts.
 */
export type Route =
  | { page: 'network' }
  | { page: 'map'; cell: string | null }
  | { page: 'blocks' }
  | { page: 'block'; height: number }
  | { page: 'tx'; hash: string }
  | { page: 'account'; address: string }
  | { page: 'device'; id: string }
  | { page: 'search'; query: string }
  | { page: 'notFound'; path: string }

export function parseRoute(hash: string): Route {
  const [pathPart = '', queryPart = ''] = hash.replace(/^#/, '').split('?')
  const parts = pathPart
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p))
  const query = new URLSearchParams(queryPart)
  const [head, arg] = parts
  if (parts.length === 0) return { page: 'network' }
  if (head === 'map' && parts.length === 1) return { page: 'map', cell: query.get('cell') }
  if (head === 'blocks' && parts.length === 1) return { page: 'blocks' }
  if (head === 'blocks' && arg !== undefined && /^[0-9]+$/.test(arg)) return { page: 'block', height: Number(arg) }
  if (head === 'txs' && arg !== undefined) return { page: 'tx', hash: arg }
  if ((head === 'accounts' || head === 'validators') && arg !== undefined) return { page: 'account', address: arg }
  if (head === 'devices' && arg !== undefined) return { page: 'device', id: arg }
  if (head === 'search' && arg !== undefined) return { page: 'search', query: arg }
  return { page: 'notFound', path: pathPart }
}

export const href = {
  network: (): string => '#/',
  map: (cell?: string): string => (cell === undefined ? '#/map' : `#/map?cell=${cell}`),
  blocks: (): string => '#/blocks',
  block: (height: number): string => `#/blocks/${height}`,
  tx: (hash: string): string => `#/txs/${hash}`,
  account: (address: string): string => `#/accounts/${address}`,
  device: (id: string): string => `#/devices/${encodeURIComponent(id)}`,
  search: (query: string): string => `#/search/${encodeURIComponent(query)}`,
}
