import { verifyInDomain } from '@terrane/crypto'
import { hashKey, voteSignBytes, type Commit, type Evidence, type Validator, type Vote } from './types.ts'
import { bytesEqual, compareBytes, isTwoThirds } from './validator-set.ts'

/**
 * Checks one signature. The default verifies in place; the node passes one that
 * consults its verifier pool's results (messages verified in batches before they
 * reach the reducer), the simulator one that caches results across nodes.
 */
export type VerifySignature = (
  chainId: string,
  kind: 'vote' | 'proposal',
  publicKey: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
) => boolean

export const defaultVerifySignature: VerifySignature = (chainId, kind, publicKey, payload, signature) =>
  verifyInDomain(publicKey, { chainId, kind }, payload, signature)

/** Rebuilds the precommit a commit signature stands for. */
export function commitVote(commit: Commit, index: number): Vote {
  const sig = commit.signatures[index]
  if (sig === undefined) throw new RangeError(`no signature ${index}`)
  return {
    type: 'precommit',
    height: commit.height,
    round: commit.round,
    blockHash: commit.blockHash,
    timeMs: sig.timeMs,
    validator: sig.validator,
    signature: sig.signature,
  }
}

export type CommitInvalidReason =
  'wrong-height' | 'wrong-block' | 'unsorted-signatures' | 'unknown-validator' | 'bad-signature' | 'insufficient-power'

export interface CommitTally {
  /** Power of validators of `validators` whose signatures verified. */
  signedPower: number
  totalPower: number
}

export interface VerifyCommitInit {
  chainId: string
  height: number
  blockHash: Uint8Array
  verify?: VerifySignature
  /** Skip signatures of validators not in the set instead of refusing (light-client trust check). */
  isUnknownAllowed?: boolean
  /** Required share: 'two-thirds' (default) or a fraction numerator/denominator strictly exceeded. */
  threshold?: { numerator: number; denominator: number }
}

/**
 * Verifies a commit certificate against a validator set: signatures strictly sorted by
 * address (so none counts twice), every signer known and every signature valid, and more
 * than the threshold (default 2/3) of the set's power signed.
 */
export function verifyCommit(validators: readonly Validator[], commit: Commit, init: VerifyCommitInit): CommitTally | CommitInvalidReason {
  if (commit.height !== init.height) return 'wrong-height'
  if (!bytesEqual(commit.blockHash, init.blockHash)) return 'wrong-block'
  const verify = init.verify ?? defaultVerifySignature
  const byAddress = new Map<string, Validator>()
  let totalPower = 0
  for (const v of validators) {
    byAddress.set(hashKey(v.address), v)
    totalPower += v.power
  }
  let signedPower = 0
  for (let i = 0; i < commit.signatures.length; i++) {
    const sig = commit.signatures[i]
    if (sig === undefined) continue
    const previous = commit.signatures[i - 1]
    if (previous !== undefined && compareBytes(previous.validator, sig.validator) >= 0) return 'unsorted-signatures'
    const validator = byAddress.get(hashKey(sig.validator))
    if (validator === undefined) {
      if (init.isUnknownAllowed === true) continue
      return 'unknown-validator'
    }
    const vote = commitVote(commit, i)
    if (!verify(init.chainId, 'vote', validator.publicKey, voteSignBytes(vote), vote.signature)) return 'bad-signature'
    signedPower += validator.power
  }
  const threshold = init.threshold
  const isEnough =
    threshold === undefined ? isTwoThirds(signedPower, totalPower) : signedPower * threshold.denominator > totalPower * threshold.numerator
  if (!isEnough) return 'insufficient-power'
  return { signedPower, totalPower }
}

export type EvidenceInvalidReason =
  | 'not-conflicting'
  | 'not-canonical-order'
  | 'unknown-height'
  | 'unknown-validator'
  | 'bad-signature'
  | 'wrong-validator-power'
  | 'wrong-total-power'
  | 'wrong-time'
  | 'expired'
  | 'too-recent'
  | 'already-committed'
  | 'duplicate-in-block'

/** What a node knows about a past height, to check evidence against it. */
export interface HeightRecord {
  height: number
  timeMs: number
  validators: Validator[]
  totalPower: number
}

/** Orders two conflicting votes canonically: nil first, then by block hash bytes. */
export function isCanonicalVoteOrder(a: Vote, b: Vote): boolean {
  if (a.blockHash === null) return b.blockHash !== null
  if (b.blockHash === null) return false
  return compareBytes(a.blockHash, b.blockHash) < 0
}

/** Checks the two votes of duplicate-vote evidence: same validator, height, round and type; different blocks; both signed. */
export function checkVotePair(
  chainId: string,
  a: Vote,
  b: Vote,
  validator: Validator | undefined,
  verify: VerifySignature,
): EvidenceInvalidReason | null {
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type || !bytesEqual(a.validator, b.validator)) return 'not-conflicting'
  if (bytesEqual(a.blockHash, b.blockHash)) return 'not-conflicting'
  if (!isCanonicalVoteOrder(a, b)) return 'not-canonical-order'
  if (validator === undefined) return 'unknown-validator'
  if (!verify(chainId, 'vote', validator.publicKey, voteSignBytes(a), a.signature)) return 'bad-signature'
  if (!verify(chainId, 'vote', validator.publicKey, voteSignBytes(b), b.signature)) return 'bad-signature'
  return null
}

export interface EvidenceContext {
  chainId: string
  /** Height and time of the block that would include the evidence. */
  blockHeight: number
  blockTimeMs: number
  maxAgeBlocks: number
  maxAgeMs: number
  record(height: number): HeightRecord | undefined
  isCommitted(key: string): boolean
  verify: VerifySignature
}

/** A stable identity of an evidence item (offender, height, round, type). */
export function evidenceKey(e: { voteA: Vote }): string {
  return `${hashKey(e.voteA.validator)}/${e.voteA.height}/${e.voteA.round}/${e.voteA.type}`
}

/**
 * Validates duplicate-vote evidence as every validator does before accepting a block:
 * the vote pair, the offender's and the total power and the block time at that height,
 * and the age (both in blocks and in time, each within its maximum).
 */
export function verifyEvidence(ev: Evidence, ctx: EvidenceContext): EvidenceInvalidReason | null {
  const height = ev.voteA.height
  if (height >= ctx.blockHeight) return 'too-recent'
  const record = ctx.record(height)
  if (record === undefined) return ctx.blockHeight - height > ctx.maxAgeBlocks ? 'expired' : 'unknown-height'
  if (ctx.blockHeight - height > ctx.maxAgeBlocks || ctx.blockTimeMs - record.timeMs > ctx.maxAgeMs) return 'expired'
  const validator = record.validators.find((v) => bytesEqual(v.address, ev.voteA.validator))
  const pair = checkVotePair(ctx.chainId, ev.voteA, ev.voteB, validator, ctx.verify)
  if (pair !== null) return pair
  if (validator === undefined) return 'unknown-validator'
  if (ev.validatorPower !== validator.power) return 'wrong-validator-power'
  if (ev.totalPower !== record.totalPower) return 'wrong-total-power'
  if (ev.timeMs !== record.timeMs) return 'wrong-time'
  if (ctx.isCommitted(evidenceKey(ev))) return 'already-committed'
  return null
}
