import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, PeerScores, penaltyPointsDefault, penaltyReasons, TokenBucket } from '../src/index.ts'

test('penalties add up, decay with the half-life, and ban at the threshold', () => {
  const clock = new ManualClock(1_000)
  const scores = new PeerScores(clock, { banScoreThreshold: -100, scoreHalfLifeMs: 60_000, banDurationMs: 30_000 })
  assert.equal(scores.score('p'), 0)
  assert.deepEqual(scores.penalize('p', 'oversize-message'), { peerId: 'p', reason: 'oversize-message', score: -50, isBanned: false })
  clock.advance(60_000)
  assert.equal(scores.score('p'), -25)
  assert.equal(scores.penalize('p', 'invalid-gossip').score, -50)
  assert.equal(scores.isBanned('p'), false)
  const outcome = scores.penalize('p', 'unsolicited-response')
  assert.deepEqual(outcome, { peerId: 'p', reason: 'unsolicited-response', score: -100, isBanned: true, bannedUntilMs: 91_000 })
  assert.equal(scores.isBanned('p'), true)
  assert.equal(scores.bannedUntilMs('p'), 91_000)
  // Further penalties during a ban change nothing.
  assert.equal(scores.penalize('p', 'invalid-data').isBanned, true)
  assert.equal(scores.bannedUntilMs('p'), 91_000)
  clock.advance(29_999)
  assert.equal(scores.isBanned('p'), true)
  clock.advance(1)
  assert.equal(scores.isBanned('p'), false)
  assert.equal(scores.score('p'), 0)
  assert.equal(scores.isBanned('other'), false)
})

test('provably invalid data bans at once with the default table', () => {
  const scores = new PeerScores(new ManualClock())
  for (const reason of ['invalid-data', 'lying-about-height', 'block-part-mismatch'] as const) {
    assert.equal(scores.penalize(reason, reason).isBanned, true, reason)
  }
  assert.equal(scores.penalize('noisy', 'rate-limit-exceeded').isBanned, false)
  assert.deepEqual(penaltyReasons.sort(), Object.keys(penaltyPointsDefault).sort())
})

test('manual ban and unban; invalid settings are refused', () => {
  const clock = new ManualClock()
  const scores = new PeerScores(clock)
  assert.equal(scores.ban('p', 10), 10)
  assert.equal(scores.isBanned('p'), true)
  scores.unban('p')
  assert.equal(scores.isBanned('p'), false)
  assert.throws(() => new PeerScores(clock, { banScoreThreshold: 0 }), RangeError)
  assert.throws(() => new PeerScores(clock, { scoreHalfLifeMs: 0 }), RangeError)
  assert.throws(() => new PeerScores(clock, { penaltyPoints: { 'invalid-data': -1 } }), RangeError)
  assert.throws(() => clock.advance(-1), RangeError)
})

test('token bucket: capacity is the burst, the clock refills it up to capacity', () => {
  const clock = new ManualClock()
  const bucket = new TokenBucket(clock, 3, 2)
  assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false])
  clock.advance(499)
  assert.equal(bucket.tryTake(), false)
  clock.advance(1)
  assert.equal(bucket.tryTake(), true)
  clock.advance(60_000)
  assert.equal(bucket.tokens, 3)
  assert.equal(bucket.tryTake(4), false)
  assert.equal(bucket.tryTake(3), true)
  assert.throws(() => new TokenBucket(clock, 0, 1), RangeError)
})
