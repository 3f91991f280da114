import { heightKey, keyOf, type Key } from './state.ts'

/**
 * The key layout: one prefix byte per record kind, then fixed-length ids
 * (20-byte addresses, 8-byte big-endian heights), so prefixes never collide and
 * keys sort by their ids. Module-owned state lives under 0x80 || name || 0x00.
 */
export const prefixes = {
  account: 0x01, // || address(20)                          -> Account
  supply: 0x02, //                                          -> Supply
  pools: 0x03, //                                           -> Pools
  escrow: 0x04, // || module name                           -> { balanceMicro }
  params: 0x05, //                                          -> ChainParams
  meta: 0x06, //                                            -> { chainId, height }
  validator: 0x10, // || operator(20)                       -> ValidatorRecord
  consensusIndex: 0x11, // || consensus address(20)         -> { operator }
  delegation: 0x12, // || delegator(20) || validator(20)    -> Delegation
  unbonding: 0x13, // || delegator(20) || validator(20)     -> Unbonding
  unbondingByValidator: 0x14, // || validator               -> delegators with unbonding entries from it
  redelegation: 0x15, // || delegator || source || destination -> Redelegation
  redelegationBySource: 0x16, // || source                  -> (delegator, destination) pairs redelegating from it
  redelegationInto: 0x1c, // || delegator || destination    -> sources with maturing redelegations into it
  unbondingQueue: 0x17, // || completion height(8)          -> pairs maturing then
  redelegationQueue: 0x18, // || completion height(8)       -> triples maturing then
  signingInfo: 0x19, // || consensus address(20)            -> SigningInfo
  activeSet: 0x1a, //                                       -> the set last sent to consensus
  validatorList: 0x1b, //                                   -> every registered operator, sorted
  module: 0x80, // || module name || 0x00 || module key
} as const

export const keys = {
  account: (a: Uint8Array): Key => keyOf(prefixes.account, a),
  supply: (): Key => keyOf(prefixes.supply),
  pools: (): Key => keyOf(prefixes.pools),
  escrow: (module: string): Key => keyOf(prefixes.escrow, module),
  params: (): Key => keyOf(prefixes.params),
  meta: (): Key => keyOf(prefixes.meta),
  validator: (operator: Uint8Array): Key => keyOf(prefixes.validator, operator),
  consensusIndex: (consensusAddress: Uint8Array): Key => keyOf(prefixes.consensusIndex, consensusAddress),
  delegation: (delegator: Uint8Array, validator: Uint8Array): Key => keyOf(prefixes.delegation, delegator, validator),
  delegationsOf: (delegator: Uint8Array): Key => keyOf(prefixes.delegation, delegator),
  unbonding: (delegator: Uint8Array, validator: Uint8Array): Key => keyOf(prefixes.unbonding, delegator, validator),
  unbondingsOf: (delegator: Uint8Array): Key => keyOf(prefixes.unbonding, delegator),
  unbondingByValidator: (validator: Uint8Array): Key => keyOf(prefixes.unbondingByValidator, validator),
  redelegation: (delegator: Uint8Array, source: Uint8Array, destination: Uint8Array): Key =>
    keyOf(prefixes.redelegation, delegator, source, destination),
  redelegationsOf: (delegator: Uint8Array): Key => keyOf(prefixes.redelegation, delegator),
  redelegationBySource: (source: Uint8Array): Key => keyOf(prefixes.redelegationBySource, source),
  redelegationInto: (delegator: Uint8Array, destination: Uint8Array): Key => keyOf(prefixes.redelegationInto, delegator, destination),
  unbondingQueue: (height: number): Key => keyOf(prefixes.unbondingQueue, heightKey(height)),
  redelegationQueue: (height: number): Key => keyOf(prefixes.redelegationQueue, heightKey(height)),
  signingInfo: (consensusAddress: Uint8Array): Key => keyOf(prefixes.signingInfo, consensusAddress),
  activeSet: (): Key => keyOf(prefixes.activeSet),
  validatorList: (): Key => keyOf(prefixes.validatorList),
  module: (name: string, key: Uint8Array | string): Key => keyOf(prefixes.module, name, 0, key),
}

/** The bytes of a key as a Uint8Array (for ids parsed back out of scanned keys). */
export function idAt(key: Key, start: number, length = 20): Uint8Array {
  const b = Buffer.from(key.slice(start, start + length), 'latin1')
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
