import type { Clock } from './clock.ts'
import { banDurationMsDefault, banScoreThresholdDefault, scoreHalfLifeMsDefault, scoredPeersMax } from './limits.ts'

/**
 * Why a peer was penalised. These names are the vocabulary of logs and
 * dashboards; the transport reports the first four itself, the consumer
 * (consensus, block sync) reports the rest through `penalize`.
 */
export type PenaltyReason =
  /** A frame larger than the channel's or protocol's maximum. */
  | 'oversize-message'
  /** More messages than the channel's token bucket allows. */
  | 'rate-limit-exceeded'
  /** A frame that could not be decoded (bad length prefix, stream garbage). */
  | 'malformed-frame'
  /** A gossip message the topic validator rejected. */
  | 'invalid-gossip'
  /** A message the protocol does not allow at this point (e.g. a vote for a height not started). */
  | 'protocol-violation'
  /** Data that failed the consumer's checks (bad signature, undecodable payload). */
  | 'invalid-data'
  /** A peer claimed a height it could not serve. */
  | 'lying-about-height'
  /** A block part whose index or hash does not match its Merkle proof. */
  | 'block-part-mismatch'
  /** A response nobody asked for, or for a different request than the one sent. */
  | 'unsolicited-response'
  /** A request that timed out or was answered with an error. */
  | 'unresponsive'

/**
 * Points subtracted per reason. With the default threshold of -100, one piece of
 * provably invalid data bans at once; protocol noise (rate limit, timeouts) needs
 * many repetitions within a half-life.
 */
export const penaltyPointsDefault: Readonly<Record<PenaltyReason, number>> = {
  'oversize-message': 50,
  'rate-limit-exceeded': 5,
  'malformed-frame': 50,
  'invalid-gossip': 25,
  'protocol-violation': 50,
  'invalid-data': 100,
  'lying-about-height': 100,
  'block-part-mismatch': 100,
  'unsolicited-response': 50,
  unresponsive: 10,
}

export const penaltyReasons = Object.keys(penaltyPointsDefault) as PenaltyReason[]

export interface PeerScoresInit {
  /** @default -100 */
  banScoreThreshold?: number
  /** @default 3_600_000 (1 h) */
  banDurationMs?: number
  /** @default 600_000 (10 min) */
  scoreHalfLifeMs?: number
  /** Overrides for single reasons; the rest keep their defaults. */
  penaltyPoints?: Partial<Record<PenaltyReason, number>>
}

/** The result of one penalty: the new score, and whether it crossed into a ban. */
export interface PenaltyOutcome {
  peerId: string
  reason: PenaltyReason
  score: number
  isBanned: boolean
  /** Set when this penalty started a ban. */
  bannedUntilMs?: number
}

interface ScoreEntry {
  score: number
  updatedMs: number
}

/**
 * Per-peer scores with exponential decay towards zero and time-limited bans.
 * Pure bookkeeping: no sockets. The node disconnects and refuses banned peers.
 */
export class PeerScores {
  readonly banScoreThreshold: number
  readonly banDurationMs: number
  readonly scoreHalfLifeMs: number
  readonly penaltyPoints: Readonly<Record<PenaltyReason, number>>
  readonly #clock: Clock
  readonly #scores = new Map<string, ScoreEntry>()
  readonly #bannedUntilMs = new Map<string, number>()

  constructor(clock: Clock, init: PeerScoresInit = {}) {
    this.#clock = clock
    this.banScoreThreshold = init.banScoreThreshold ?? banScoreThresholdDefault
    this.banDurationMs = init.banDurationMs ?? banDurationMsDefault
    this.scoreHalfLifeMs = init.scoreHalfLifeMs ?? scoreHalfLifeMsDefault
    this.penaltyPoints = { ...penaltyPointsDefault, ...init.penaltyPoints }
    if (!(this.banScoreThreshold < 0)) throw new RangeError('banScoreThreshold must be negative')
    if (!(this.banDurationMs >= 0)) throw new RangeError('banDurationMs must be >= 0')
    if (!(this.scoreHalfLifeMs > 0)) throw new RangeError('scoreHalfLifeMs must be > 0')
    for (const [reason, points] of Object.entries(this.penaltyPoints)) {
      if (!(points >= 0)) throw new RangeError(`penaltyPoints.${reason} must be >= 0`)
    }
  }

  /** Current score (0 is neutral, lower is worse), decayed to now. */
  score(peerId: string): number {
    const entry = this.#scores.get(peerId)
    if (entry === undefined) return 0
    return this.#decayed(entry, this.#clock.nowMs())
  }

  isBanned(peerId: string): boolean {
    const untilMs = this.#bannedUntilMs.get(peerId)
    if (untilMs === undefined) return false
    if (this.#clock.nowMs() < untilMs) return true
    this.#bannedUntilMs.delete(peerId)
    return false
  }

  bannedUntilMs(peerId: string): number | undefined {
    return this.isBanned(peerId) ? this.#bannedUntilMs.get(peerId) : undefined
  }

  /** Subtracts the reason's points; bans the peer when the score reaches the threshold. */
  penalize(peerId: string, reason: PenaltyReason): PenaltyOutcome {
    const nowMs = this.#clock.nowMs()
    if (this.isBanned(peerId)) return { peerId, reason, score: this.score(peerId), isBanned: true }
    const entry = this.#scores.get(peerId)
    const score = (entry === undefined ? 0 : this.#decayed(entry, nowMs)) - this.penaltyPoints[reason]
    if (score <= this.banScoreThreshold) {
      const untilMs = nowMs + this.banDurationMs
      this.#bannedUntilMs.set(peerId, untilMs)
      // A ban is the whole punishment: the peer comes back neutral when it ends.
      this.#scores.delete(peerId)
      return { peerId, reason, score, isBanned: true, bannedUntilMs: untilMs }
    }
    this.#remember(peerId, { score, updatedMs: nowMs })
    return { peerId, reason, score, isBanned: false }
  }

  /** Bans at once, whatever the score (an operator decision, or a proven equivocation). */
  ban(peerId: string, durationMs = this.banDurationMs): number {
    const untilMs = this.#clock.nowMs() + durationMs
    this.#bannedUntilMs.set(peerId, untilMs)
    this.#scores.delete(peerId)
    return untilMs
  }

  unban(peerId: string): void {
    this.#bannedUntilMs.delete(peerId)
  }

  #decayed(entry: ScoreEntry, nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - entry.updatedMs)
    return entry.score * 2 ** (-elapsedMs / this.scoreHalfLifeMs)
  }

  #remember(peerId: string, entry: ScoreEntry): void {
    this.#scores.delete(peerId)
    this.#scores.set(peerId, entry)
    // Map iteration is insertion order: the first key is the least recently penalised.
    while (this.#scores.size > scoredPeersMax) {
      const oldest = this.#scores.keys().next()
      if (oldest.done === true) break
      this.#scores.delete(oldest.value)
    }
  }
}
