import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  blockHash,
  commitHash,
  createConsensus,
  evidenceHash,
  hashOfValidatorSet,
  memorySignerStateStore,
  PrivValidator,
  proposerOf,
  txRoot,
  type Block,
  type ConsensusAction,
  type ConsensusState,
  type Consensus,
  type Vote,
} from '../src/index.ts'
import { chainId, genesisRoot, startAll, testNet, validatorsOf } from './helpers.ts'

const utf8 = new TextEncoder()

function setup() {
  const { validators, signers } = validatorsOf([1, 1, 1, 1])
  // This node is the one validator that proposes none of rounds 0-2.
  const probe = createConsensus({ chainId, address: null }).genesisState({ validators, stateRoot: genesisRoot, timeMs: 1000 })
  const proposers = [0, 1, 2].map((r) => Buffer.from(proposerOf(probe.validators, r)).toString('hex'))
  const me = validators.findIndex((v) => !proposers.includes(Buffer.from(v.address).toString('hex')))
  const consensus = createConsensus({ chainId, address: validators[me]?.address as Uint8Array, timeoutCommitMs: 0 })
  const state = consensus.genesisState({ validators, stateRoot: genesisRoot, timeMs: 1000 })
  const pvs = signers.map((s) => new PrivValidator(s, memorySignerStateStore(), chainId))
  const indexOf = (address: Uint8Array) => validators.findIndex((v) => Buffer.compare(v.address, address) === 0)
  const proposerKeys = signers.map((sg) => new PrivValidator(sg, memorySignerStateStore(), chainId))
  return { validators, consensus, state, pvs, indexOf, me, proposerKeys }
}

function makeBlock(s: ConsensusState, proposer: Uint8Array, tx: string): Block {
  const txs = [utf8.encode(tx)]
  return {
    header: {
      chainId,
      height: s.height,
      timeMs: s.lastBlockTimeMs + 10,
      lastBlockHash: s.lastBlockHash,
      lastCommitHash: commitHash(s.lastCommit),
      txRoot: txRoot(txs),
      stateRoot: s.stateRoot,
      validatorsHash: hashOfValidatorSet(s.validators),
      nextValidatorsHash: hashOfValidatorSet(s.nextValidators),
      evidenceHash: evidenceHash([]),
      proposer,
    },
    txs,
    evidence: [],
    lastCommit: s.lastCommit,
  }
}

const others = (me: number) => [0, 1, 2, 3].filter((i) => i !== me)

class Driver {
  actions: ConsensusAction[] = []
  constructor(
    public consensus: Consensus,
    public state: ConsensusState,
  ) {}
  feed(event: Parameters<Consensus['step']>[1]): ConsensusAction[] {
    const r = this.consensus.step(this.state, event)
    this.state = r.state
    this.actions.push(...r.actions)
    return r.actions
  }
  lastVote(type: Vote['type']): Omit<Vote, 'signature'> | undefined {
    const votes = this.actions.filter((a) => a.type === 'sign-vote' && a.vote.type === type)
    const last = votes[votes.length - 1]
    return last?.type === 'sign-vote' ? last.vote : undefined
  }
}

test('locking: a validator locked on B prevotes nil for a new C, and unlocks only on a later proof-of-lock', () => {
  const { validators, consensus, state, pvs, indexOf, me, proposerKeys } = setup()
  const d = new Driver(consensus, state)
  const vote = (i: number, type: Vote['type'], round: number, hash: Uint8Array | null): Vote =>
    (pvs[i] as PrivValidator).signVote({
      type,
      height: 1,
      round,
      blockHash: hash,
      timeMs: 2000,
      validator: validators[i]?.address as Uint8Array,
    })
  const proposal = (round: number, block: Block, polRound: number) => {
    const p = proposerOf(d.state.validators, round)
    const proposalMsg = (proposerKeys[indexOf(p)] as PrivValidator).signProposal({
      height: 1,
      round,
      polRound,
      blockHash: blockHash(block.header),
      timeMs: 2000,
      proposer: p,
    })
    return d.feed({ type: 'proposal', proposal: proposalMsg, block, nowMs: 2000 })
  }
  d.feed({ type: 'start', nowMs: 2000 })
  const b = makeBlock(d.state, proposerOf(d.state.validators, 0), 'B')
  const hb = blockHash(b.header)
  proposal(0, b, -1)
  assert.deepEqual(d.lastVote('prevote')?.blockHash, hb, 'line 24: prevote for a valid proposal')
  // Line 36: 2f+1 prevotes for B -> lock and precommit B.
  for (const i of others(me)) d.feed({ type: 'vote', vote: vote(i, 'prevote', 0, hb), nowMs: 2000 })
  assert.equal(d.state.lockedRound, 0)
  assert.deepEqual(d.lastVote('precommit')?.blockHash, hb)
  assert.equal(d.state.validRound, 0)
  // Others precommit nil; 2f+1 precommits of any kind start the precommit timeout (line 47).
  for (const i of others(me)) d.feed({ type: 'vote', vote: vote(i, 'precommit', 0, null), nowMs: 2000 })
  assert.ok(d.actions.some((a) => a.type === 'schedule-timeout' && a.step === 'precommit' && a.round === 0))
  d.feed({ type: 'timeout', height: 1, round: 0, step: 'precommit', nowMs: 3000 })
  assert.equal(d.state.round, 1)
  // Round 1: a fresh proposal C (polRound -1). Locked on B: prevote nil (line 26).
  const c = makeBlock(d.state, proposerOf(d.state.validators, 1), 'C')
  const hc = blockHash(c.header)
  proposal(1, c, -1)
  assert.equal(d.lastVote('prevote')?.round, 1)
  assert.equal(d.lastVote('prevote')?.blockHash, null)
  // The others prevote C in round 1: a proof-of-lock for C at round 1 > lockedRound 0.
  for (const i of others(me)) d.feed({ type: 'vote', vote: vote(i, 'prevote', 1, hc), nowMs: 3000 })
  // Line 36 with step = prevote: the validator now locks on C in round 1 (it saw the POL itself).
  assert.equal(d.state.lockedRound, 1)
  assert.deepEqual(d.lastVote('precommit')?.blockHash, hc)
})

test('lines 28-33: a re-proposal with a proof-of-lock newer than the lock gets a prevote; the validator prevotes the re-proposed block', () => {
  const { validators, consensus, state, pvs, indexOf, me, proposerKeys } = setup()
  const d = new Driver(consensus, state)
  const vote = (i: number, type: Vote['type'], round: number, hash: Uint8Array | null): Vote =>
    (pvs[i] as PrivValidator).signVote({
      type,
      height: 1,
      round,
      blockHash: hash,
      timeMs: 2000,
      validator: validators[i]?.address as Uint8Array,
    })
  d.feed({ type: 'start', nowMs: 2000 })
  // Jump to round 2 through f+1 round-2 votes, without locking anything (lockedRound stays -1)...
  const c = makeBlock(d.state, proposerOf(d.state.validators, 1), 'C')
  const hc = blockHash(c.header)
  // ...after 2f+1 prevotes for C in round 1 that we saw without the proposal (no lock).
  for (const i of others(me)) d.feed({ type: 'vote', vote: vote(i, 'prevote', 1, hc), nowMs: 2000 })
  assert.equal(d.state.round, 1)
  for (const i of others(me).slice(0, 2)) d.feed({ type: 'vote', vote: vote(i, 'precommit', 2, null), nowMs: 2000 })
  assert.equal(d.state.round, 2)
  const p2 = proposerOf(d.state.validators, 2)
  // Round-2 proposer re-proposes C with polRound 1.
  const prop = (proposerKeys[indexOf(p2)] as PrivValidator).signProposal({
    height: 1,
    round: 2,
    polRound: 1,
    blockHash: hc,
    timeMs: 2000,
    proposer: p2,
  })
  d.feed({ type: 'proposal', proposal: prop, block: c, nowMs: 2000 })
  assert.deepEqual(d.lastVote('prevote')?.blockHash, hc)
  assert.equal(d.lastVote('prevote')?.round, 2)
})

test('a proposer with a valid value re-proposes it with its valid round (lines 15-16)', () => {
  const net = testNet([1, 1, 1, 1])
  startAll(net)
  net.run(() => net.nodes.every((n) => n.decided.length >= 2))
  const proposals = net.log.flat().filter((a) => a.type === 'sign-proposal')
  assert.ok(proposals.every((a) => a.type === 'sign-proposal' && a.proposal.polRound === -1))
  // Force the situation: a node whose validBlock is set and which is the next round's proposer.
  const node = net.nodes[0]
  assert.ok(node !== undefined)
  const s = node.state
  const block = makeBlock(s, s.validators.validators[0]?.address as Uint8Array, 'V')
  s.validBlock = block
  s.validRound = 0
  let round = 1
  while (Buffer.compare(proposerOf(s.validators, round), net.validators[0]?.address as Uint8Array) !== 0) round++
  s.step = 'precommit'
  s.round = round - 1
  const { actions } = node.consensus.step(s, { type: 'timeout', height: s.height, round: round - 1, step: 'precommit', nowMs: 5 })
  const sp = actions.find((a) => a.type === 'sign-proposal')
  assert.ok(sp?.type === 'sign-proposal')
  assert.equal(sp.proposal.polRound, 0)
  assert.deepEqual(sp.proposal.blockHash, blockHash(block.header))
})

test('equivocation becomes evidence, is committed in a later block and reaches the app as misbehavior', () => {
  const net = testNet([1, 1, 1, 1])
  startAll(net)
  net.run(() => net.nodes.every((n) => n.decided.length >= 1))
  // Validator 3 signed two different prevotes at height 2 round 5 (a second, stateless signer).
  const rogue = new PrivValidator(net.signers[3] as never, memorySignerStateStore(), chainId)
  const rogue2 = new PrivValidator(net.signers[3] as never, memorySignerStateStore(), chainId)
  const h = net.nodes[0]?.state.height as number
  const base = { type: 'prevote' as const, height: h, round: 0, timeMs: 1, validator: net.validators[3]?.address as Uint8Array }
  const va = rogue.signVote({ ...base, blockHash: new Uint8Array(32).fill(1) })
  const vb = rogue2.signVote({ ...base, blockHash: new Uint8Array(32).fill(2) })
  const node0 = net.nodes[0]
  assert.ok(node0 !== undefined)
  const r1 = node0.consensus.step(node0.state, { type: 'vote', vote: va, nowMs: 1 })
  const r2 = node0.consensus.step(r1.state, { type: 'vote', vote: vb, nowMs: 1 })
  node0.state = r2.state
  assert.equal(r2.rejected, 'equivocation')
  assert.ok(r2.actions.some((a) => a.type === 'broadcast-evidence'))
  for (let i = 1; i < 4; i++) net.deliver(i, { type: 'evidence', voteA: va, voteB: vb, nowMs: 1 })
  net.run(() => net.nodes.every((n) => n.decided.length >= h + 3))
  const withEvidence = node0.decided.filter((b) => b.evidence.length > 0)
  assert.equal(withEvidence.length, 1, 'committed exactly once')
  const ev = withEvidence[0]?.evidence[0]
  assert.equal(ev?.validatorPower, 1)
  assert.equal(ev?.totalPower, 4)
  assert.ok((withEvidence[0]?.header.height as number) > h)
  const decide = net.log[0]?.find((a) => a.type === 'decide' && a.request.misbehavior.length > 0)
  assert.ok(decide?.type === 'decide')
  assert.deepEqual(decide.request.misbehavior[0]?.validator, net.validators[3]?.address)
  assert.equal(decide.request.misbehavior[0]?.height, h)
})

test('blocks with forged or stale evidence are invalid', () => {
  const net = testNet([1, 1, 1, 1])
  startAll(net)
  net.run(() => net.nodes.every((n) => n.decided.length >= 2))
  const node = net.nodes[0]
  assert.ok(node !== undefined)
  const rogue = new PrivValidator(net.signers[2] as never, memorySignerStateStore(), chainId)
  const rogue2 = new PrivValidator(net.signers[2] as never, memorySignerStateStore(), chainId)
  const base = { type: 'precommit' as const, height: 1, round: 0, timeMs: 1, validator: net.validators[2]?.address as Uint8Array }
  const va = rogue.signVote({ ...base, blockHash: new Uint8Array(32).fill(1) })
  const vb = rogue2.signVote({ ...base, blockHash: new Uint8Array(32).fill(2) })
  const s = node.state
  const record = s.history.find((r) => r.height === 1)
  assert.ok(record !== undefined)
  const good = { kind: 'duplicate-vote' as const, voteA: va, voteB: vb, validatorPower: 1, totalPower: 4, timeMs: record.timeMs }
  const withEvidence = (evidence: Block['evidence']): Block => {
    const b = makeBlock(s, net.validators[1]?.address as Uint8Array, 'E')
    return { ...b, header: { ...b.header, evidenceHash: evidenceHash(evidence) }, evidence }
  }
  assert.equal(node.consensus.checkBlock(s, withEvidence([good])), null)
  assert.equal(node.consensus.checkBlock(s, withEvidence([{ ...good, validatorPower: 2 }])), 'invalid-evidence')
  assert.equal(node.consensus.checkBlock(s, withEvidence([{ ...good, voteA: vb, voteB: va }])), 'invalid-evidence')
  assert.equal(node.consensus.checkBlock(s, withEvidence([good, good])), 'invalid-evidence')
  assert.equal(node.consensus.checkBlock(s, withEvidence([{ ...good, voteB: { ...vb, signature: va.signature } }])), 'invalid-evidence')
  assert.equal(node.consensus.checkBlock(s, withEvidence([{ ...good, voteB: { ...vb, round: 1 } }])), 'invalid-evidence')
  const tampered = withEvidence([good])
  assert.equal(node.consensus.checkBlock(s, { ...tampered, evidence: [] }), 'wrong-evidence-hash')
  // Too old: a chain with a maximum age of 1 block refuses height-1 evidence at height 3.
  const strict = createConsensus({ chainId, address: null, evidenceMaxAgeBlocks: 1 })
  assert.equal(strict.checkBlock(s, withEvidence([good])), 'invalid-evidence')
})

test('invalid blocks get a nil prevote', () => {
  const { consensus, state, indexOf, proposerKeys } = setup()
  const d = new Driver(consensus, state)
  d.feed({ type: 'start', nowMs: 2000 })
  const p = proposerOf(d.state.validators, 0)
  const bad = makeBlock(d.state, p, 'X')
  bad.header.stateRoot = new Uint8Array(32).fill(9)
  assert.equal(consensus.checkBlock(d.state, bad), 'wrong-state-root')
  const prop = (proposerKeys[indexOf(p)] as PrivValidator).signProposal({
    height: 1,
    round: 0,
    polRound: -1,
    blockHash: blockHash(bad.header),
    timeMs: 2000,
    proposer: p,
  })
  d.feed({ type: 'proposal', proposal: prop, block: bad, nowMs: 2000 })
  assert.equal(d.lastVote('prevote')?.blockHash, null)
  void genesisRoot
})

// Regressions found by the simulator ------------------------------------------------

test('regression (sim kv seeds 4, 8, 15): a certificate decides even where our own vote set holds an equivocator’s other precommit', () => {
  const { validators, consensus, state, proposerKeys, me } = setup()
  const d = new Driver(consensus, state)
  d.feed({ type: 'start', nowMs: 2000 })
  const p = proposerOf(d.state.validators, 0)
  const block = makeBlock(d.state, p, 'X')
  const hash = blockHash(block.header)
  const [a, b, c] = others(me) as [number, number, number]
  const sign = (i: number, blockHash: Uint8Array | null) =>
    (proposerKeys[i] as PrivValidator).signVote({
      type: 'precommit',
      height: 1,
      round: 0,
      blockHash,
      timeMs: 2000,
      validator: validators[i]?.address as Uint8Array,
    })
  // We hold a's nil precommit; a also signed one for the block (an equivocation).
  d.feed({ type: 'vote', vote: sign(a, null), nowMs: 2000 })
  const aBlock = new PrivValidator(validatorsOf([1, 1, 1, 1]).signers[a] as never, memorySignerStateStore(), chainId).signVote({
    type: 'precommit',
    height: 1,
    round: 0,
    blockHash: hash,
    timeMs: 2000,
    validator: validators[a]?.address as Uint8Array,
  })
  const sigs = [aBlock, sign(b, hash), sign(c, hash)]
    .map((v) => ({ validator: v.validator, timeMs: v.timeMs, signature: v.signature }))
    .sort((x, y) => Buffer.compare(x.validator, y.validator))
  const r = consensus.step(d.state, {
    type: 'commit',
    block,
    commit: { height: 1, round: 0, blockHash: hash, signatures: sigs },
    nowMs: 2100,
  })
  assert.equal(r.rejected, undefined)
  assert.ok(r.actions.some((x) => x.type === 'decide'))
  assert.ok(
    r.actions.some((x) => x.type === 'broadcast-evidence'),
    'the conflicting precommit is reported',
  )
})

test('regression (sim chain seed 14): a proof-of-lock counts an equivocator’s vote even when its other vote arrived first', () => {
  const { validators, consensus, state, proposerKeys, me, indexOf } = setup()
  const d = new Driver(consensus, state)
  d.feed({ type: 'start', nowMs: 2000 })
  const x = makeBlock(d.state, proposerOf(d.state.validators, 0), 'X')
  const hx = blockHash(x.header)
  const [a, b, c] = others(me) as [number, number, number]
  const fresh = (i: number) => new PrivValidator(validatorsOf([1, 1, 1, 1]).signers[i] as never, memorySignerStateStore(), chainId)
  const prevote = (pv: PrivValidator, i: number, round: number, blockHash: Uint8Array | null) =>
    pv.signVote({ type: 'prevote', height: 1, round, blockHash, timeMs: 2000, validator: validators[i]?.address as Uint8Array })
  // a equivocates: its nil prevote reaches us first, then its prevote for X; b and c prevote X.
  d.feed({ type: 'vote', vote: prevote(fresh(a), a, 0, null), nowMs: 2000 })
  d.feed({ type: 'vote', vote: prevote(fresh(b), b, 0, hx), nowMs: 2000 })
  d.feed({ type: 'vote', vote: prevote(fresh(c), c, 0, hx), nowMs: 2000 })
  assert.equal(d.consensus.step(d.state, { type: 'vote', vote: prevote(fresh(a), a, 0, hx), nowMs: 2000 }).rejected, 'equivocation')
  // Move to round 1 (timeouts), where X is re-proposed with its proof-of-lock from round 0.
  d.feed({ type: 'timeout', height: 1, round: 0, step: 'propose', nowMs: 3000 })
  for (const i of [a, b, c])
    d.feed({
      type: 'vote',
      vote: (proposerKeys[i] as PrivValidator).signVote({
        type: 'precommit',
        height: 1,
        round: 0,
        blockHash: null,
        timeMs: 3000,
        validator: validators[i]?.address as Uint8Array,
      }),
      nowMs: 3000,
    })
  d.feed({ type: 'timeout', height: 1, round: 0, step: 'precommit', nowMs: 4000 })
  assert.equal(d.state.round, 1)
  const p1 = proposerOf(d.state.validators, 1)
  const prop = fresh(indexOf(p1)).signProposal({ height: 1, round: 1, polRound: 0, blockHash: hx, timeMs: 4000, proposer: p1 })
  d.feed({ type: 'proposal', proposal: prop, block: x, nowMs: 4000 })
  assert.deepEqual(d.lastVote('prevote')?.blockHash, hx, 'line 30: prevote for the value with a valid proof-of-lock')
  assert.equal(d.lastVote('prevote')?.round, 1)
})
