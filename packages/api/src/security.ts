import { createHash, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.ts'

/** Roles, weakest first: each may do what the ones before it may. */
export const roles = ['reader', 'operator', 'admin'] as const
export type Role = (typeof roles)[number]
/** Who may call a route: anyone, or a key with at least this role. */
export type Access = 'public' | Role

/** One configured API key. Only its SHA-256 is kept, never the key itself. */
export interface ApiKeyEntry {
  /** Names the client in logs and rate limits. */
  name: string
  /** Hex SHA-256 of the key's UTF-8 bytes (`hashApiKey`). */
  keyHash: string
  role: Role
}

export interface Principal {
  name: string
  role: Role
}

/** Hex SHA-256 of an API key, as stored in the configuration. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** Longest API key header considered (anything longer is refused without hashing). */
export const apiKeyCharsMax = 256

/**
 * Resolves API keys to principals. Keys come in the `x-api-key` header or as
 * `authorization: Bearer <key>`; lookup compares hashes in constant time.
 */
export class ApiKeyAuthority {
  private readonly entries: { hash: Buffer; principal: Principal }[]

  constructor(keys: readonly ApiKeyEntry[]) {
    this.entries = keys.map((k) => {
      if (!/^[0-9a-f]{64}$/.test(k.keyHash)) throw new RangeError(`API key ${k.name}: keyHash must be 64 lower-case hex characters`)
      if (!roles.includes(k.role)) throw new RangeError(`API key ${k.name}: unknown role ${String(k.role)}`)
      return { hash: Buffer.from(k.keyHash, 'hex'), principal: { name: k.name, role: k.role } }
    })
  }

  /** The principal of a request's headers; null without a key; throws API_UNAUTHORIZED for an unknown key. */
  principalOf(headers: Record<string, string | string[] | undefined>): Principal | null {
    const key = keyOf(headers)
    if (key === null) return null
    if (key.length === 0 || key.length > apiKeyCharsMax) throw new ApiError('API_UNAUTHORIZED', 'unknown API key')
    const hash = createHash('sha256').update(key, 'utf8').digest()
    let found: Principal | null = null
    for (const e of this.entries) if (timingSafeEqual(e.hash, hash)) found = e.principal
    if (found === null) throw new ApiError('API_UNAUTHORIZED', 'unknown API key')
    return found
  }
}

function keyOf(headers: Record<string, string | string[] | undefined>): string | null {
  const x = headers['x-api-key']
  if (typeof x === 'string') return x
  if (Array.isArray(x)) throw new ApiError('API_UNAUTHORIZED', 'more than one x-api-key header')
  const auth = headers['authorization']
  if (typeof auth !== 'string') return null
  const match = /^Bearer (.+)$/.exec(auth)
  if (match === null) throw new ApiError('API_UNAUTHORIZED', 'authorization must be "Bearer <api key>"')
  return match[1] as string
}

/** Throws unless the principal may use a route with this access level. */
export function authorize(access: Access, principal: Principal | null, isPublicReadable: boolean): void {
  if (access === 'public' || (access === 'reader' && isPublicReadable)) return
  if (principal === null) throw new ApiError('API_UNAUTHORIZED', `this route needs an API key with role ${access}`)
  if (roles.indexOf(principal.role) < roles.indexOf(access))
    throw new ApiError('API_FORBIDDEN', `role ${principal.role} may not use this route (needs ${access})`)
}
