import { decode, encode, hashOf, t, toHex } from '@terrane/codec'
import { voteSchema, type Block, type Commit, type ConsensusEvent, type Vote } from '@terrane/consensus'
import type { P2PNode } from '@terrane/p2p'
import type { BlockStore } from '../storage/block-store.ts'
import type { ConsensusBroadcaster, ConsensusDriver } from './driver.ts'
import {
  blocksRequestSchema,
  blocksResponseSchema,
  decodeMessage,
  encodeMessage,
  syncBlocksPerRequestMax,
  type BlocksResponse,
  type ConsensusMessage,
} from './wire.ts'
import { ownRoundState, PeerGossip, type PeerRoundState } from './peer-gossip.ts'

export const consensusChannel = 'consensus'
export const blocksProtocol = 'blocks'
export const evidenceTopic = 'evidence'
/** Consensus messages carry whole blocks (consensus bounds block bytes at 4 MiB by default). */
export const consensusMessageBytesMax = 8 * 1024 * 1024
/** Bound on one block-sync response. */
export const syncResponseBytesMax = 8 * 1024 * 1024
/** Requests in flight while catching up, each to a different peer where possible. */
export const syncRequestsInFlightMax = 4
/** How often peers exchange status and retransmit what a peer at our height may lack. */
export const gossipIntervalMs = 250

const evidenceSchema = t.struct({ voteA: voteSchema, voteB: voteSchema })

export interface ReactorComponents {
  p2p: P2PNode
  driver: () => ConsensusDriver
  blockStore: BlockStore
  log: (message: string, context?: Record<string, unknown>) => void
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
  private isSyncing = false
  private isStopped = false

  constructor(private readonly c: ReactorComponents) {}

  async start(): Promise<void> {
    const { p2p } = this.c
    await p2p.registerChannel(consensusChannel, {
      messageBytesMax: consensusMessageBytesMax,
      messagesPerSecondMax: 20_000,
      burstMessagesMax: 40_000,
    })
    p2p.onMessage(consensusChannel, (peerId, bytes) => this.receive(peerId, bytes))
    await p2p.handle(blocksProtocol, async (_peerId, bytes) => this.serveBlocks(bytes), {
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

  stop(): void {
    this.isStopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
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
        if (previous === undefined || previous.height !== message.height) this.maybeSync()
        return
      }
    }
  }

  private sendStatus(peerId?: string): void {
    const status = encodeMessage({ kind: 'status', ...ownRoundState(this.c.driver().current, this.c.blockStore.baseHeight) })
    if (peerId === undefined) this.c.p2p.broadcast(consensusChannel, status)
    else this.c.p2p.send(peerId, consensusChannel, status)
  }

  private tick(): void {
    if (this.isStopped) return
    this.sendStatus()
    this.maybeSync()
  }

  /** Sends a peer at our height what its status says it lacks (see PeerGossip). */
  private sendLacking(peerId: string, peer: PeerRoundState, nowMs: number): void {
    for (const message of this.gossip.plan(this.c.driver().current, peerId, peer, nowMs))
      this.c.p2p.send(peerId, consensusChannel, encodeMessage(message))
  }

  private async serveBlocks(bytes: Uint8Array): Promise<Uint8Array> {
    const request = decode(blocksRequestSchema, bytes)
    const items: BlocksResponse['items'] = []
    let size = 0
    const last = Math.min(this.c.blockStore.height, request.fromHeight + request.count - 1)
    for (let height = request.fromHeight; height <= last; height++) {
      const block = await this.c.blockStore.block(height)
      const commit = await this.c.blockStore.commit(height)
      if (block === undefined || commit === undefined) break
      size += estimateBytes(block)
      if (size > syncResponseBytesMax / 2 && items.length > 0) break
      items.push({ block, commit })
    }
    return encode(blocksResponseSchema, { items })
  }

  /** Fetches decided blocks when a peer is at least one height ahead. */
  private maybeSync(): void {
    if (this.isSyncing || this.isStopped) return
    const height = this.c.driver().height
    const ahead = [...this.peers].filter(([, p]) => p.height > height)
    if (ahead.length === 0) return
    this.isSyncing = true
    void this.sync().finally(() => {
      this.isSyncing = false
    })
  }

  private async sync(): Promise<void> {
    const driver = this.c.driver()
    for (;;) {
      if (this.isStopped) return
      const from = driver.height
      const sources = [...this.peers].filter(([, p]) => p.height > from && p.baseHeight <= from)
      if (sources.length === 0) return
      // Contiguous ranges, one per peer, fetched in parallel and applied in order.
      const requests: Array<Promise<{ peerId: string; items: BlocksResponse['items'] } | undefined>> = []
      let next = from
      for (let i = 0; i < Math.min(syncRequestsInFlightMax, sources.length * 2); i++) {
        const [peerId, peer] = sources[i % sources.length] as [string, PeerRoundState]
        const count = Math.min(syncBlocksPerRequestMax, peer.height - next)
        if (count <= 0) break
        requests.push(this.fetch(peerId, next, count))
        next += count
      }
      if (requests.length === 0) return
      const responses = await Promise.all(requests)
      let progressed = false
      for (const response of responses) {
        if (response === undefined) break
        for (const { block, commit } of response.items) {
          if (block.header.height !== driver.height) continue
          driver.deliver(commitEvent(block, commit))
          await driver.idle()
          if (driver.height <= block.header.height) {
            // The commit did not verify against the validator set we know.
            this.c.p2p.penalize(response.peerId, 'invalid-data')
            return
          }
          progressed = true
        }
      }
      if (!progressed) return
    }
  }

  private async fetch(
    peerId: string,
    fromHeight: number,
    count: number,
  ): Promise<{ peerId: string; items: BlocksResponse['items'] } | undefined> {
    try {
      const bytes = await this.c.p2p.request(peerId, blocksProtocol, encode(blocksRequestSchema, { fromHeight, count }), {
        timeoutMs: 10_000,
      })
      const response = decode(blocksResponseSchema, bytes)
      // Only what we asked for: consecutive heights from `fromHeight`.
      const isAsked = response.items.every(
        (item, i) => item.block.header.height === fromHeight + i && item.commit.height === fromHeight + i,
      )
      if (!isAsked || response.items.length > count) {
        this.c.p2p.penalize(peerId, 'unsolicited-response')
        return undefined
      }
      if (response.items.length === 0) {
        // It said it was ahead but has nothing to give.
        this.c.p2p.penalize(peerId, 'lying-about-height')
        this.peers.delete(peerId)
        return undefined
      }
      return { peerId, items: response.items }
    } catch (err) {
      this.c.log('Block sync request failed', { peerId, error: (err as Error).message })
      this.c.p2p.penalize(peerId, 'unresponsive')
      return undefined
    }
  }
}

function commitEvent(block: Block, commit: Commit): ConsensusEvent {
  return { type: 'commit', block, commit, nowMs: Date.now() }
}

function estimateBytes(block: Block): number {
  let size = 1024
  for (const tx of block.txs) size += tx.length + 8
  return size
}

/** Identity of a vote for de-duplication in logs and tests. */
export function voteId(vote: Vote): string {
  return toHex(hashOf(voteSchema, vote))
}
