import { test } from 'node:test'
import assert from 'node:assert/strict'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { ConsensusError, memorySignerStateStore, PrivValidator } from '../src/index.ts'
import { chainId, keyOf } from './helpers.ts'

const signer = keyOf(0)
const validator = accountIdOfPublicKey(signer.publicKey)
const vote = { type: 'prevote' as const, height: 7, round: 1, blockHash: new Uint8Array(32).fill(3), timeMs: 1_000, validator }

test('after a restart, the same vote with a later timestamp gets the signed timestamp and signature back', () => {
  const store = memorySignerStateStore()
  const first = new PrivValidator(signer, store, chainId).signVote(vote)
  const restarted = new PrivValidator(signer, store, chainId)
  const again = restarted.signVote({ ...vote, timeMs: 5_000 })
  assert.equal(again.timeMs, 1_000)
  assert.deepEqual(again.signature, first.signature)
})

test('a different block at the same step is still refused', () => {
  const store = memorySignerStateStore()
  new PrivValidator(signer, store, chainId).signVote(vote)
  const restarted = new PrivValidator(signer, store, chainId)
  assert.throws(
    () => restarted.signVote({ ...vote, blockHash: new Uint8Array(32).fill(4), timeMs: 5_000 }),
    (err: unknown) => err instanceof ConsensusError && err.code === 'CONSENSUS_DOUBLE_SIGN_REFUSED',
  )
  assert.throws(() => restarted.signVote({ ...vote, blockHash: null }), ConsensusError)
})

test('a proposal re-signed after a restart keeps its original time', () => {
  const store = memorySignerStateStore()
  const proposal = { height: 9, round: 0, polRound: -1, blockHash: new Uint8Array(32).fill(1), timeMs: 2_000, proposer: validator }
  const first = new PrivValidator(signer, store, chainId).signProposal(proposal)
  const again = new PrivValidator(signer, store, chainId).signProposal({ ...proposal, timeMs: 9_000 })
  assert.equal(again.timeMs, 2_000)
  assert.deepEqual(again.signature, first.signature)
  assert.throws(
    () => new PrivValidator(signer, store, chainId).signProposal({ ...proposal, blockHash: new Uint8Array(32).fill(2) }),
    ConsensusError,
  )
})
