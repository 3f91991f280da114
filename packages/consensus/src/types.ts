import { t, encode, hashOf, merkleRoot, sha256, type Schema } from '@terrane/codec'

/**
 * The wire and hashing types of consensus. Every byte field is a Uint8Array;
 * every integer a safe integer (heights, rounds, milliseconds, voting power).
 * Each type has a schema: the schema's canonical encoding is what is hashed,
 * signed and sent.
 */

/** Length of block, state and set hashes. */
export const hashBytes = 32
/** Length of a validator address: accountIdOfPublicKey(publicKey). */
export const addressBytes = 20
/** Ed25519 public key and signature lengths. */
export const publicKeyBytes = 32
export const signatureBytes = 64
/** Bound on the chain id (CometBFT: 50 bytes). */
export const chainIdBytesMax = 50
/** Bound on the validator set size. */
export const validatorsMax = 1_000
/** Bound on one transaction's bytes inside a block. */
export const txBytesMax = 1024 * 1024
/** Bound on transactions per block. */
export const blockTxsMax = 100_000
/** Bound on evidence items per block. */
export const blockEvidenceMax = 100
/** 32 zero bytes: the lastBlockHash of height 1 and the lastCommitHash of a block without a last commit. */
export const zeroHash: Uint8Array = new Uint8Array(hashBytes)

export interface Validator {
  /** 20 bytes = accountIdOfPublicKey(publicKey). */
  address: Uint8Array
  /** 32 bytes, the Ed25519 consensus key. */
  publicKey: Uint8Array
  /** Safe integer > 0. */
  power: number
}

export interface Header {
  chainId: string
  height: number
  timeMs: number
  /** 32; zeros at height 1. */
  lastBlockHash: Uint8Array
  /** 32; commitHash(lastCommit), zeros at height 1. */
  lastCommitHash: Uint8Array
  /** merkleRoot(txs). */
  txRoot: Uint8Array
  /** App state root after executing height - 1 (CometBFT's app hash). */
  stateRoot: Uint8Array
  validatorsHash: Uint8Array
  nextValidatorsHash: Uint8Array
  /** evidenceHash(evidence). */
  evidenceHash: Uint8Array
  /** 20, the proposer's address. */
  proposer: Uint8Array
}

export type VoteType = 'prevote' | 'precommit'

/** A signed prevote or precommit. `blockHash` null is a nil vote. */
export interface Vote {
  type: VoteType
  height: number
  round: number
  blockHash: Uint8Array | null
  timeMs: number
  /** 20, the voter's address. */
  validator: Uint8Array
  /** 64, Ed25519 over domainMessage({chainId, kind: 'vote'}, voteSignBytes(vote)). */
  signature: Uint8Array
}

/** One precommit in a commit certificate; the signed vote is rebuilt from the commit. */
export interface CommitSig {
  validator: Uint8Array
  timeMs: number
  signature: Uint8Array
}

/** +2/3 of the power precommitted blockHash at (height, round). Signatures sorted by validator address. */
export interface Commit {
  height: number
  round: number
  blockHash: Uint8Array
  signatures: CommitSig[]
}

/**
 * Two votes of one validator for the same height, round and type, for different
 * block hashes (one may be nil). Power and time are those of the validator set
 * and block at that height; every validator checks them before accepting.
 */
export interface DuplicateVoteEvidence {
  kind: 'duplicate-vote'
  voteA: Vote
  voteB: Vote
  /** Voting power of the offender at the evidence height. */
  validatorPower: number
  /** Total voting power at the evidence height. */
  totalPower: number
  /** Time of the block at the evidence height (ms). */
  timeMs: number
}

export type Evidence = DuplicateVoteEvidence

export interface Block {
  header: Header
  txs: Uint8Array[]
  evidence: Evidence[]
  /** The commit certificate of height - 1; null at height 1. */
  lastCommit: Commit | null
}

/** A signed proposal of a block at (height, round); polRound -1 when none. */
export interface Proposal {
  height: number
  round: number
  /** The round of the proof-of-lock the proposer re-proposes under, or -1. */
  polRound: number
  blockHash: Uint8Array
  timeMs: number
  proposer: Uint8Array
  /** 64, Ed25519 over domainMessage({chainId, kind: 'proposal'}, proposalSignBytes(proposal)). */
  signature: Uint8Array
}

// Schemas -------------------------------------------------------------------

const hash = t.bytes({ length: hashBytes })
const address = t.bytes({ length: addressBytes })
const signature = t.bytes({ length: signatureBytes })
const height = t.uint()
const round = t.uint()
const power = t.int({ min: 1 })

export const validatorSchema: Schema<Validator> = t.struct({
  address,
  publicKey: t.bytes({ length: publicKeyBytes }),
  power,
})

export const headerSchema: Schema<Header> = t.struct({
  chainId: t.string({ bytesMax: chainIdBytesMax }),
  height,
  timeMs: t.uint(),
  lastBlockHash: hash,
  lastCommitHash: hash,
  txRoot: hash,
  stateRoot: hash,
  validatorsHash: hash,
  nextValidatorsHash: hash,
  evidenceHash: hash,
  proposer: address,
})

const voteType = t.enumOf(['prevote', 'precommit'] as const)

export const voteSchema: Schema<Vote> = t.struct({
  type: voteType,
  height,
  round,
  blockHash: t.nullable(hash),
  timeMs: t.uint(),
  validator: address,
  signature,
})

/** What a vote's signature covers: the vote without its signature. */
export const voteSignBytesSchema = t.struct({
  type: voteType,
  height,
  round,
  blockHash: t.nullable(hash),
  timeMs: t.uint(),
  validator: address,
})

export const commitSigSchema: Schema<CommitSig> = t.struct({ validator: address, timeMs: t.uint(), signature })

export const commitSchema: Schema<Commit> = t.struct({
  height,
  round,
  blockHash: hash,
  signatures: t.array(commitSigSchema, { lengthMax: validatorsMax }),
})

export const evidenceSchema: Schema<Evidence> = t.variant('kind', {
  'duplicate-vote': t.struct({ voteA: voteSchema, voteB: voteSchema, validatorPower: power, totalPower: power, timeMs: t.uint() }),
})

export const blockSchema: Schema<Block> = t.struct({
  header: headerSchema,
  txs: t.array(t.bytes({ lengthMax: txBytesMax }), { lengthMax: blockTxsMax }),
  evidence: t.array(evidenceSchema, { lengthMax: blockEvidenceMax }),
  lastCommit: t.nullable(commitSchema),
})

export const proposalSignBytesSchema = t.struct({
  height,
  round,
  polRound: t.int({ min: -1 }),
  blockHash: hash,
  timeMs: t.uint(),
  proposer: address,
})

export const proposalSchema: Schema<Proposal> = t.struct({
  height,
  round,
  polRound: t.int({ min: -1 }),
  blockHash: hash,
  timeMs: t.uint(),
  proposer: address,
  signature,
})

// Hashes --------------------------------------------------------------------

/** The block hash: SHA-256 of the canonical header. */
export function blockHash(header: Header): Uint8Array {
  return hashOf(headerSchema, header)
}

/** Merkle root of the validators' canonical encodings, in the given (canonical) order. */
export function validatorSetHash(validators: readonly Validator[]): Uint8Array {
  return merkleRoot(validators.map((v) => encode(validatorSchema, v)))
}

/** Hash of a commit certificate; zeros for no commit (height 1). */
export function commitHash(commit: Commit | null): Uint8Array {
  return commit === null ? zeroHash : hashOf(commitSchema, commit)
}

/** Merkle root of the evidence's canonical encodings. */
export function evidenceHash(evidence: readonly Evidence[]): Uint8Array {
  return merkleRoot(evidence.map((e) => encode(evidenceSchema, e)))
}

/** Merkle root of the transactions (RFC 6962 over the raw tx bytes). */
export function txRoot(txs: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txs)
}

const signBytesCache = new WeakMap<object, Uint8Array>()

/**
 * Bytes a vote's signature covers (before domain separation). Memoised per vote object:
 * votes are treated as immutable once built, and one vote is checked by many code paths.
 */
export function voteSignBytes(vote: Omit<Vote, 'signature'>): Uint8Array {
  const hit = signBytesCache.get(vote)
  if (hit !== undefined) return hit
  const bytes = encode(voteSignBytesSchema, {
    type: vote.type,
    height: vote.height,
    round: vote.round,
    blockHash: vote.blockHash,
    timeMs: vote.timeMs,
    validator: vote.validator,
  })
  signBytesCache.set(vote, bytes)
  return bytes
}

/** Bytes a proposal's signature covers (before domain separation). */
export function proposalSignBytes(proposal: Omit<Proposal, 'signature'>): Uint8Array {
  return encode(proposalSignBytesSchema, {
    height: proposal.height,
    round: proposal.round,
    polRound: proposal.polRound,
    blockHash: proposal.blockHash,
    timeMs: proposal.timeMs,
    proposer: proposal.proposer,
  })
}

/** A short stable id of a hash for map keys and logs. */
export function hashKey(bytes: Uint8Array | null): string {
  if (bytes === null) return 'nil'
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Domain-separated id for anything not covered above (used by tests and the simulator). */
export function digest(...parts: Uint8Array[]): Uint8Array {
  return sha256(...parts)
}
