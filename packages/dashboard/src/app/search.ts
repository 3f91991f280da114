/**
 * What a search box query can be. Heights are digits, hashes 64 hex characters
 * (a transaction or a block: both are tried), addresses bech32m `trn1…`, and any
 * other string matching the device id pattern is tried as a device id.
 */
export type SearchTarget =
  | { kind: 'height'; height: number }
  | { kind: 'hash'; hash: string }
  | { kind: 'address'; address: string }
  | { kind: 'device'; id: string }
  | { kind: 'invalid'; reason: 'empty' | 'unrecognised' }

// Patterns from @terrane/api schemas (Address, Hex32, DeviceId).
const addressPattern = /^trn1[02-9ac-hj-np-z]{38}$/
const hashPattern = /^[0-9a-f]{64}$/
const deviceIdPattern = /^[A-Za-z0-9._:-]{1,128}$/

export function classifySearch(input: string): SearchTarget {
  const query = input.trim()
  if (query === '') return { kind: 'invalid', reason: 'empty' }
  if (/^#?[0-9]{1,15}$/.test(query)) {
    const height = Number(query.replace('#', ''))
    if (Number.isSafeInteger(height)) return { kind: 'height', height }
  }
  const lower = query.toLowerCase().replace(/^0x/, '')
  if (hashPattern.test(lower)) return { kind: 'hash', hash: lower }
  if (addressPattern.test(query.toLowerCase())) return { kind: 'address', address: query.toLowerCase() }
  if (deviceIdPattern.test(query)) return { kind: 'device', id: query }
  return { kind: 'invalid', reason: 'unrecognised' }
}
