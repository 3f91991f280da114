import { hashKey, type ConsensusState, type Vote, type VoteType } from '@terrane/consensus'
import type { ConsensusMessage } from './wire.ts'

/**
 * What a peer said it holds at its height and round (CometBFT's PeerRoundState,
 * reduced): whether it has the round's proposal, and which validators' prevotes
 * and precommits it has, as bitmaps over the height's validator order.
 */
export interface PeerRoundState {
  height: number
  round: number
  baseHeight: number
  hasProposal: boolean
  prevotes: Uint8Array
  precommits: Uint8Array
}

export interface PeerGossipTiming {
  /** A message sent to a peer is not sent again before this (it may still be in flight). @default 1000 */
  resendAfterMs?: number
  /**
   * A message this node did not send itself (a vote or proposal it received) is
   * forwarded only when the peer still lacks it after this long: usually its author's
   * own copy arrives first, and forwarding at once would double the traffic of blocks.
   * @default 400
   */
  forwardAfterMs?: number
}

type Candidate = { key: string; message: ConsensusMessage }

/**
 * Decides what each peer at our height lacks, as CometBFT's gossip routines do:
 * a peer's status (height, round, proposal held, vote bitmaps) says what it has, and
 * only the rest is sent, each item at most once per `resendAfterMs` per peer. Without
 * it, a node that re-sent everything whenever a round was slow spent its CPU decoding
 * duplicate blocks exactly when it was already behind.
 */
export class PeerGossip {
  /** Per peer: the height the schedule is for, and when each item may be sent next. */
  private readonly due = new Map<string, { height: number; at: Map<string, number> }>()
  private readonly resendAfterMs: number
  private readonly forwardAfterMs: number

  constructor(timing: PeerGossipTiming = {}) {
    this.resendAfterMs = timing.resendAfterMs ?? 1000
    this.forwardAfterMs = timing.forwardAfterMs ?? 400
  }

  /** Records that `message` went to `peerId` (our own broadcasts). */
  markSent(peerId: string, height: number, message: ConsensusMessage, nowMs: number): void {
    const key = messageKey(message)
    if (key !== undefined) this.schedule(peerId, height).set(key, nowMs + this.resendAfterMs)
  }

  forget(peerId: string): void {
    this.due.delete(peerId)
  }

  /** The messages to send `peerId` now, given its last status. */
  plan(state: Readonly<ConsensusState>, peerId: string, peer: PeerRoundState, nowMs: number): ConsensusMessage[] {
    if (peer.height !== state.height) return []
    const due = this.schedule(peerId, state.height)
    const out: ConsensusMessage[] = []
    for (const { key, message } of lacking(state, peer)) {
      const at = due.get(key)
      if (at === undefined) {
        due.set(key, nowMs + this.forwardAfterMs)
        continue
      }
      if (nowMs < at) continue
      due.set(key, nowMs + this.resendAfterMs)
      out.push(message)
    }
    return out
  }

  private schedule(peerId: string, height: number): Map<string, number> {
    let entry = this.due.get(peerId)
    if (entry === undefined || entry.height !== height) {
      entry = { height, at: new Map() }
      this.due.set(peerId, entry)
    }
    return entry.at
  }
}

/** This node's round state as a peer would see it in our status message. */
export function ownRoundState(state: Readonly<ConsensusState>, baseHeight: number): PeerRoundState {
  const proposal = state.proposals.get(state.round)
  return {
    height: state.height,
    round: state.round,
    baseHeight,
    hasProposal: proposal !== undefined && state.blocks.has(hashKey(proposal.blockHash)),
    prevotes: voteBitmap(state, state.round, 'prevote'),
    precommits: voteBitmap(state, state.round, 'precommit'),
  }
}

function voteBitmap(state: Readonly<ConsensusState>, round: number, type: VoteType): Uint8Array {
  const validators = state.validators.validators
  const bitmap = new Uint8Array(Math.ceil(validators.length / 8))
  const set = state.votes.get(`${round}/${type}`)
  if (set === undefined) return bitmap
  validators.forEach((v, i) => {
    if (set.votes.has(hashKey(v.address))) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
  })
  return bitmap
}

function hasBit(bitmap: Uint8Array, index: number): boolean {
  return (((bitmap[index >> 3] ?? 0) >> (index & 7)) & 1) === 1
}

/**
 * What the peer may lack: the proposal of its round; votes of its round missing from
 * its bitmaps; every vote of later rounds (they let it skip ahead); precommits of
 * earlier rounds (a decision may rest on them).
 */
function* lacking(state: Readonly<ConsensusState>, peer: PeerRoundState): Generator<Candidate> {
  const proposal = state.proposals.get(peer.round)
  const block = proposal === undefined ? undefined : state.blocks.get(hashKey(proposal.blockHash))
  if (proposal !== undefined && block !== undefined && !peer.hasProposal)
    yield { key: `p/${proposal.round}`, message: { kind: 'proposal', proposal, block } }
  const indexOf = new Map(state.validators.validators.map((v, i) => [hashKey(v.address), i]))
  for (const [setKey, set] of state.votes) {
    const [roundText, type] = setKey.split('/') as [string, VoteType]
    const round = Number(roundText)
    if (round < peer.round && type === 'prevote') continue
    for (const [validator, vote] of set.votes) {
      if (round === peer.round) {
        const index = indexOf.get(validator)
        const bitmap = type === 'prevote' ? peer.prevotes : peer.precommits
        if (index !== undefined && hasBit(bitmap, index)) continue
      }
      yield { key: voteKey(vote), message: { kind: 'vote', vote } }
    }
  }
}

function voteKey(vote: Vote): string {
  return `v/${vote.round}/${vote.type}/${hashKey(vote.validator)}`
}

function messageKey(message: ConsensusMessage): string | undefined {
  if (message.kind === 'proposal') return `p/${message.proposal.round}`
  if (message.kind === 'vote') return voteKey(message.vote)
  return undefined
}
