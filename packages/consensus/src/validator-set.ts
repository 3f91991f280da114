import { accountIdOfPublicKey, isValidPublicKey } from '@terrane/crypto'
import { ConsensusError } from './errors.ts'
import { hashKey, validatorSetHash, validatorsMax, type Validator } from './types.ts'
import type { ValidatorUpdate } from './app.ts'

/**
 * A validator set with CometBFT's proposer priorities (types/validator_set.go).
 * Plain data so that it can be cloned, persisted and compared; every function
 * here returns a new set and leaves its input untouched.
 */
export interface ValidatorSet {
  /** Sorted by power descending, then address ascending (CometBFT's ValidatorsByVotingPower). */
  validators: PrioritizedValidator[]
  totalPower: number
  /** Address of the proposer chosen by the last priority increment. */
  proposer: Uint8Array
}

export interface PrioritizedValidator extends Validator {
  priority: number
}

/** CometBFT: MaxTotalVotingPower = MaxInt64 / 8; here the safe-integer analogue, so that priority sums never lose precision. */
export const totalPowerMax = Math.floor(Number.MAX_SAFE_INTEGER / 8)
/** CometBFT: PriorityWindowSizeFactor = 2 (priorities stay within 2 * total power of each other). */
export const priorityWindowSizeFactor = 2

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b
  return a.length === b.length && compareBytes(a, b) === 0
}

function byPower(a: Validator, b: Validator): number {
  return b.power - a.power || compareBytes(a.address, b.address)
}

/** The higher priority wins; ties go to the lower address (CometBFT CompareProposerPriority). */
function mostPriority(vals: readonly PrioritizedValidator[]): PrioritizedValidator {
  let best = vals[0] as PrioritizedValidator
  for (const v of vals) {
    if (v.priority > best.priority || (v.priority === best.priority && compareBytes(v.address, best.address) < 0)) best = v
  }
  return best
}

/** Go's truncating integer division. */
function quo(a: number, b: number): number {
  return Math.trunc(a / b)
}

function rescale(vals: PrioritizedValidator[], diffMax: number): void {
  if (diffMax <= 0 || vals.length === 0) return
  let max = -Infinity
  let min = Infinity
  for (const v of vals) {
    if (v.priority > max) max = v.priority
    if (v.priority < min) min = v.priority
  }
  const diff = max - min
  if (diff > diffMax) {
    const ratio = quo(diff + diffMax - 1, diffMax)
    for (const v of vals) v.priority = quo(v.priority, ratio)
  }
}

function shiftByAverage(vals: PrioritizedValidator[]): void {
  if (vals.length === 0) return
  let sum = 0n
  for (const v of vals) sum += BigInt(v.priority)
  const n = BigInt(vals.length)
  // big.Int.Div is Euclidean: for a positive divisor it rounds towards minus infinity.
  let avg = sum / n
  if (sum % n !== 0n && sum < 0n) avg -= 1n
  const shift = Number(avg)
  for (const v of vals) v.priority -= shift
}

function incrementOnce(vals: PrioritizedValidator[], totalPower: number): PrioritizedValidator {
  for (const v of vals) v.priority += v.power
  const most = mostPriority(vals)
  most.priority -= totalPower
  return most
}

function cloneValidators(set: ValidatorSet): PrioritizedValidator[] {
  return set.validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power, priority: v.priority }))
}

/** IncrementProposerPriority(times): rescale, centre, then `times` rounds of the weighted round robin. */
export function incrementProposerPriority(set: ValidatorSet, times: number): ValidatorSet {
  if (!Number.isSafeInteger(times) || times < 1) throw new ConsensusError('CONSENSUS_INVALID_ARGUMENT', `times must be >= 1, got ${times}`)
  const vals = cloneValidators(set)
  rescale(vals, priorityWindowSizeFactor * set.totalPower)
  shiftByAverage(vals)
  let proposer = vals[0] as PrioritizedValidator
  for (let i = 0; i < times; i++) proposer = incrementOnce(vals, set.totalPower)
  return { validators: vals, totalPower: set.totalPower, proposer: proposer.address }
}

function checkValidator(v: Validator): void {
  if (!Number.isSafeInteger(v.power) || v.power <= 0)
    throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', `power must be a positive safe integer`)
  if (!isValidPublicKey(v.publicKey)) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'invalid consensus public key')
  if (!bytesEqual(v.address, accountIdOfPublicKey(v.publicKey)))
    throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'address is not accountIdOfPublicKey(publicKey)')
}

/**
 * Applies changes by public key (power 0 removes) as CometBFT's updateWithChangeSet:
 * new validators start at priority -1.125 * total power so that joining and leaving
 * cannot be used to jump the queue; then rescale and centre.
 */
export function applyValidatorUpdates(set: ValidatorSet | null, updates: readonly ValidatorUpdate[]): ValidatorSet {
  const byKey = new Map<string, PrioritizedValidator>()
  for (const v of set === null ? [] : cloneValidators(set)) byKey.set(hashKey(v.publicKey), v)
  const seen = new Set<string>()
  const added: PrioritizedValidator[] = []
  for (const u of updates) {
    const key = hashKey(u.publicKey)
    if (seen.has(key)) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'duplicate public key in validator updates')
    seen.add(key)
    if (!Number.isSafeInteger(u.power) || u.power < 0)
      throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'update power must be >= 0')
    const existing = byKey.get(key)
    if (u.power === 0) {
      if (existing === undefined) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'removal of an unknown validator')
      byKey.delete(key)
      continue
    }
    const v: PrioritizedValidator = { address: accountIdOfPublicKey(u.publicKey), publicKey: u.publicKey, power: u.power, priority: 0 }
    checkValidator(v)
    if (existing !== undefined) existing.power = u.power
    else {
      byKey.set(key, v)
      added.push(v)
    }
  }
  return finishSet([...byKey.values()], added, set?.proposer ?? null)
}

/**
 * Sorts, checks bounds, gives `added` their start priority, rescales and centres.
 * Exported for the CometBFT proposer vectors, whose addresses are not key hashes.
 */
export function finishSet(vals: PrioritizedValidator[], added: readonly PrioritizedValidator[], proposer: Uint8Array | null): ValidatorSet {
  vals.sort(byPower)
  if (vals.length === 0) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'validator set would be empty')
  if (vals.length > validatorsMax) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', `more than ${validatorsMax} validators`)
  let totalPower = 0
  for (const v of vals) totalPower += v.power
  if (totalPower > totalPowerMax) throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', `total power exceeds ${totalPowerMax}`)
  // CometBFT computes the start priority from the total after updates but before removals;
  // the two differ only when one block both adds and removes validators.
  const start = -(totalPower + Math.floor(totalPower / 8))
  for (const v of added) v.priority = start
  rescale(vals, priorityWindowSizeFactor * totalPower)
  shiftByAverage(vals)
  const kept = proposer !== null && vals.some((v) => bytesEqual(v.address, proposer))
  return { validators: vals, totalPower, proposer: kept ? proposer : mostPriority(vals).address }
}

/** NewValidatorSet: the genesis set, with one priority increment applied (its proposer proposes height 1). */
export function createValidatorSet(validators: readonly Validator[]): ValidatorSet {
  const set = applyValidatorUpdates(
    null,
    validators.map((v) => ({ publicKey: v.publicKey, power: v.power })),
  )
  for (const v of validators) {
    if (!bytesEqual(v.address, accountIdOfPublicKey(v.publicKey)))
      throw new ConsensusError('CONSENSUS_INVALID_VALIDATOR_SET', 'address is not accountIdOfPublicKey(publicKey)')
  }
  return incrementProposerPriority(set, 1)
}

/** The proposer of round `round` of the height this set belongs to. */
export function proposerOf(set: ValidatorSet, round: number): Uint8Array {
  return round === 0 ? set.proposer : incrementProposerPriority(set, round).proposer
}

export function findByAddress(set: ValidatorSet, address: Uint8Array): PrioritizedValidator | undefined {
  for (const v of set.validators) if (bytesEqual(v.address, address)) return v
  return undefined
}

export function hashOfValidatorSet(set: ValidatorSet): Uint8Array {
  return validatorSetHash(set.validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power })))
}

/** More than two thirds of the total power: 3 * power > 2 * total (integer arithmetic only). */
export function isTwoThirds(power: number, totalPower: number): boolean {
  return 3 * power > 2 * totalPower
}

/** More than one third: at least one honest validator is among them (f + 1). */
export function isOneThird(power: number, totalPower: number): boolean {
  return 3 * power > totalPower
}
