import { decode, encode, hashOf, sha256, t, toHex } from '@terrane/codec'
import type { VerifierPool } from '@terrane/crypto'
import { voteSchema, type Vote } from '@terrane/consensus'
import type { P2PNode } from '@terrane/p2p'
import type { BlockStore } from '../storage/block-store.ts'
import type { ConsensusBroadcaster, ConsensusDriver } from './driver.ts'
import { BlockSync, blocksProtocol, syncResponseBytesMax, type DeferrableStore, type VerifiedSignatures } from './block-sync.ts'
import { decodeMessage, encodeMessage, type ConsensusMessage } from './wire.ts'
import { ownRoundState, PeerGossip, type PeerRoundState } from './peer-gossip.ts'

export const consensusChannel = 'consensus'
export { blocksProtocol, syncResponseBytesMax, syncRequestsInFlightMax } from './block-sync.ts'
export const evidenceTopic = 'evidence'
/** Consensus messages carry whole blocks (consensus bounds block bytes at 4 MiB by default). */
export const consensusMessageBytesMax = 8 * 1024 * 1024
/** How often peers exchange status and retransmit what a peer at our height may lack. */
export const gossipIntervalMs = 250
/** Messages at least this large (proposals carrying blocks) are checked for duplicates before decoding. */
export const duplicateCheckBytesMin = 4096
/** Digests of large messages remembered for the duplicate check. */
export const recentMessagesMax = 256

const evidenceSchema = t.struct({ voteA: voteSchema, voteB: voteSchema })

export interface ReactorComponents {
  p2p: P2PNode
  driver: () => ConsensusDriver
  blockStore: BlockStore
  log: (message: string, context?: Record<string, unknown>) => void
  /** The chain id (block sync checks fetched headers against it); without it, block 1's once stored. */
  chainId?: string
  /** The node's verifier pool, for block sync's batch verification; without it, sync runs a one-worker pool. */
  verifier?: VerifierPool
  /** Filled by block sync with pool-verified signatures; pass its `verify` to `createConsensus`. */
  verifiedSignatures?: VerifiedSignatures
  /** The state store, if it can defer its writes during a synced run (see `DeferrableStore`). */
  stateStore?: DeferrableStore
}

/**
 * Connects consensus to the network, as CometBFT's consensus and block-sync
 * reactors do: messages over a direct-stream channel, per-peer state (height and
 * round from status messages), retransmission of the current height's proposal
 * and votes to peers at our height (the transport delivers at most once), and
 * block sync from several peers in parallel when this node is behind.
 */
export class ConsensusReactor implements ConsensusBroadcaster {
  private readonly peers = new Map<string, PeerRoundState>()
  private readonly gossip = new PeerGossip()
  private timer: NodeJS.Timeout | undefined
  private isStopped = false
  private readonly blockSync: BlockSync
  /** Digest of each recent large message -> the height/round we were at when it arrived. */
  private readonly recentLarge = new Map<string, string>()
  /** Encoded proposals by the (immutable) proposal object the reducer state holds. */
  private readonly encodedProposals = new WeakMap<object, Uint8Array>()
  /** Large messages dropped as copies of one already delivered at the same height and round. */
  duplicatesDropped = 0

  constructor(private readonly c: ReactorComponents) {
    this.blockSync = new BlockSync({
      p2p: c.p2p,
      driver: c.driver,
      blockStore: c.blockStore,
      peers: () => this.peers,
      forgetPeer: (peerId) => this.peers.delete(peerId),
      log: c.log,
      ...(c.chainId === undefined ? {} : { chainId: c.chainId }),
      ...(c.verifier === undefined ? {} : { verifier: c.verifier }),
      ...(c.verifiedSignatures === undefined ? {} : { verifiedSignatures: c.verifiedSignatures }),
      ...(c.stateStore === undefined ? {} : { stateStore: c.stateStore }),
    })
  }

  async start(): Promise<void> {
    const { p2p } = this.c
    await p2p.registerChannel(consensusChannel, {
      messageBytesMax: consensusMessageBytesMax,
      messagesPerSecondMax: 20_000,
      burstMessagesMax: 40_000,
    })
    p2p.onMessage(consensusChannel, (peerId, bytes) => this.receive(peerId, bytes))
    await p2p.handle(blocksProtocol, async (_peerId, bytes) => this.blockSync.serve(bytes), {
      requestBytesMax: 1024,
      responseBytesMax: syncResponseBytesMax,
    })
    p2p.subscribe(
      evidenceTopic,
      (_from, bytes) => {
        const { voteA, voteB } = decode(evidenceSchema, bytes)
        this.c.driver().deliver({ type: 'evidence', voteA, voteB, nowMs: Date.now() })
      },
      {
        validate: (_from, bytes) => {
          try {
            decode(evidenceSchema, bytes)
            return 'accept'
          } catch {
            return 'reject'
          }
        },
      },
    )
    p2p.on('peer:disconnect', ({ peerId }) => {
      this.peers.delete(peerId)
      this.gossip.forget(peerId)
    })
    p2p.on('peer:connect', ({ peerId }) => this.sendStatus(peerId))
    this.timer = setInterval(() => this.tick(), gossipIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.isStopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.blockSync.stop()
  }

  /** Heights peers report: for `/ready` and the API's peer view. */
  peerHeights(): Map<string, number> {
    return new Map([...this.peers].map(([id, s]) => [id, s.height]))
  }

  broadcast(message: ConsensusMessage): void {
    const { queued } = this.c.p2p.broadcast(consensusChannel, encodeMessage(message))
    const height = this.c.driver().height
    const nowMs = Date.now()
    for (const peerId of queued) this.gossip.markSent(peerId, height, message, nowMs)
  }

  broadcastEvidence(a: ConsensusMessage & { kind: 'vote' }, b: ConsensusMessage & { kind: 'vote' }): void {
    void this.c.p2p.publish(evidenceTopic, encode(evidenceSchema, { voteA: a.vote, voteB: b.vote })).catch(() => {})
  }

  private receive(peerId: string, bytes: Uint8Array): void {
    if (bytes.length >= duplicateCheckBytesMin && this.isDuplicate(bytes)) return
    let message: ConsensusMessage
    try {
      message = decodeMessage(bytes)
    } catch {
      this.c.p2p.penalize(peerId, 'invalid-data')
      return
    }
    const nowMs = Date.now()
    switch (message.kind) {
      case 'proposal':
        this.c.driver().deliver({ type: 'proposal', proposal: message.proposal, block: message.block, nowMs })
        return
      case 'vote':
        this.c.driver().deliver({ type: 'vote', vote: message.vote, nowMs })
        return
      case 'status': {
        const previous = this.peers.get(peerId)
        const { kind: _, ...peer } = message
        this.peers.set(peerId, peer)
        this.sendLacking(peerId, peer, nowMs)
        if (previous === undefined || previous.height !== message.height) void this.blockSync.maybeStart()
        return
      }
    }
  }

  /**
   * Whether these bytes (a proposal with its block) already reached the driver at the
   * height and round it is still in. Several peers forward a proposal a slow node lacks,
   * and under load each copy cost a full decode (every transaction of the block) and a
   * WAL append before the reducer saw it was a duplicate: the more behind, the more copies.
   * A copy that arrives after the round moved on is decoded again (it may matter now).
   */
  private isDuplicate(bytes: Uint8Array): boolean {
    const digest = toHex(sha256(bytes))
    const { height, round } = this.c.driver().current
    const at = `${height}/${round}`
    if (this.recentLarge.get(digest) === at) {
      this.duplicatesDropped++
      return true
    }
    this.recentLarge.delete(digest)
    this.recentLarge.set(digest, at)
    if (this.recentLarge.size > recentMessagesMax) this.recentLarge.delete(this.recentLarge.keys().next().value as string)
    return false
  }

  private sendStatus(peerId?: string): void {
    const status = encodeMessage({ kind: 'status', ...ownRoundState(this.c.driver().current, this.c.blockStore.baseHeight) })
    if (peerId === undefined) this.c.p2p.broadcast(consensusChannel, status)
    else this.c.p2p.send(peerId, consensusChannel, status)
  }

  private tick(): void {
    if (this.isStopped) return
    this.sendStatus()
    this.blockSync.maybeStart()
  }

  /** Encodes a message; a proposal's bytes (its whole block) are encoded once, whoever it goes to. */
  private encode(message: ConsensusMessage): Uint8Array {
    if (message.kind !== 'proposal') return encodeMessage(message)
    let bytes = this.encodedProposals.get(message.proposal)
    if (bytes === undefined) {
      bytes = encodeMessage(message)
      this.encodedProposals.set(message.proposal, bytes)
    }
    return bytes
  }

  /** Sends a peer at our height what its status says it lacks (see PeerGossip). */
  private sendLacking(peerId: string, peer: PeerRoundState, nowMs: number): void {
    for (const message of this.gossip.plan(this.c.driver().current, peerId, peer, nowMs))
      this.c.p2p.send(peerId, consensusChannel, this.encode(message))
  }
}

/** Identity of a vote for de-duplication in logs and tests. */
export function voteId(vote: Vote): string {
  return toHex(hashOf(voteSchema, vote))
}
