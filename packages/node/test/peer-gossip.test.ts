import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashKey, type Block, type ConsensusState, type Proposal, type Vote, type VoteType } from '@terrane/consensus'
import { ownRoundState, PeerGossip, type PeerRoundState } from '../src/consensus/peer-gossip.ts'
import type { ConsensusMessage } from '../src/consensus/wire.ts'

// Four validators; the state only needs the fields the gossip plan reads.
const addresses = [1, 2, 3, 4].map((b) => new Uint8Array(20).fill(b))
const blockHash = new Uint8Array(32).fill(9)
const block = { header: { height: 5 }, txs: [] } as unknown as Block
const proposal = { height: 5, round: 0, blockHash } as unknown as Proposal

function vote(validator: number, round: number, type: VoteType): Vote {
  return { height: 5, round, type, validator: addresses[validator], blockHash } as unknown as Vote
}

function state(votes: Vote[]): ConsensusState {
  const sets = new Map<string, { votes: Map<string, Vote> }>()
  for (const v of votes) {
    const key = `${v.round}/${v.type}`
    const set = sets.get(key) ?? { votes: new Map() }
    set.votes.set(hashKey(v.validator), v)
    sets.set(key, set)
  }
  return {
    height: 5,
    round: 0,
    validators: { validators: addresses.map((address) => ({ address, power: 10, priority: 0 })) },
    proposals: new Map([[0, proposal]]),
    blocks: new Map([[hashKey(blockHash), block]]),
    votes: sets,
  } as unknown as ConsensusState
}

const kinds = (messages: ConsensusMessage[]) =>
  messages.map((m) => (m.kind === 'vote' ? `${m.vote.type}/${m.vote.round}/${m.vote.validator[0]}` : m.kind)).sort()

test('a peer that has everything of its round is sent nothing', () => {
  const s = state([vote(0, 0, 'prevote'), vote(1, 0, 'prevote')])
  const peer = ownRoundState(s, 1)
  const gossip = new PeerGossip({ forwardAfterMs: 0 })
  assert.deepEqual(gossip.plan(s, 'p', peer, 0), [])
  assert.deepEqual(gossip.plan(s, 'p', peer, 10_000), [])
})

test('what a peer lacks is forwarded after the forward delay, then at most once per resend interval', () => {
  const s = state([vote(0, 0, 'prevote'), vote(1, 0, 'prevote'), vote(2, 0, 'precommit')])
  const peer: PeerRoundState = { ...ownRoundState(state([vote(0, 0, 'prevote')]), 1), hasProposal: false }
  const gossip = new PeerGossip({ forwardAfterMs: 400, resendAfterMs: 1000 })
  assert.deepEqual(gossip.plan(s, 'p', peer, 0), [], 'its author may still be sending it')
  assert.deepEqual(kinds(gossip.plan(s, 'p', peer, 400)), ['precommit/0/3', 'prevote/0/2', 'proposal'])
  assert.deepEqual(gossip.plan(s, 'p', peer, 900), [], 'in flight')
  assert.deepEqual(kinds(gossip.plan(s, 'p', peer, 1400)), ['precommit/0/3', 'prevote/0/2', 'proposal'])
})

test('our own broadcasts count as sent', () => {
  const s = state([vote(0, 0, 'prevote')])
  const peer: PeerRoundState = { ...ownRoundState(state([]), 1), hasProposal: false }
  const gossip = new PeerGossip({ forwardAfterMs: 0, resendAfterMs: 1000 })
  gossip.markSent('p', 5, { kind: 'proposal', proposal, block }, 0)
  gossip.markSent('p', 5, { kind: 'vote', vote: vote(0, 0, 'prevote') }, 0)
  gossip.plan(s, 'p', peer, 500) // first sight: due now (no forward delay), but both were just sent
  assert.deepEqual(gossip.plan(s, 'p', peer, 999), [])
  assert.deepEqual(kinds(gossip.plan(s, 'p', peer, 1000)), ['prevote/0/1', 'proposal'])
})

test('votes of later rounds go to a peer behind in rounds; prevotes of earlier rounds do not', () => {
  const s = state([vote(0, 0, 'prevote'), vote(0, 0, 'precommit'), vote(1, 2, 'prevote')])
  const peer: PeerRoundState = {
    ...ownRoundState(state([]), 1),
    round: 1,
    hasProposal: false,
    prevotes: new Uint8Array(1),
    precommits: new Uint8Array(1),
  }
  const gossip = new PeerGossip({ forwardAfterMs: 0 })
  gossip.plan(s, 'p', peer, 0)
  assert.deepEqual(kinds(gossip.plan(s, 'p', peer, 0)), ['precommit/0/1', 'prevote/2/2'])
})

test('a peer at another height is sent nothing; the schedule resets with the height', () => {
  const s = state([vote(0, 0, 'prevote')])
  const gossip = new PeerGossip({ forwardAfterMs: 0 })
  assert.deepEqual(gossip.plan(s, 'p', { ...ownRoundState(state([]), 1), height: 4 }, 0), [])
  gossip.markSent('p', 4, { kind: 'vote', vote: vote(0, 0, 'prevote') }, 0)
  const peer = ownRoundState(state([]), 1)
  gossip.plan(s, 'p', peer, 1)
  assert.deepEqual(kinds(gossip.plan(s, 'p', peer, 1)), ['prevote/0/1'], 'a mark at height 4 does not hold back height 5')
})

test('the status bitmaps name the validators whose votes this node holds', () => {
  const own = ownRoundState(state([vote(0, 0, 'prevote'), vote(3, 0, 'prevote'), vote(2, 0, 'precommit')]), 7)
  assert.deepEqual([...own.prevotes], [0b1001])
  assert.deepEqual([...own.precommits], [0b0100])
  assert.equal(own.hasProposal, true)
  assert.equal(own.baseHeight, 7)
})
