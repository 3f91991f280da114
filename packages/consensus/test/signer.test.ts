import { test } from 'node:test'
import assert from 'node:assert/strict'
import { verifyInDomain } from '@terrane/crypto'
import { PrivValidator, memorySignerStateStore, voteSignBytes, ConsensusError, type Vote } from '../src/index.ts'
import { chainId, keyOf } from './helpers.ts'

const validator = new Uint8Array(20).fill(1)
const vote = (height: number, round: number, type: Vote['type'], blockHash: Uint8Array | null, timeMs = 10): Omit<Vote, 'signature'> => ({
  type,
  height,
  round,
  blockHash,
  timeMs,
  validator,
})
const refused = (e: unknown) => e instanceof ConsensusError && e.code === 'CONSENSUS_DOUBLE_SIGN_REFUSED'

test('signatures verify in the vote domain and the state is persisted first', () => {
  const store = memorySignerStateStore()
  const pv = new PrivValidator(keyOf(0), store, chainId)
  const v = pv.signVote(vote(1, 0, 'prevote', null))
  assert.ok(verifyInDomain(keyOf(0).publicKey, { chainId, kind: 'vote' }, voteSignBytes(v), v.signature))
  assert.deepEqual(store.state?.signature, v.signature)
  assert.equal(store.state?.height, 1)
})

test('refuses regressions in height, round and step', () => {
  const pv = new PrivValidator(keyOf(0), memorySignerStateStore(), chainId)
  pv.signVote(vote(5, 2, 'precommit', null))
  assert.throws(() => pv.signVote(vote(4, 9, 'precommit', null)), refused)
  assert.throws(() => pv.signVote(vote(5, 1, 'precommit', null)), refused)
  assert.throws(() => pv.signVote(vote(5, 2, 'prevote', null)), refused)
  assert.throws(
    () => pv.signProposal({ height: 5, round: 2, polRound: -1, blockHash: new Uint8Array(32), timeMs: 1, proposer: validator }),
    refused,
  )
  assert.ok(pv.signVote(vote(5, 3, 'prevote', null)).signature.length === 64)
})

test('re-signs the same step only for the same vote, with the same signature and time', () => {
  const pv = new PrivValidator(keyOf(0), memorySignerStateStore(), chainId)
  const a = pv.signVote(vote(3, 0, 'prevote', new Uint8Array(32).fill(7)))
  assert.deepEqual(pv.signVote(vote(3, 0, 'prevote', new Uint8Array(32).fill(7))).signature, a.signature)
  assert.throws(() => pv.signVote(vote(3, 0, 'prevote', new Uint8Array(32).fill(8))), refused)
  // Only the timestamp differs (a restart rebuilt the vote later): CometBFT's FilePV rule.
  const later = pv.signVote(vote(3, 0, 'prevote', new Uint8Array(32).fill(7), 11))
  assert.deepEqual(later.signature, a.signature)
  assert.equal(later.timeMs, a.timeMs)
})

test('the protection survives a restart from the store', () => {
  const store = memorySignerStateStore()
  new PrivValidator(keyOf(0), store, chainId).signVote(vote(8, 1, 'precommit', new Uint8Array(32)))
  const restarted = new PrivValidator(keyOf(0), store, chainId)
  assert.throws(() => restarted.signVote(vote(8, 1, 'precommit', null)), refused)
  assert.throws(() => restarted.signVote(vote(8, 0, 'prevote', null)), refused)
})

test('a failing store means no signature', () => {
  const pv = new PrivValidator(
    keyOf(0),
    {
      load: () => null,
      save: () => {
        throw new Error('disk full')
      },
    },
    chainId,
  )
  assert.throws(
    () => pv.signVote(vote(1, 0, 'prevote', null)),
    (e: unknown) => e instanceof ConsensusError && e.code === 'CONSENSUS_SIGNER_STORE',
  )
  assert.equal(pv.lastSigned, null)
})
