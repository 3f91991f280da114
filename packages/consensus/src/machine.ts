import { consensusConfig, timeoutMs, type ConsensusConfig, type ConsensusInit, type TimeoutStep } from './config.ts'
import type { FinalizeBlockRequest, Misbehavior, ProcessProposalRequest, ValidatorUpdate } from './app.ts'
import {
  blockEvidenceMax,
  blockHash,
  commitHash,
  evidenceHash,
  hashKey,
  proposalSignBytes,
  txRoot,
  voteSignBytes,
  zeroHash,
  type Block,
  type Commit,
  type CommitSig,
  type Evidence,
  type Proposal,
  type Validator,
  type Vote,
  type VoteType,
} from './types.ts'
import {
  applyValidatorUpdates,
  bytesEqual,
  compareBytes,
  createValidatorSet,
  findByAddress,
  hashOfValidatorSet,
  incrementProposerPriority,
  isOneThird,
  isTwoThirds,
  proposerOf,
  type ValidatorSet,
} from './validator-set.ts'
import {
  checkVotePair,
  defaultVerifySignature,
  evidenceKey,
  isCanonicalVoteOrder,
  verifyCommit,
  verifyEvidence,
  type HeightRecord,
  type VerifySignature,
} from './verify.ts'

/**
 * The Tendermint algorithm (Buchman, Kwon, Milosevic: "The latest gossip on BFT
 * consensus", arXiv:1807.04938, Algorithm 1) as a reducer: step(state, event) returns
 * the next state and the actions the driver performs (sign and broadcast, schedule a
 * timeout, execute a decided block). Line numbers in comments refer to Algorithm 1.
 *
 * The reducer is deterministic: no clock, timers, randomness or I/O. Local time enters
 * with each event (`nowMs`) and only sets the time of this node's own votes and blocks.
 * `step` takes ownership of the state it is given and may update it in place; keep a
 * structuredClone if an older state is needed (the simulator's snapshots do).
 */

export type RoundStep = 'new-height' | 'propose' | 'prevote' | 'precommit' | 'commit'

interface VoteSet {
  /** By validator address (hex). */
  votes: Map<string, Vote>
  /** Power by block hash (hex, or 'nil'). */
  powerByBlock: Map<string, number>
  /**
   * Votes by block hash, equivocators included under each block they voted for: the paper
   * counts 2f + 1 messages for id(v), and a node that saw an equivocator's other vote first
   * must still see the proof-of-lock the others saw (CometBFT: votesByBlock with peer maj23).
   */
  votesByBlock: Map<string, Map<string, Vote>>
  /** Power of all votes in the set. */
  power: number
}

/** A duplicate-vote pair waiting for its height's record (time, powers) to become evidence. */
export interface VotePair {
  voteA: Vote
  voteB: Vote
}

export interface ConsensusState {
  height: number
  round: number
  step: RoundStep
  /** Lines 6-9. */
  lockedRound: number
  lockedBlock: Block | null
  validRound: number
  validBlock: Block | null
  /** Validator sets of height - 1 (null at the first height), height and height + 1. */
  lastValidators: ValidatorSet | null
  validators: ValidatorSet
  nextValidators: ValidatorSet
  lastBlockHash: Uint8Array
  lastBlockTimeMs: number
  /** The commit certificate of height - 1 (grows with late precommits until the next proposal). */
  lastCommit: Commit | null
  /** App state root after height - 1. */
  stateRoot: Uint8Array
  /** Proposals of this height by round (the first valid one from the round's proposer). */
  proposals: Map<number, Proposal>
  /** Blocks of this height by hash. */
  blocks: Map<string, Block>
  /** Verdicts of valid(v) by block hash. */
  validity: Map<string, boolean>
  /** `${round}/${type}` -> votes. */
  votes: Map<string, VoteSet>
  /** The previous height's votes: late precommits join the last commit, conflicting votes become evidence. */
  lastVotes: Map<string, VoteSet>
  /** Rules that fire once per round ("for the first time"): `${line}/${round}`. */
  fired: Set<string>
  /** Round whose block this node requested from the app. */
  requestedRound: number
  decided: { block: Block; commit: Commit } | null
  /** Equivocations seen (not yet committed). Key: evidenceKey. */
  evidencePool: Map<string, VotePair>
  /** Evidence already committed, by key, with the height it was committed at. */
  committedEvidence: Map<string, number>
  /** Records of past heights for evidence validation, oldest first. */
  history: HeightRecord[]
}

export type ConsensusEvent =
  /** Begin (or, after a restart and WAL replay, resume) the current height. */
  | { type: 'start'; nowMs: number }
  | { type: 'proposal'; proposal: Proposal; block: Block; nowMs: number; isVerified?: boolean }
  | { type: 'vote'; vote: Vote; nowMs: number; isVerified?: boolean }
  /** A decided block and its certificate from a peer ahead of us (catch-up). */
  | { type: 'commit'; block: Block; commit: Commit; nowMs: number }
  | { type: 'timeout'; height: number; round: number; step: TimeoutStep; nowMs: number }
  /** The app's answer to a 'request-txs' action. */
  | { type: 'proposal-txs'; height: number; round: number; txs: Uint8Array[]; nowMs: number }
  /** The driver executed and committed the decided block. */
  | { type: 'applied'; height: number; stateRoot: Uint8Array; validatorUpdates: ValidatorUpdate[]; nowMs: number }
  /** The mempool has transactions (when not creating empty blocks). */
  | { type: 'txs-available'; nowMs: number }
  /** Duplicate votes reported by a peer. */
  | { type: 'evidence'; voteA: Vote; voteB: Vote; nowMs: number }

export type ConsensusAction =
  | { type: 'request-txs'; height: number; round: number; timeMs: number; bytesMax: number }
  /** Sign with the PrivValidator, broadcast, and feed back as a 'proposal' event. */
  | { type: 'sign-proposal'; proposal: Omit<Proposal, 'signature'>; block: Block }
  /** Sign with the PrivValidator, broadcast, and feed back as a 'vote' event. */
  | { type: 'sign-vote'; vote: Omit<Vote, 'signature'> }
  | { type: 'schedule-timeout'; height: number; round: number; step: TimeoutStep; durationMs: number }
  /** Execute (finalizeBlock + commit), store the block with its commit, then feed 'applied'. */
  | { type: 'decide'; block: Block; commit: Commit; request: FinalizeBlockRequest }
  /** Gossip an equivocation to peers. */
  | { type: 'broadcast-evidence'; voteA: Vote; voteB: Vote }

/** Why an input was ignored; for metrics and tests (expected outcomes, not errors). */
export type RejectReason =
  | 'wrong-height'
  | 'unknown-validator'
  | 'bad-signature'
  | 'wrong-proposer'
  | 'block-hash-mismatch'
  | 'bad-pol-round'
  | 'duplicate'
  | 'conflicting-proposal'
  | 'equivocation'
  | 'round-too-far'
  | 'invalid-commit'
  | 'invalid-evidence'
  | 'stale'

export interface StepResult {
  state: ConsensusState
  actions: ConsensusAction[]
  /** Set when the event was ignored. */
  rejected?: RejectReason
}

export interface ConsensusHooks {
  verify?: VerifySignature
  /** The app's ProcessProposal (deterministic given the committed state). @default accept */
  processProposal?: (req: ProcessProposalRequest) => boolean
}

export interface Genesis {
  validators: Validator[]
  stateRoot: Uint8Array
  /** Block 1's time must be at least this. */
  timeMs: number
  /** @default 1 */
  initialHeight?: number
}

export type BlockInvalidReason =
  | 'wrong-chain'
  | 'wrong-height'
  | 'time-not-increasing'
  | 'wrong-last-block'
  | 'wrong-last-commit-hash'
  | 'invalid-last-commit'
  | 'wrong-tx-root'
  | 'wrong-evidence-hash'
  | 'invalid-evidence'
  | 'wrong-state-root'
  | 'wrong-validators-hash'
  | 'wrong-next-validators-hash'
  | 'unknown-proposer'
  | 'too-large'
  | 'rejected-by-app'

/** The engine: validated configuration, hooks, and the pure transition function. */
export interface Consensus {
  readonly config: ConsensusConfig
  genesisState(genesis: Genesis): ConsensusState
  step(state: ConsensusState, event: ConsensusEvent): StepResult
  /** valid(v) of the paper, with the reason when not. */
  checkBlock(state: ConsensusState, block: Block): BlockInvalidReason | null
}

export function createConsensus(init: ConsensusInit, hooks: ConsensusHooks = {}): Consensus {
  const config = consensusConfig(init)
  const ctx: Ctx = {
    config,
    verify: hooks.verify ?? defaultVerifySignature,
    processProposal: hooks.processProposal ?? (() => true),
  }
  return {
    config,
    genesisState: (genesis) => genesisState(genesis),
    step: (state, event) => step(ctx, state, event),
    checkBlock: (state, block) => checkBlock(ctx, state, block),
  }
}

interface Ctx {
  config: ConsensusConfig
  verify: VerifySignature
  processProposal: (req: ProcessProposalRequest) => boolean
}

function genesisState(genesis: Genesis): ConsensusState {
  const validators = createValidatorSet(genesis.validators)
  return {
    height: genesis.initialHeight ?? 1,
    round: 0,
    step: 'new-height',
    lockedRound: -1,
    lockedBlock: null,
    validRound: -1,
    validBlock: null,
    lastValidators: null,
    validators,
    nextValidators: incrementProposerPriority(validators, 1),
    lastBlockHash: zeroHash,
    lastBlockTimeMs: genesis.timeMs - 1,
    lastCommit: null,
    stateRoot: genesis.stateRoot,
    proposals: new Map(),
    blocks: new Map(),
    validity: new Map(),
    votes: new Map(),
    lastVotes: new Map(),
    fired: new Set(),
    requestedRound: -1,
    decided: null,
    evidencePool: new Map(),
    committedEvidence: new Map(),
    history: [],
  }
}

// ---------------------------------------------------------------------------

function step(ctx: Ctx, s: ConsensusState, e: ConsensusEvent): StepResult {
  const out: ConsensusAction[] = []
  let rejected: RejectReason | undefined
  switch (e.type) {
    case 'start':
      onStart(ctx, s, e.nowMs, out)
      break
    case 'proposal':
      rejected = onProposal(ctx, s, e.proposal, e.block, e.isVerified === true, e.nowMs, out)
      break
    case 'vote':
      rejected = onVote(ctx, s, e.vote, e.isVerified === true, e.nowMs, out)
      break
    case 'commit':
      rejected = onCommit(ctx, s, e.block, e.commit, e.nowMs, out)
      break
    case 'timeout':
      onTimeout(ctx, s, e.height, e.round, e.step, e.nowMs, out)
      break
    case 'proposal-txs':
      onProposalTxs(ctx, s, e.height, e.round, e.txs, e.nowMs, out)
      break
    case 'applied':
      onApplied(ctx, s, e.height, e.stateRoot, e.validatorUpdates, e.nowMs, out)
      break
    case 'txs-available':
      if (s.step === 'new-height' && s.fired.has('commit-done')) startRound(ctx, s, 0, e.nowMs, out)
      break
    case 'evidence':
      rejected = onEvidence(ctx, s, e.voteA, e.voteB, out)
      break
  }
  return rejected === undefined ? { state: s, actions: out } : { state: s, actions: out, rejected }
}

function isProposer(ctx: Ctx, s: ConsensusState, round: number): boolean {
  return ctx.config.address !== null && bytesEqual(proposerOf(s.validators, round), ctx.config.address)
}

function isValidator(ctx: Ctx, s: ConsensusState): boolean {
  return ctx.config.address !== null && findByAddress(s.validators, ctx.config.address) !== undefined
}

function schedule(ctx: Ctx, s: ConsensusState, stepName: TimeoutStep, round: number, out: ConsensusAction[]): void {
  out.push({ type: 'schedule-timeout', height: s.height, round, step: stepName, durationMs: timeoutMs(ctx.config, stepName, round) })
}

function castVote(ctx: Ctx, s: ConsensusState, type: VoteType, block: Uint8Array | null, nowMs: number, out: ConsensusAction[]): void {
  if (!isValidator(ctx, s)) return
  out.push({
    type: 'sign-vote',
    vote: { type, height: s.height, round: s.round, blockHash: block, timeMs: nowMs, validator: ctx.config.address as Uint8Array },
  })
}

/** Entering a height: wait for the commit timeout, then for transactions if empty blocks are off. */
function enterHeight(ctx: Ctx, s: ConsensusState, nowMs: number, out: ConsensusAction[]): void {
  s.fired.add('commit-done')
  if (ctx.config.isCreatingEmptyBlocks || s.height === 1) {
    startRound(ctx, s, 0, nowMs, out)
    return
  }
  if (ctx.config.emptyBlocksIntervalMs > 0) schedule(ctx, s, 'wait-txs', 0, out)
}

function onStart(ctx: Ctx, s: ConsensusState, nowMs: number, out: ConsensusAction[]): void {
  if (s.step === 'new-height') {
    enterHeight(ctx, s, nowMs, out)
    return
  }
  // Resuming after a restart: timers did not survive, so schedule the current step's again.
  s.fired.delete(`34/${s.round}`)
  s.fired.delete(`47/${s.round}`)
  if (s.step === 'propose') {
    schedule(ctx, s, 'propose', s.round, out)
    if (isProposer(ctx, s, s.round) && !s.proposals.has(s.round)) {
      s.requestedRound = -1
      propose(ctx, s, nowMs, out)
    }
  }
  evaluate(ctx, s, nowMs, out)
}

/** Lines 11-21. */
function startRound(ctx: Ctx, s: ConsensusState, round: number, nowMs: number, out: ConsensusAction[]): void {
  s.round = round // line 12
  s.step = 'propose' // line 13
  if (isProposer(ctx, s, round)) propose(ctx, s, nowMs, out) // lines 14-19
  // Line 21 (for everyone: a proposer whose own proposal is lost must move on as well).
  schedule(ctx, s, 'propose', round, out)
  evaluate(ctx, s, nowMs, out)
}

function propose(ctx: Ctx, s: ConsensusState, nowMs: number, out: ConsensusAction[]): void {
  if (s.validBlock !== null) {
    // Lines 15-16: re-propose the valid value with its proof-of-lock round.
    const block = s.validBlock
    out.push({ type: 'sign-proposal', proposal: proposalFor(s, block, s.validRound, nowMs, s.round, ctx), block })
    return
  }
  // Line 18: getValue() is asynchronous here; the app answers with 'proposal-txs'.
  if (s.requestedRound === s.round) return
  s.requestedRound = s.round
  out.push({ type: 'request-txs', height: s.height, round: s.round, timeMs: blockTime(s, nowMs), bytesMax: ctx.config.blockTxBytesMax })
}

function proposalFor(
  s: ConsensusState,
  block: Block,
  polRound: number,
  nowMs: number,
  round: number,
  ctx: Ctx,
): Omit<Proposal, 'signature'> {
  return {
    height: s.height,
    round,
    polRound,
    blockHash: blockHash(block.header),
    timeMs: nowMs,
    proposer: ctx.config.address as Uint8Array,
  }
}

/** Block time: the proposer's clock, but strictly after the previous block. */
function blockTime(s: ConsensusState, nowMs: number): number {
  return Math.max(nowMs, s.lastBlockTimeMs + 1)
}

function onProposalTxs(
  ctx: Ctx,
  s: ConsensusState,
  height: number,
  round: number,
  txs: Uint8Array[],
  nowMs: number,
  out: ConsensusAction[],
): void {
  if (height !== s.height || round !== s.round || s.step !== 'propose' || !isProposer(ctx, s, round) || s.proposals.has(round)) return
  if (s.validBlock !== null) return
  const evidence = pendingEvidence(ctx, s, blockTime(s, nowMs))
  const block: Block = {
    header: {
      chainId: ctx.config.chainId,
      height: s.height,
      timeMs: blockTime(s, nowMs),
      lastBlockHash: s.lastBlockHash,
      lastCommitHash: commitHash(s.lastCommit),
      txRoot: txRoot(txs),
      stateRoot: s.stateRoot,
      validatorsHash: hashOfValidatorSet(s.validators),
      nextValidatorsHash: hashOfValidatorSet(s.nextValidators),
      evidenceHash: evidenceHash(evidence),
      proposer: ctx.config.address as Uint8Array,
    },
    txs,
    evidence,
    lastCommit: s.lastCommit,
  }
  out.push({ type: 'sign-proposal', proposal: proposalFor(s, block, -1, nowMs, round, ctx), block })
}

function recordOf(s: ConsensusState, height: number): HeightRecord | undefined {
  for (const r of s.history) if (r.height === height) return r
  return undefined
}

/** Turns pooled vote pairs whose height is decided into evidence for the next block. */
function pendingEvidence(ctx: Ctx, s: ConsensusState, blockTimeMs: number): Evidence[] {
  const out: Evidence[] = []
  const keys = [...s.evidencePool.keys()].sort()
  for (const key of keys) {
    if (out.length >= blockEvidenceMax) break
    const pair = s.evidencePool.get(key) as VotePair
    const record = recordOf(s, pair.voteA.height)
    if (record === undefined) continue
    const validator = record.validators.find((v) => bytesEqual(v.address, pair.voteA.validator))
    if (validator === undefined) continue
    const ev: Evidence = {
      kind: 'duplicate-vote',
      voteA: pair.voteA,
      voteB: pair.voteB,
      validatorPower: validator.power,
      totalPower: record.totalPower,
      timeMs: record.timeMs,
    }
    if (verifyEvidence(ev, evidenceContext(ctx, s, blockTimeMs)) === null) out.push(ev)
  }
  return out
}

function evidenceContext(ctx: Ctx, s: ConsensusState, blockTimeMs: number) {
  return {
    chainId: ctx.config.chainId,
    blockHeight: s.height,
    blockTimeMs,
    maxAgeBlocks: ctx.config.evidenceMaxAgeBlocks,
    maxAgeMs: ctx.config.evidenceMaxAgeMs,
    record: (h: number) => recordOf(s, h),
    isCommitted: (k: string) => s.committedEvidence.has(k),
    verify: ctx.verify,
  }
}

// Proposals ------------------------------------------------------------------

function onProposal(
  ctx: Ctx,
  s: ConsensusState,
  proposal: Proposal,
  block: Block,
  isVerified: boolean,
  nowMs: number,
  out: ConsensusAction[],
): RejectReason | undefined {
  if (proposal.height !== s.height || s.decided !== null) return 'wrong-height'
  if (proposal.round > s.round + ctx.config.roundsAheadMax) return 'round-too-far'
  const existing = s.proposals.get(proposal.round)
  if (existing !== undefined) return bytesEqual(existing.blockHash, proposal.blockHash) ? 'duplicate' : 'conflicting-proposal'
  if (proposal.polRound < -1 || proposal.polRound >= proposal.round) return 'bad-pol-round'
  const expected = proposerOf(s.validators, proposal.round)
  if (!bytesEqual(expected, proposal.proposer)) return 'wrong-proposer'
  if (!bytesEqual(blockHash(block.header), proposal.blockHash)) return 'block-hash-mismatch'
  const proposer = findByAddress(s.validators, expected)
  if (proposer === undefined) return 'unknown-validator'
  if (!isVerified && !ctx.verify(ctx.config.chainId, 'proposal', proposer.publicKey, proposalSignBytes(proposal), proposal.signature)) {
    return 'bad-signature'
  }
  s.proposals.set(proposal.round, proposal)
  s.blocks.set(hashKey(proposal.blockHash), block)
  // A proposal for this height also ends waiting for transactions.
  if (s.step === 'new-height' && s.fired.has('commit-done')) startRound(ctx, s, 0, nowMs, out)
  else evaluate(ctx, s, nowMs, out)
  return undefined
}

// Votes ------------------------------------------------------------------------

function voteSet(s: ConsensusState, round: number, type: VoteType): VoteSet {
  const key = `${round}/${type}`
  let set = s.votes.get(key)
  if (set === undefined) {
    set = { votes: new Map(), powerByBlock: new Map(), votesByBlock: new Map(), power: 0 }
    s.votes.set(key, set)
  }
  return set
}

function peekVoteSet(s: ConsensusState, round: number, type: VoteType): VoteSet | undefined {
  return s.votes.get(`${round}/${type}`)
}

function powerFor(set: VoteSet | undefined, block: Uint8Array | null): number {
  return set?.powerByBlock.get(hashKey(block)) ?? 0
}

function onVote(
  ctx: Ctx,
  s: ConsensusState,
  vote: Vote,
  isVerified: boolean,
  nowMs: number,
  out: ConsensusAction[],
): RejectReason | undefined {
  if (vote.height === s.height - 1 && s.lastCommit !== null && s.lastValidators !== null)
    return onLastHeightVote(ctx, s, vote, isVerified, out)
  if (vote.height !== s.height) return 'wrong-height'
  if (vote.round > s.round + ctx.config.roundsAheadMax) return 'round-too-far'
  const validator = findByAddress(s.validators, vote.validator)
  if (validator === undefined) return 'unknown-validator'
  const set = voteSet(s, vote.round, vote.type)
  const key = hashKey(vote.validator)
  const existing = set.votes.get(key)
  if (existing !== undefined && bytesEqual(existing.signature, vote.signature)) return 'duplicate'
  if (!isVerified && !ctx.verify(ctx.config.chainId, 'vote', validator.publicKey, voteSignBytes(vote), vote.signature))
    return 'bad-signature'
  if (existing !== undefined) {
    if (bytesEqual(existing.blockHash, vote.blockHash)) return 'duplicate'
    addEquivocation(s, existing, vote, out)
    // Counted for its block only where others voted for that block too (bounds the sets an equivocator can create).
    const byBlock = set.votesByBlock.get(hashKey(vote.blockHash))
    if (byBlock !== undefined && !byBlock.has(key)) {
      byBlock.set(key, vote)
      const blockKey = hashKey(vote.blockHash)
      set.powerByBlock.set(blockKey, (set.powerByBlock.get(blockKey) ?? 0) + validator.power)
      evaluate(ctx, s, nowMs, out)
    }
    return 'equivocation'
  }
  set.votes.set(key, vote)
  set.power += validator.power
  const blockKey = hashKey(vote.blockHash)
  set.powerByBlock.set(blockKey, (set.powerByBlock.get(blockKey) ?? 0) + validator.power)
  let byBlock = set.votesByBlock.get(blockKey)
  if (byBlock === undefined) {
    byBlock = new Map()
    set.votesByBlock.set(blockKey, byBlock)
  }
  byBlock.set(key, vote)

  // A node waiting for transactions joins as soon as others are voting at this height.
  if (s.step === 'new-height' && s.fired.has('commit-done')) {
    startRound(ctx, s, 0, nowMs, out)
    return undefined
  }
  // Lines 55-56: f + 1 of the power is already in a later round: skip to it.
  if (
    vote.round > s.round &&
    s.step !== 'commit' &&
    s.step !== 'new-height' &&
    isOneThird(roundPower(s, vote.round), s.validators.totalPower)
  ) {
    startRound(ctx, s, vote.round, nowMs, out)
    return undefined
  }
  evaluate(ctx, s, nowMs, out)
  return undefined
}

/** Power of the distinct validators with any vote in `round` (prevote or precommit). */
function roundPower(s: ConsensusState, round: number): number {
  const pre = peekVoteSet(s, round, 'prevote')
  const com = peekVoteSet(s, round, 'precommit')
  if (pre === undefined) return com?.power ?? 0
  if (com === undefined) return pre.power
  let power = pre.power + com.power
  for (const [key, vote] of com.votes) {
    if (!pre.votes.has(key)) continue
    power -= findByAddress(s.validators, vote.validator)?.power ?? 0
  }
  return power
}

/** A late precommit for the last block joins the last commit; a conflicting vote of the last height is evidence. */
function onLastHeightVote(ctx: Ctx, s: ConsensusState, vote: Vote, isVerified: boolean, out: ConsensusAction[]): RejectReason | undefined {
  const lastCommit = s.lastCommit as Commit
  const validator = findByAddress(s.lastValidators as ValidatorSet, vote.validator)
  if (validator === undefined) return 'unknown-validator'
  if (vote.round > lastCommit.round + ctx.config.roundsAheadMax) return 'round-too-far'
  const key = `${vote.round}/${vote.type}`
  let set = s.lastVotes.get(key)
  const existing = set?.votes.get(hashKey(vote.validator))
  if (existing !== undefined && bytesEqual(existing.signature, vote.signature)) return 'duplicate'
  if (!isVerified && !ctx.verify(ctx.config.chainId, 'vote', validator.publicKey, voteSignBytes(vote), vote.signature))
    return 'bad-signature'
  if (existing !== undefined) {
    if (bytesEqual(existing.blockHash, vote.blockHash)) return 'duplicate'
    addEquivocation(s, existing, vote, out)
    return 'equivocation'
  }
  if (set === undefined) {
    set = { votes: new Map(), powerByBlock: new Map(), votesByBlock: new Map(), power: 0 }
    s.lastVotes.set(key, set)
  }
  set.votes.set(hashKey(vote.validator), vote)
  if (vote.type !== 'precommit' || vote.round !== lastCommit.round || !bytesEqual(vote.blockHash, lastCommit.blockHash)) return 'stale'
  const signatures = [...lastCommit.signatures, { validator: vote.validator, timeMs: vote.timeMs, signature: vote.signature }]
  signatures.sort((a, b) => compareBytes(a.validator, b.validator))
  s.lastCommit = { ...lastCommit, signatures }
  return undefined
}

function commitSigVote(commit: Commit, sig: CommitSig): Vote {
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

function addEquivocation(s: ConsensusState, a: Vote, b: Vote, out: ConsensusAction[]): void {
  const [voteA, voteB] = isCanonicalVoteOrder(a, b) ? [a, b] : [b, a]
  const key = evidenceKey({ voteA })
  if (s.evidencePool.has(key) || s.committedEvidence.has(key)) return
  s.evidencePool.set(key, { voteA, voteB })
  out.push({ type: 'broadcast-evidence', voteA, voteB })
}

function onEvidence(ctx: Ctx, s: ConsensusState, a: Vote, b: Vote, out: ConsensusAction[]): RejectReason | undefined {
  const [voteA, voteB] = isCanonicalVoteOrder(a, b) ? [a, b] : [b, a]
  const key = evidenceKey({ voteA })
  if (s.evidencePool.has(key) || s.committedEvidence.has(key)) return 'duplicate'
  const height = voteA.height
  let validators: readonly Validator[] | undefined
  if (height === s.height) validators = s.validators.validators
  else validators = recordOf(s, height)?.validators
  if (validators === undefined || height > s.height) return 'invalid-evidence'
  const validator = validators.find((v) => bytesEqual(v.address, voteA.validator))
  if (checkVotePair(ctx.config.chainId, voteA, voteB, validator, ctx.verify) !== null) return 'invalid-evidence'
  s.evidencePool.set(key, { voteA, voteB })
  out.push({ type: 'broadcast-evidence', voteA, voteB })
  return undefined
}

// Catch-up ---------------------------------------------------------------------

function onCommit(
  ctx: Ctx,
  s: ConsensusState,
  block: Block,
  commit: Commit,
  nowMs: number,
  out: ConsensusAction[],
): RejectReason | undefined {
  if (commit.height !== s.height || s.decided !== null) return 'wrong-height'
  const hash = blockHash(block.header)
  const tally = verifyCommit(s.validators.validators, commit, {
    chainId: ctx.config.chainId,
    height: s.height,
    blockHash: hash,
    verify: ctx.verify,
  })
  if (typeof tally === 'string') return 'invalid-commit'
  // A verified certificate is 2f + 1 precommits for the block (line 49 with the votes in hand).
  s.blocks.set(hashKey(hash), block)
  if (isValidBlock(ctx, s, hash) === null) return 'invalid-commit'
  const set = peekVoteSet(s, commit.round, 'precommit')
  for (const sig of commit.signatures) {
    const mine = set?.votes.get(hashKey(sig.validator))
    if (mine !== undefined && !bytesEqual(mine.blockHash, hash)) addEquivocation(s, mine, commitSigVote(commit, sig), out)
  }
  s.decided = { block, commit }
  s.step = 'commit'
  out.push({ type: 'decide', block, commit, request: finalizeRequest(s, block) })
  void nowMs
  return undefined
}

// Timeouts ---------------------------------------------------------------------

function onTimeout(
  ctx: Ctx,
  s: ConsensusState,
  height: number,
  round: number,
  kind: TimeoutStep,
  nowMs: number,
  out: ConsensusAction[],
): void {
  if (height !== s.height) return
  switch (kind) {
    case 'propose': // lines 57-60
      if (round === s.round && s.step === 'propose') {
        castVote(ctx, s, 'prevote', null, nowMs, out)
        s.step = 'prevote'
        evaluate(ctx, s, nowMs, out)
      }
      return
    case 'prevote': // lines 61-64
      if (round === s.round && s.step === 'prevote') {
        castVote(ctx, s, 'precommit', null, nowMs, out)
        s.step = 'precommit'
        evaluate(ctx, s, nowMs, out)
      }
      return
    case 'precommit': // lines 65-67
      if (round === s.round && s.step !== 'commit' && s.step !== 'new-height') startRound(ctx, s, round + 1, nowMs, out)
      return
    case 'commit':
      if (s.step === 'new-height' && !s.fired.has('commit-done')) enterHeight(ctx, s, nowMs, out)
      return
    case 'wait-txs':
      if (s.step === 'new-height' && s.fired.has('commit-done')) startRound(ctx, s, 0, nowMs, out)
      return
  }
}

// The upon rules -----------------------------------------------------------------

function isValidBlock(ctx: Ctx, s: ConsensusState, hash: Uint8Array): Block | null {
  const key = hashKey(hash)
  const block = s.blocks.get(key)
  if (block === undefined) return null
  let verdict = s.validity.get(key)
  if (verdict === undefined) {
    verdict = checkBlock(ctx, s, block) === null
    s.validity.set(key, verdict)
  }
  return verdict ? block : null
}

/** Evaluates every rule that the current state enables, until none does. */
function evaluate(ctx: Ctx, s: ConsensusState, nowMs: number, out: ConsensusAction[]): void {
  for (let guard = 0; guard < 100; guard++) {
    if (!evaluateOnce(ctx, s, nowMs, out)) return
  }
}

function evaluateOnce(ctx: Ctx, s: ConsensusState, nowMs: number, out: ConsensusAction[]): boolean {
  if (s.decided !== null) return false
  // Lines 49-54: a proposal and 2f + 1 precommits for it in any round decide.
  for (const [key, set] of s.votes) {
    if (!key.endsWith('/precommit') || !isTwoThirds(set.power, s.validators.totalPower)) continue
    const round = Number(key.slice(0, key.indexOf('/')))
    for (const [blockKey, power] of set.powerByBlock) {
      if (blockKey === 'nil' || !isTwoThirds(power, s.validators.totalPower)) continue
      const block = s.blocks.get(blockKey)
      if (block === undefined) continue
      const hash = blockHash(block.header)
      if (isValidBlock(ctx, s, hash) === null) continue
      decide(s, block, hash, round, set, out)
      return false
    }
  }
  if (s.step === 'new-height' || s.step === 'commit') return false
  const r = s.round
  const proposal = s.proposals.get(r)
  const prevotes = peekVoteSet(s, r, 'prevote')
  const precommits = peekVoteSet(s, r, 'precommit')
  const total = s.validators.totalPower

  if (s.step === 'propose' && proposal !== undefined) {
    const vr = proposal.polRound
    if (vr === -1) {
      // Lines 22-27.
      const block = isValidBlock(ctx, s, proposal.blockHash)
      const isOk = block !== null && (s.lockedRound === -1 || bytesEqual(blockHashOf(s.lockedBlock), proposal.blockHash))
      castVote(ctx, s, 'prevote', isOk ? proposal.blockHash : null, nowMs, out)
      s.step = 'prevote'
      return true
    }
    if (vr >= 0 && vr < r && isTwoThirds(powerFor(peekVoteSet(s, vr, 'prevote'), proposal.blockHash), total)) {
      // Lines 28-33.
      const block = isValidBlock(ctx, s, proposal.blockHash)
      const isOk = block !== null && (s.lockedRound <= vr || bytesEqual(blockHashOf(s.lockedBlock), proposal.blockHash))
      castVote(ctx, s, 'prevote', isOk ? proposal.blockHash : null, nowMs, out)
      s.step = 'prevote'
      return true
    }
  }
  // Lines 34-35.
  if (s.step === 'prevote' && prevotes !== undefined && isTwoThirds(prevotes.power, total) && !s.fired.has(`34/${r}`)) {
    s.fired.add(`34/${r}`)
    schedule(ctx, s, 'prevote', r, out)
  }
  // Lines 36-43.
  if (
    proposal !== undefined &&
    (s.step === 'prevote' || s.step === 'precommit') &&
    !s.fired.has(`36/${r}`) &&
    isTwoThirds(powerFor(prevotes, proposal.blockHash), total)
  ) {
    const block = isValidBlock(ctx, s, proposal.blockHash)
    if (block !== null) {
      s.fired.add(`36/${r}`)
      if (s.step === 'prevote') {
        s.lockedBlock = block // line 38
        s.lockedRound = r // line 39
        castVote(ctx, s, 'precommit', proposal.blockHash, nowMs, out) // line 40
        s.step = 'precommit' // line 41
      }
      s.validBlock = block // line 42
      s.validRound = r // line 43
      return true
    }
  }
  // Lines 44-46.
  if (s.step === 'prevote' && isTwoThirds(powerFor(prevotes, null), total)) {
    castVote(ctx, s, 'precommit', null, nowMs, out)
    s.step = 'precommit'
    return true
  }
  // Lines 47-48.
  if (precommits !== undefined && isTwoThirds(precommits.power, total) && !s.fired.has(`47/${r}`)) {
    s.fired.add(`47/${r}`)
    schedule(ctx, s, 'precommit', r, out)
  }
  // Lines 55-56 (also after our own round changed; votes may already be there).
  for (const key of s.votes.keys()) {
    const round = Number(key.slice(0, key.indexOf('/')))
    if (round > r && isOneThird(roundPower(s, round), total)) {
      startRound(ctx, s, round, nowMs, out)
      return false
    }
  }
  return false
}

function blockHashOf(block: Block | null): Uint8Array | null {
  return block === null ? null : blockHash(block.header)
}

function decide(s: ConsensusState, block: Block, hash: Uint8Array, round: number, set: VoteSet, out: ConsensusAction[]): void {
  const commit = commitFrom(s.height, round, hash, set)
  s.decided = { block, commit }
  s.step = 'commit'
  out.push({ type: 'decide', block, commit, request: finalizeRequest(s, block) })
}

function commitFrom(height: number, round: number, hash: Uint8Array, set: VoteSet): Commit {
  const signatures: CommitSig[] = []
  for (const vote of set.votesByBlock.get(hashKey(hash))?.values() ?? []) {
    signatures.push({ validator: vote.validator, timeMs: vote.timeMs, signature: vote.signature })
  }
  signatures.sort((a, b) => compareBytes(a.validator, b.validator))
  return { height, round, blockHash: hash, signatures }
}

/** The union of two certificates for the same block and round, sorted by validator. */
function mergeCommits(a: Commit, b: Commit): Commit {
  const byValidator = new Map<string, CommitSig>()
  for (const sig of [...a.signatures, ...b.signatures])
    if (!byValidator.has(hashKey(sig.validator))) byValidator.set(hashKey(sig.validator), sig)
  const signatures = [...byValidator.values()].sort((x, y) => compareBytes(x.validator, y.validator))
  return { ...a, signatures }
}

function finalizeRequest(s: ConsensusState, block: Block): FinalizeBlockRequest {
  const lastCommitVotes =
    s.lastValidators === null || block.lastCommit === null
      ? []
      : s.lastValidators.validators.map((v) => ({
          validator: v.address,
          power: v.power,
          signed: (block.lastCommit as Commit).signatures.some((sig) => bytesEqual(sig.validator, v.address)),
        }))
  const misbehavior: Misbehavior[] = block.evidence.map((e) => ({
    kind: e.kind,
    validator: e.voteA.validator,
    height: e.voteA.height,
    timeMs: e.timeMs,
    validatorPower: e.validatorPower,
    totalPower: e.totalPower,
  }))
  return {
    height: block.header.height,
    timeMs: block.header.timeMs,
    proposer: block.header.proposer,
    txs: block.txs,
    lastCommitVotes,
    misbehavior,
  }
}

// Applying a decision --------------------------------------------------------------

function onApplied(
  ctx: Ctx,
  s: ConsensusState,
  height: number,
  stateRoot: Uint8Array,
  updates: ValidatorUpdate[],
  nowMs: number,
  out: ConsensusAction[],
): void {
  if (s.decided === null || height !== s.height) return
  const { block } = s.decided
  // Late precommits that arrived while executing join the certificate.
  const set = peekVoteSet(s, s.decided.commit.round, 'precommit')
  const commit =
    set === undefined
      ? s.decided.commit
      : mergeCommits(s.decided.commit, commitFrom(s.height, s.decided.commit.round, s.decided.commit.blockHash, set))

  s.history.push({
    height: s.height,
    timeMs: block.header.timeMs,
    validators: s.validators.validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power })),
    totalPower: s.validators.totalPower,
  })
  const oldest = s.height + 1 - ctx.config.evidenceMaxAgeBlocks
  while (s.history.length > 0 && (s.history[0] as HeightRecord).height < oldest) s.history.shift()
  for (const e of block.evidence) {
    const key = evidenceKey(e)
    s.committedEvidence.set(key, s.height)
    s.evidencePool.delete(key)
  }
  for (const [key, h] of s.committedEvidence) if (h < oldest) s.committedEvidence.delete(key)
  for (const [key, pair] of s.evidencePool) if (pair.voteA.height < oldest) s.evidencePool.delete(key)

  // CometBFT state.updateState: validators(h+1) = next; next(h+2) = next + updates, one increment.
  s.lastValidators = s.validators
  s.validators = s.nextValidators
  s.nextValidators = incrementProposerPriority(
    updates.length === 0 ? s.nextValidators : applyValidatorUpdates(s.nextValidators, updates),
    1,
  )
  s.lastBlockHash = blockHash(block.header)
  s.lastBlockTimeMs = block.header.timeMs
  s.lastCommit = commit
  s.stateRoot = stateRoot
  s.height += 1
  s.round = 0
  s.step = 'new-height'
  s.lockedRound = -1
  s.lockedBlock = null
  s.validRound = -1
  s.validBlock = null
  s.proposals = new Map()
  s.blocks = new Map()
  s.validity = new Map()
  s.lastVotes = s.votes
  s.votes = new Map()
  s.fired = new Set()
  s.requestedRound = -1
  s.decided = null
  if (ctx.config.timeoutCommitMs === 0) enterHeight(ctx, s, nowMs, out)
  else schedule(ctx, s, 'commit', 0, out)
}

// valid(v) ------------------------------------------------------------------------

function checkBlock(ctx: Ctx, s: ConsensusState, block: Block): BlockInvalidReason | null {
  const h = block.header
  if (h.chainId !== ctx.config.chainId) return 'wrong-chain'
  if (h.height !== s.height) return 'wrong-height'
  if (h.timeMs <= s.lastBlockTimeMs) return 'time-not-increasing'
  if (!bytesEqual(h.lastBlockHash, s.lastBlockHash)) return 'wrong-last-block'
  if (!bytesEqual(h.lastCommitHash, commitHash(block.lastCommit))) return 'wrong-last-commit-hash'
  if (s.lastValidators === null) {
    if (block.lastCommit !== null) return 'invalid-last-commit'
  } else {
    if (block.lastCommit === null) return 'invalid-last-commit'
    const tally = verifyCommit(s.lastValidators.validators, block.lastCommit, {
      chainId: ctx.config.chainId,
      height: s.height - 1,
      blockHash: s.lastBlockHash,
      verify: ctx.verify,
    })
    if (typeof tally === 'string') return 'invalid-last-commit'
  }
  if (!bytesEqual(h.txRoot, txRoot(block.txs))) return 'wrong-tx-root'
  if (!bytesEqual(h.evidenceHash, evidenceHash(block.evidence))) return 'wrong-evidence-hash'
  const seen = new Set<string>()
  const evCtx = evidenceContext(ctx, s, h.timeMs)
  for (const e of block.evidence) {
    const key = evidenceKey(e)
    if (seen.has(key)) return 'invalid-evidence'
    seen.add(key)
    if (verifyEvidence(e, evCtx) !== null) return 'invalid-evidence'
  }
  if (!bytesEqual(h.stateRoot, s.stateRoot)) return 'wrong-state-root'
  if (!bytesEqual(h.validatorsHash, hashOfValidatorSet(s.validators))) return 'wrong-validators-hash'
  if (!bytesEqual(h.nextValidatorsHash, hashOfValidatorSet(s.nextValidators))) return 'wrong-next-validators-hash'
  if (findByAddress(s.validators, h.proposer) === undefined) return 'unknown-proposer'
  let bytes = 0
  for (const tx of block.txs) bytes += tx.length
  if (bytes > ctx.config.blockTxBytesMax) return 'too-large'
  if (!ctx.processProposal({ height: h.height, timeMs: h.timeMs, txs: block.txs })) return 'rejected-by-app'
  return null
}
