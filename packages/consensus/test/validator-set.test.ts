import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  applyValidatorUpdates,
  createValidatorSet,
  finishSet,
  incrementProposerPriority,
  isOneThird,
  isTwoThirds,
  proposerOf,
  ConsensusError,
  type PrioritizedValidator,
  type ValidatorSet,
} from '../src/index.ts'
import { validatorsOf, keyOf } from './helpers.ts'

const utf8 = new TextEncoder()
const named = (name: string, power: number): PrioritizedValidator => ({
  address: utf8.encode(name),
  publicKey: new Uint8Array(32),
  power,
  priority: 0,
})
const nameOf = (set: ValidatorSet) => new TextDecoder().decode(set.proposer)

/** NewValidatorSet as in CometBFT: all added at once, then one increment. */
function cometSet(vals: PrioritizedValidator[]): ValidatorSet {
  return incrementProposerPriority(finishSet(vals, vals, null), 1)
}

test('proposer sequence matches CometBFT TestProposerSelection1 (foo 1000, bar 300, baz 330)', () => {
  // types/validator_set_test.go, 99 selections.
  const expected =
    'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo'
  let set = cometSet([named('foo', 1000), named('bar', 300), named('baz', 330)])
  const got: string[] = []
  for (let i = 0; i < 99; i++) {
    got.push(nameOf(set))
    set = incrementProposerPriority(set, 1)
  }
  assert.equal(got.join(' '), expected)
})

test('equal powers rotate in address order', () => {
  let set = cometSet([named('c', 1), named('a', 1), named('b', 1)])
  const got: string[] = []
  for (let i = 0; i < 6; i++) {
    got.push(nameOf(set))
    set = incrementProposerPriority(set, 1)
  }
  assert.equal(got.join(''), 'abcabc')
})

test('proposer frequency is proportional to power', () => {
  let set = cometSet([named('a', 1), named('b', 2), named('c', 7)])
  const counts: Record<string, number> = {}
  for (let i = 0; i < 1000; i++) {
    counts[nameOf(set)] = (counts[nameOf(set)] ?? 0) + 1
    set = incrementProposerPriority(set, 1)
  }
  assert.deepEqual(counts, { a: 100, b: 200, c: 700 })
})

test('round r proposer is r increments away from round 0 (CometBFT enterNewRound)', () => {
  const set = cometSet([named('a', 1), named('b', 1), named('c', 1), named('d', 1)])
  assert.equal(new TextDecoder().decode(proposerOf(set, 0)), 'a')
  assert.equal(new TextDecoder().decode(proposerOf(set, 1)), 'b')
  assert.equal(new TextDecoder().decode(proposerOf(set, 5)), 'b')
})

test('validator updates: add, change power, remove; sorted by power then address', () => {
  const { validators } = validatorsOf([5, 3, 2])
  const set = createValidatorSet(validators)
  assert.equal(set.totalPower, 10)
  const newcomer = keyOf(9)
  const next = applyValidatorUpdates(set, [
    { publicKey: newcomer.publicKey, power: 4 },
    { publicKey: validators[0]?.publicKey as Uint8Array, power: 0 },
    { publicKey: validators[2]?.publicKey as Uint8Array, power: 6 },
  ])
  assert.deepEqual(
    next.validators.map((v) => v.power),
    [6, 4, 3],
  )
  assert.equal(next.totalPower, 13)
  // A newcomer starts behind: -1.125 * total before centring, so it does not propose next.
  const newcomerEntry = next.validators.find((v) => v.power === 4) as PrioritizedValidator
  assert.ok(newcomerEntry.priority < 0)
  assert.throws(
    () => applyValidatorUpdates(set, [{ publicKey: newcomer.publicKey, power: 0 }]),
    (e: ConsensusError) => e.code === 'CONSENSUS_INVALID_VALIDATOR_SET',
  )
  assert.throws(
    () =>
      applyValidatorUpdates(
        set,
        validators.map((v) => ({ publicKey: v.publicKey, power: 0 })),
      ),
    (e: ConsensusError) => e.code === 'CONSENSUS_INVALID_VALIDATOR_SET',
  )
  assert.throws(() => createValidatorSet([{ ...(validators[0] as PrioritizedValidator), address: new Uint8Array(20) }]), ConsensusError)
})

test('quorum thresholds are strict and integer-exact', () => {
  assert.equal(isTwoThirds(2, 3), false)
  assert.equal(isTwoThirds(3, 4), true)
  assert.equal(isTwoThirds(66, 99), false)
  assert.equal(isTwoThirds(67, 99), true)
  assert.equal(isOneThird(1, 3), false)
  assert.equal(isOneThird(2, 4), true)
  assert.equal(isOneThird(34, 100), true)
})
