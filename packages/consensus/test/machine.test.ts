import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  blockHash,
  createConsensus,
  proposerOf,
  timeoutMs,
  consensusConfig,
  type Block,
  type ConsensusAction,
  type Vote,
} from '../src/index.ts'
import { chainId, genesisRoot, startAll, testNet, validatorsOf } from './helpers.ts'

function heights(net: ReturnType<typeof testNet>): number[] {
  return net.nodes.map((n) => n.decided.length)
}

test('four equal validators decide the same blocks, each certified by its successor', () => {
  const net = testNet([10, 10, 10, 10])
  startAll(net)
  net.run(() => net.nodes.every((n) => n.decided.length >= 5))
  assert.ok(heights(net).every((h) => h >= 5))
  for (let h = 0; h < 5; h++) {
    const hashes = new Set(net.nodes.map((n) => Buffer.from(blockHash((n.decided[h] as Block).header)).toString('hex')))
    assert.equal(hashes.size, 1, `agreement at height ${h + 1}`)
  }
  const b2 = net.nodes[0]?.decided[1] as Block
  assert.deepEqual(b2.lastCommit?.blockHash, blockHash((net.nodes[0]?.decided[0] as Block).header))
  assert.equal(b2.header.lastBlockHash.length, 32)
  // Validators rotate as proposers (equal power: round robin).
  const proposers = new Set(net.nodes[0]?.decided.slice(0, 4).map((b) => Buffer.from(b.header.proposer).toString('hex')))
  assert.equal(proposers.size, 4)
})

test('quorums count voting power, not validators: 5 of 8 is not enough, 6 is', () => {
  // Powers 5,1,1,1: total 8, +2/3 needs power > 16/3, i.e. 6.
  const net = testNet([5, 1, 1, 1])
  net.muted.add(1)
  net.muted.add(2)
  net.muted.add(3)
  startAll(net)
  // Only the power-5 validator is heard: no block can be decided.
  net.run(() => false, 200)
  assert.equal(net.nodes[0]?.decided.length, 0)
  net.muted.delete(1)
  net.run(() => (net.nodes[0]?.decided.length ?? 0) >= 1, 2000)
  assert.ok((net.nodes[0]?.decided.length ?? 0) >= 1)
})

test('a minority (one third) cannot decide; the full set then does', () => {
  const net = testNet([1, 1, 1, 1, 1, 1])
  for (const i of [2, 3, 4, 5]) net.muted.add(i)
  startAll(net)
  net.run(() => false, 300)
  assert.deepEqual(heights(net).slice(0, 2), [0, 0])
  net.muted.clear()
  net.run(() => net.nodes.every((n) => n.decided.length >= 2), 5000)
  assert.ok(heights(net).every((h) => h >= 2))
})

test('timeouts grow linearly with the round (CometBFT defaults)', () => {
  const config = consensusConfig({ chainId, address: null })
  assert.equal(timeoutMs(config, 'propose', 0), 3000)
  assert.equal(timeoutMs(config, 'propose', 4), 5000)
  assert.equal(timeoutMs(config, 'prevote', 2), 2000)
  assert.equal(timeoutMs(config, 'precommit', 3), 2500)
  assert.equal(timeoutMs(config, 'commit', 9), 1000)
})

test('an absent proposer costs one round: the next round decides', () => {
  const net = testNet([1, 1, 1, 1])
  const first = net.nodes[0]?.state.validators as Parameters<typeof proposerOf>[0]
  const p0 = proposerOf(first, 0)
  const silent = net.validators.findIndex((v) => Buffer.compare(v.address, p0) === 0)
  net.muted.add(silent)
  startAll(net)
  net.run(() => net.nodes.every((n, i) => i === silent || n.decided.length >= 1))
  const block = net.nodes[(silent + 1) % 4]?.decided[0] as Block
  assert.ok(block.lastCommit === null)
  const honest = net.nodes[(silent + 1) % 4]
  const roundsTried = (net.log[(silent + 1) % 4] as ConsensusAction[])
    .filter((a) => a.type === 'schedule-timeout' && a.step === 'propose')
    .map((a) => (a as { round: number }).round)
  assert.ok(roundsTried.includes(1), 'moved to round 1')
  assert.ok(honest !== undefined && honest.decided.length >= 1)
})

// Rule-level tests drive a single reducer with hand-made messages --------------------

function single(powers: number[], me: number) {
  const { validators, signers } = validatorsOf(powers)
  const consensus = createConsensus({ chainId, address: validators[me]?.address ?? null, timeoutCommitMs: 0 })
  const state = consensus.genesisState({ validators, stateRoot: genesisRoot, timeMs: 1000 })
  return { consensus, state, validators, signers }
}

test('f + 1 of the power in a later round makes a node skip to it (lines 55-56)', async () => {
  const { PrivValidator, memorySignerStateStore } = await import('../src/index.ts')
  const ctx = single([1, 1, 1, 1], 0)
  let { state } = ctx
  state = ctx.consensus.step(state, { type: 'start', nowMs: 2000 }).state
  assert.equal(state.round, 0)
  const vote = (i: number, round: number): Vote =>
    new PrivValidator(ctx.signers[i] as never, memorySignerStateStore(), chainId).signVote({
      type: 'prevote',
      height: 1,
      round,
      blockHash: null,
      timeMs: 2000,
      validator: ctx.validators[i]?.address as Uint8Array,
    })
  // One vote in round 3 is a quarter of the power: not enough.
  state = ctx.consensus.step(state, { type: 'vote', vote: vote(1, 3), nowMs: 2000 }).state
  assert.equal(state.round, 0)
  // Two are a half: more than a third.
  state = ctx.consensus.step(state, { type: 'vote', vote: vote(2, 3), nowMs: 2000 }).state
  assert.equal(state.round, 3)
})

test('votes with bad signatures or from strangers are ignored with a reason', async () => {
  const { PrivValidator, memorySignerStateStore } = await import('../src/index.ts')
  const ctx = single([1, 1, 1, 1], 0)
  const pv = new PrivValidator(ctx.signers[1] as never, memorySignerStateStore(), chainId)
  const vote = pv.signVote({
    type: 'prevote',
    height: 1,
    round: 0,
    blockHash: null,
    timeMs: 5,
    validator: ctx.validators[1]?.address as Uint8Array,
  })
  const forged = { ...vote, signature: vote.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) }
  assert.equal(ctx.consensus.step(ctx.state, { type: 'vote', vote: forged, nowMs: 1 }).rejected, 'bad-signature')
  const stranger = { ...vote, validator: new Uint8Array(20).fill(9) }
  assert.equal(ctx.consensus.step(ctx.state, { type: 'vote', vote: stranger, nowMs: 1 }).rejected, 'unknown-validator')
  assert.equal(ctx.consensus.step(ctx.state, { type: 'vote', vote: { ...vote, height: 7 }, nowMs: 1 }).rejected, 'wrong-height')
  const { state } = ctx.consensus.step(ctx.state, { type: 'vote', vote, nowMs: 1 })
  assert.equal(ctx.consensus.step(state, { type: 'vote', vote, nowMs: 1 }).rejected, 'duplicate')
})

test('without empty blocks a height waits for transactions, or for the maximum interval', () => {
  const net = testNet([1, 1, 1, 1], { isCreatingEmptyBlocks: false })
  startAll(net)
  net.run(() => false, 400)
  // Height 1 always starts; then everyone waits: no timer is pending, nothing moves.
  assert.deepEqual(heights(net), [1, 1, 1, 1])
  for (let i = 0; i < 4; i++) net.deliver(i, { type: 'txs-available', nowMs: net.nowMs })
  net.run(() => net.nodes.every((n) => n.decided.length >= 2))
  assert.ok(heights(net).every((h) => h === 2))

  const timed = testNet([1, 1, 1, 1], { isCreatingEmptyBlocks: false, emptyBlocksIntervalMs: 500 })
  startAll(timed)
  timed.run(() => timed.nodes.every((n) => n.decided.length >= 3))
  assert.ok(timed.nodes.every((n) => n.decided.length >= 3))
  const times = timed.nodes[0]?.decided.map((b) => b.header.timeMs) as number[]
  assert.ok((times[2] as number) - (times[1] as number) >= 500, 'blocks no closer than the interval')
})
