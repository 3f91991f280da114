import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { gossipsub, StrictNoSign, TopicValidatorResult } from '@libp2p/gossipsub'
import type { GossipSub, GossipsubMessage } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { Connection, Libp2p, Logger, PeerId, PeerInfo, Stream } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import type { KadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { LengthPrefixedDecoder, lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { systemClock } from './clock.ts'
import type { Clock } from './clock.ts'
import { P2PError, P2PErrorCode } from './errors.ts'
import {
  bootstrapDelayMsDefault,
  channelBurstMessagesMaxDefault,
  channelInboundStreamsMax,
  channelMessageBytesMaxCeiling,
  channelMessageBytesMaxDefault,
  channelMessagesPerSecondMaxDefault,
  connectionsMaxDefault,
  discoveryIntervalMsDefault,
  gossipMessageBytesMaxDefault,
  handlerTimeoutMsDefault,
  pingTimeoutMsDefault,
  requestBurstMaxDefault,
  requestBytesMaxDefault,
  requestInboundStreamsMax,
  requestsPerSecondMaxDefault,
  requestTimeoutMsDefault,
  responseBytesMaxDefault,
  scoredPeersMax,
  sendQueueBytesMaxDefault,
  sendQueueMessagesMaxDefault,
} from './limits.ts'
import { OutboundChannel } from './outbound-channel.ts'
import { PeerScores } from './scores.ts'
import { serialPing } from './serial-ping.ts'
import type { PeerScoresInit, PenaltyOutcome, PenaltyReason } from './scores.ts'
import { TokenBucket } from './token-bucket.ts'

export interface P2PNodeInit {
  /** 32-byte Ed25519 seed. The same seed gives the same peer id on every start. */
  privateKeySeed: Uint8Array
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listenAddresses?: string[]
  /** Addresses to advertise instead of the listen addresses (NAT, containers). */
  announceAddresses?: string[]
  /** Multiaddrs ending in /p2p/<peerId>. One is enough: the DHT finds the rest. */
  bootstrapAddresses?: string[]
  /** Time source for scoring and rate limits. @default the process's monotonic clock */
  clock?: Clock
  scoring?: PeerScoresInit
  /** @default 64 */
  connectionsMax?: number
  /** @default 30_000 */
  discoveryIntervalMs?: number
  /** @default 100 */
  bootstrapDelayMs?: number
  /** @default 1 MiB */
  gossipMessageBytesMax?: number
}

export interface ChannelInit {
  /** Frames above this size close the stream and penalise the sender. @default 1 MiB */
  messageBytesMax?: number
  /** Token-bucket refill rate per peer. @default 10_000 */
  messagesPerSecondMax?: number
  /** Token-bucket capacity per peer. @default 20_000 */
  burstMessagesMax?: number
  /** @default 4096 */
  sendQueueMessagesMax?: number
  /** @default 32 MiB */
  sendQueueBytesMax?: number
}

export interface RequestProtocolInit {
  /** Larger requests are refused and penalised. @default 64 KiB */
  requestBytesMax?: number
  /** The handler must not answer with more than this. @default 8 MiB */
  responseBytesMax?: number
  /** @default 10_000 */
  handlerTimeoutMs?: number
  /** @default 200 */
  requestsPerSecondMax?: number
  /** @default 400 */
  requestBurstMax?: number
}

export interface RequestOptions {
  signal?: AbortSignal
  /** @default 10_000 */
  timeoutMs?: number
  /** Larger responses fail with P2P_RESPONSE_TOO_LARGE and penalise the responder. @default 8 MiB */
  responseBytesMax?: number
}

/** What became of one `send`. Only `queued` means the bytes will be written. */
export type SendVerdict = 'queued' | 'queue-full' | 'not-connected' | 'banned'

export interface BroadcastResult {
  queued: string[]
  dropped: Array<{ peerId: string; verdict: Exclude<SendVerdict, 'queued'> }>
}

/** A gossip validator's answer: `reject` penalises the peer that forwarded the message. */
export type GossipVerdict = 'accept' | 'reject' | 'ignore'
export type GossipValidator = (peerId: string, bytes: Uint8Array) => GossipVerdict | Promise<GossipVerdict>
export type MessageHandler = (peerId: string, bytes: Uint8Array) => void
export type RequestHandler = (peerId: string, bytes: Uint8Array, options: { signal: AbortSignal }) => Promise<Uint8Array>

export interface PeerSummary {
  peerId: string
  addresses: string[]
  direction: 'inbound' | 'outbound'
  /** Last measured round trip (our ping, else libp2p's connection monitor). */
  latencyMs?: number
  score: number
}

export interface P2PEvents {
  'peer:connect': { peerId: string }
  'peer:disconnect': { peerId: string }
  'peer:penalize': PenaltyOutcome
  'peer:ban': { peerId: string; reason: PenaltyReason | 'manual'; bannedUntilMs: number }
}

export interface P2PNode {
  readonly peerId: string
  /**
   * The underlying libp2p host: an escape hatch for diagnostics, metrics and benchmarks.
   * Terrane traffic goes through the methods below, which enforce limits and scoring.
   */
  readonly libp2p: Libp2p
  /** Listen addresses with /p2p/<peerId>, usable as bootstrap addresses by others. */
  addresses(): string[]
  registerChannel(name: string, init?: ChannelInit): Promise<void>
  /** Non-blocking: queues or says why not. */
  send(peerId: string, channel: string, bytes: Uint8Array): SendVerdict
  /** Waits for room in the peer's queue (backpressure) instead of answering `queue-full`. */
  sendAsync(peerId: string, channel: string, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<SendVerdict>
  broadcast(channel: string, bytes: Uint8Array): BroadcastResult
  onMessage(channel: string, handler: MessageHandler): () => void
  handle(protocol: string, handler: RequestHandler, init?: RequestProtocolInit): Promise<void>
  request(peerId: string, protocol: string, bytes: Uint8Array, options?: RequestOptions): Promise<Uint8Array>
  subscribe(topic: string, handler: MessageHandler, options?: { validate?: GossipValidator }): () => void
  /** Returns how many peers the message was sent to. */
  publish(topic: string, bytes: Uint8Array): Promise<number>
  /** Peers subscribed to the topic, as seen by gossipsub. */
  topicPeers(topic: string): string[]
  penalize(peerId: string, reason: PenaltyReason): PenaltyOutcome
  ban(peerId: string, durationMs?: number): void
  score(peerId: string): number
  isBanned(peerId: string): boolean
  peers(): PeerSummary[]
  ping(peerId: string, options?: { signal?: AbortSignal }): Promise<number>
  dial(address: string, options?: { signal?: AbortSignal }): Promise<string>
  on<K extends keyof P2PEvents>(event: K, listener: (detail: P2PEvents[K]) => void): () => void
  stop(): Promise<void>
}

type Services = { identify: Identify; ping: Ping; connectionMonitorPing: Ping; dht: KadDHT; pubsub: GossipSub }

/**
 * The connection monitor's liveness pings get a protocol of their own. On `/ipfs/ping/1.0.0` they
 * would share the one outbound ping stream per peer the spec allows with the DHT's and `ping()`'s
 * pings, and the monitor opens its streams itself (not through the ping service): whichever came
 * second failed with TooManyOutboundProtocolStreams, and a monitor ping that fails aborts the connection.
 */
const connectionMonitorPingPrefix = 'terrane'

const protocolNamePattern = /^[a-z0-9][a-z0-9-]{0,31}$/

/** `/terrane/<name>/1`: one libp2p protocol per channel, request protocol or gossip topic. */
export function protocolId(name: string): string {
  return `/terrane/${name}/1`
}

/** Creates and starts a node. Stop it with `node.stop()`. */
export async function createP2PNode(init: P2PNodeInit): Promise<P2PNode> {
  if (!(init.privateKeySeed instanceof Uint8Array) || init.privateKeySeed.byteLength !== 32) {
    throw new P2PError(P2PErrorCode.invalidConfig, 'privateKeySeed must be 32 bytes', { field: 'privateKeySeed' })
  }
  const clock = init.clock ?? systemClock
  const scores = new PeerScores(clock, init.scoring)
  const bootstrapAddresses = init.bootstrapAddresses ?? []
  for (const address of bootstrapAddresses) {
    if (!address.includes('/p2p/')) {
      throw new P2PError(P2PErrorCode.invalidConfig, 'Bootstrap addresses must end in /p2p/<peerId>', { address })
    }
  }
  const privateKey = await generateKeyPairFromSeed('Ed25519', init.privateKeySeed)
  const isBanned = (peerId: PeerId): boolean => scores.isBanned(peerId.toString())
  const libp2p = await createLibp2p<Services>({
    privateKey,
    addresses: {
      listen: init.listenAddresses ?? ['/ip4/127.0.0.1/tcp/0'],
      ...(init.announceAddresses === undefined ? {} : { announce: init.announceAddresses }),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: init.connectionsMax ?? connectionsMaxDefault },
    connectionMonitor: { protocolPrefix: connectionMonitorPingPrefix },
    connectionGater: {
      // Loopback and private addresses are normal for devnets; bans are by peer id.
      denyDialMultiaddr: () => false,
      denyDialPeer: isBanned,
      denyInboundEncryptedConnection: isBanned,
      denyOutboundEncryptedConnection: isBanned,
    },
    peerDiscovery:
      bootstrapAddresses.length === 0
        ? []
        : [bootstrap({ list: bootstrapAddresses, timeout: init.bootstrapDelayMs ?? bootstrapDelayMsDefault })],
    services: {
      identify: identify(),
      // The DHT's pings and ping() share one outbound stream per peer (see SerialPing).
      ping: serialPing(),
      // Answers the connection monitor's pings (/terrane/ping/1.0.0).
      connectionMonitorPing: ping({ protocolPrefix: connectionMonitorPingPrefix }),
      // clientMode false: on loopback no address is public, so automatic mode would never serve queries.
      dht: kadDHT({ clientMode: false, peerInfoMapper: passthroughMapper, protocol: '/terrane/kad/1.0.0' }),
      pubsub: gossipsub({
        // Payloads (transaction batches, evidence) carry their own signatures.
        globalSignaturePolicy: StrictNoSign,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        maxInboundDataLength: init.gossipMessageBytesMax ?? gossipMessageBytesMaxDefault,
      }),
    },
  })
  const node = new DefaultP2PNode(libp2p, scores, clock, init)
  await node.start()
  return node
}

interface ChannelState {
  name: string
  protocol: string
  messageBytesMax: number
  messagesPerSecondMax: number
  burstMessagesMax: number
  sendQueueMessagesMax: number
  sendQueueBytesMax: number
  handlers: Set<MessageHandler>
}

interface Listeners {
  [event: string]: Set<(detail: never) => void>
}

class DefaultP2PNode implements P2PNode {
  readonly peerId: string
  readonly libp2p: Libp2p
  readonly #libp2p: Libp2p<Services>
  readonly #scores: PeerScores
  readonly #clock: Clock
  readonly #log: Logger
  readonly #discoveryIntervalMs: number
  readonly #connectionsMax: number
  readonly #names = new Set<string>()
  readonly #channels = new Map<string, ChannelState>()
  /** peerId -> channel -> writer */
  readonly #outbound = new Map<string, Map<string, OutboundChannel>>()
  /** peerId -> (channel or protocol) -> bucket; kept across reconnects so reconnecting does not refill it. */
  readonly #buckets = new Map<string, Map<string, TokenBucket>>()
  readonly #topics = new Map<string, { handlers: Set<MessageHandler> }>()
  readonly #lastPingMs = new Map<string, number>()
  readonly #dialing = new Set<string>()
  readonly #listeners: Listeners = {}
  readonly #stopController = new AbortController()
  #discoveryTimer: ReturnType<typeof setTimeout> | undefined
  #isLookupRunning = false
  #isRunning = false

  constructor(libp2p: Libp2p<Services>, scores: PeerScores, clock: Clock, init: P2PNodeInit) {
    this.#libp2p = libp2p
    this.libp2p = libp2p
    this.#scores = scores
    this.#clock = clock
    this.peerId = libp2p.peerId.toString()
    this.#log = libp2p.logger.forComponent('terrane:p2p')
    this.#discoveryIntervalMs = init.discoveryIntervalMs ?? discoveryIntervalMsDefault
    this.#connectionsMax = init.connectionsMax ?? connectionsMaxDefault
    this.#bootstrapAddresses = init.bootstrapAddresses ?? []
  }

  readonly #bootstrapAddresses: string[]

  async start(): Promise<void> {
    const libp2p = this.#libp2p
    if (this.#isRunning) return
    libp2p.addEventListener('peer:connect', (evt) => {
      this.#emit('peer:connect', { peerId: evt.detail.toString() })
    })
    libp2p.addEventListener('peer:disconnect', (evt) => {
      const peerId = evt.detail.toString()
      this.#closeOutbound(peerId)
      this.#lastPingMs.delete(peerId)
      this.#emit('peer:disconnect', { peerId })
    })
    libp2p.addEventListener('peer:discovery', (evt) => {
      this.#maybeDial(evt.detail)
    })
    libp2p.addEventListener('peer:identify', () => {
      // A new DHT neighbour: look ourselves up through it soon (its routing table is how we find the rest).
      this.#scheduleLookup(250)
    })
    libp2p.services.pubsub.addEventListener('gossipsub:message', (evt) => this.#onGossip(evt.detail))
    await libp2p.start()
    this.#isRunning = true
    this.#scheduleLookup(isolatedRetryMs)
  }

  addresses(): string[] {
    return this.#libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  // ---- channels ----

  async registerChannel(name: string, init: ChannelInit = {}): Promise<void> {
    this.#claimName(name)
    const messageBytesMax = init.messageBytesMax ?? channelMessageBytesMaxDefault
    checkRange('messageBytesMax', messageBytesMax, 1, channelMessageBytesMaxCeiling)
    const channel: ChannelState = {
      name,
      protocol: protocolId(name),
      messageBytesMax,
      messagesPerSecondMax: checkRange('messagesPerSecondMax', init.messagesPerSecondMax ?? channelMessagesPerSecondMaxDefault, 0, 1e9),
      burstMessagesMax: checkRange('burstMessagesMax', init.burstMessagesMax ?? channelBurstMessagesMaxDefault, 1, 1e9),
      sendQueueMessagesMax: checkRange('sendQueueMessagesMax', init.sendQueueMessagesMax ?? sendQueueMessagesMaxDefault, 1, 1e7),
      sendQueueBytesMax: checkRange('sendQueueBytesMax', init.sendQueueBytesMax ?? sendQueueBytesMaxDefault, messageBytesMax, 2 ** 32),
      handlers: new Set(),
    }
    this.#channels.set(name, channel)
    await this.#libp2p.handle(channel.protocol, (stream, connection) => this.#onChannelStream(channel, stream, connection), {
      maxInboundStreams: channelInboundStreamsMax,
    })
  }

  onMessage(channel: string, handler: MessageHandler): () => void {
    const state = this.#channel(channel)
    state.handlers.add(handler)
    return () => state.handlers.delete(handler)
  }

  send(peerId: string, channel: string, bytes: Uint8Array): SendVerdict {
    const writer = this.#writer(peerId, channel, bytes)
    if (typeof writer === 'string') return writer
    return writer.enqueue(bytes) ? 'queued' : 'queue-full'
  }

  async sendAsync(peerId: string, channel: string, bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<SendVerdict> {
    for (;;) {
      const writer = this.#writer(peerId, channel, bytes)
      if (typeof writer === 'string') return writer
      if (writer.enqueue(bytes)) return 'queued'
      await writer.waitForRoom(bytes.byteLength, options.signal)
    }
  }

  broadcast(channel: string, bytes: Uint8Array): BroadcastResult {
    const result: BroadcastResult = { queued: [], dropped: [] }
    for (const peer of this.#libp2p.getPeers()) {
      const peerId = peer.toString()
      const verdict = this.send(peerId, channel, bytes)
      if (verdict === 'queued') result.queued.push(peerId)
      else result.dropped.push({ peerId, verdict })
    }
    return result
  }

  #writer(peerId: string, channel: string, bytes: Uint8Array): OutboundChannel | Exclude<SendVerdict, 'queued' | 'queue-full'> {
    this.#assertRunning()
    const state = this.#channel(channel)
    if (bytes.byteLength > state.messageBytesMax) {
      throw new P2PError(P2PErrorCode.messageTooLarge, `Message of ${bytes.byteLength} bytes exceeds channel ${channel} limit`, {
        channel,
        byteLength: bytes.byteLength,
        messageBytesMax: state.messageBytesMax,
      })
    }
    if (this.#scores.isBanned(peerId)) return 'banned'
    let perPeer = this.#outbound.get(peerId)
    let writer = perPeer?.get(channel)
    if (writer !== undefined && !writer.isClosed) return writer
    const peer = peerIdFromString(peerId)
    if (this.#libp2p.getConnections(peer).length === 0) return 'not-connected'
    writer = new OutboundChannel({
      openStream: (signal) => this.#libp2p.dialProtocol(peer, state.protocol, { signal }),
      sendQueueMessagesMax: state.sendQueueMessagesMax,
      sendQueueBytesMax: state.sendQueueBytesMax,
      log: this.#log,
    })
    if (perPeer === undefined) {
      perPeer = new Map()
      this.#outbound.set(peerId, perPeer)
    }
    perPeer.set(channel, writer)
    return writer
  }

  #onChannelStream(channel: ChannelState, stream: Stream, connection: Connection): void {
    const peerId = connection.remotePeer.toString()
    if (this.#scores.isBanned(peerId)) {
      stream.abort(new P2PError(P2PErrorCode.peerBanned, 'Peer is banned', { peerId }))
      return
    }
    const bucket = this.#bucket(peerId, channel.name, channel.burstMessagesMax, channel.messagesPerSecondMax)
    const decoder = new LengthPrefixedDecoder({
      maxDataLength: channel.messageBytesMax,
      // Room for one whole frame plus the rest of the chunk it arrived in.
      maxBufferSize: channel.messageBytesMax + 2 * channelMessageBytesMaxCeiling,
    })
    stream.addEventListener('message', (evt) => {
      try {
        for (const frame of decoder.decode(evt.data)) {
          if (!bucket.tryTake()) {
            if (this.penalize(peerId, 'rate-limit-exceeded').isBanned) return
            continue
          }
          const bytes = plainBytes(frame.subarray())
          for (const handler of channel.handlers) {
            try {
              handler(peerId, bytes)
            } catch (err) {
              this.#log.error('Channel handler threw %s %e', channel.name, err)
            }
          }
        }
      } catch (err) {
        const reason: PenaltyReason = isOversizeError(err) ? 'oversize-message' : 'malformed-frame'
        this.#log('Closed channel stream %s from %s: %s', channel.name, peerId, reason)
        stream.abort(err as Error)
        this.penalize(peerId, reason)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => {
      stream.close().catch((err: unknown) => stream.abort(err as Error))
    })
  }

  // ---- request / response ----

  async handle(protocol: string, handler: RequestHandler, init: RequestProtocolInit = {}): Promise<void> {
    this.#claimName(protocol)
    const requestBytesMax = checkRange('requestBytesMax', init.requestBytesMax ?? requestBytesMaxDefault, 1, channelMessageBytesMaxCeiling)
    const responseBytesMax = checkRange('responseBytesMax', init.responseBytesMax ?? responseBytesMaxDefault, 0, 2 ** 31)
    const handlerTimeoutMs = checkRange('handlerTimeoutMs', init.handlerTimeoutMs ?? handlerTimeoutMsDefault, 1, 2 ** 31)
    const ratePerSecond = checkRange('requestsPerSecondMax', init.requestsPerSecondMax ?? requestsPerSecondMaxDefault, 0, 1e9)
    const burst = checkRange('requestBurstMax', init.requestBurstMax ?? requestBurstMaxDefault, 1, 1e9)
    const bucketKey = `request:${protocol}`
    await this.#libp2p.handle(
      protocolId(protocol),
      async (stream, connection) => {
        const peerId = connection.remotePeer.toString()
        if (this.#scores.isBanned(peerId)) {
          stream.abort(new P2PError(P2PErrorCode.peerBanned, 'Peer is banned', { peerId }))
          return
        }
        if (!this.#bucket(peerId, bucketKey, burst, ratePerSecond).tryTake()) {
          stream.abort(new Error('Request rate limit exceeded'))
          this.penalize(peerId, 'rate-limit-exceeded')
          return
        }
        const signal = AbortSignal.any([AbortSignal.timeout(handlerTimeoutMs), this.#stopController.signal])
        const lp = lpStream(stream, { maxDataLength: requestBytesMax })
        let request: Uint8Array
        try {
          request = plainBytes((await lp.read({ signal })).subarray())
        } catch (err) {
          stream.abort(err as Error)
          if (isOversizeError(err)) this.penalize(peerId, 'oversize-message')
          return
        }
        try {
          const response = await handler(peerId, request, { signal })
          if (response.byteLength > responseBytesMax) {
            throw new P2PError(P2PErrorCode.messageTooLarge, `Response of ${response.byteLength} bytes exceeds ${protocol} limit`, {
              protocol,
              byteLength: response.byteLength,
              responseBytesMax,
            })
          }
          await lp.write(response, { signal })
          await stream.close({ signal })
        } catch (err) {
          this.#log('Request handler for %s failed %e', protocol, err)
          stream.abort(err as Error)
        }
      },
      { maxInboundStreams: requestInboundStreamsMax },
    )
  }

  async request(peerId: string, protocol: string, bytes: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    this.#assertRunning()
    if (this.#scores.isBanned(peerId)) throw new P2PError(P2PErrorCode.peerBanned, 'Peer is banned', { peerId })
    const timeoutMs = options.timeoutMs ?? requestTimeoutMsDefault
    const responseBytesMax = options.responseBytesMax ?? responseBytesMaxDefault
    const timeout = AbortSignal.timeout(timeoutMs)
    const signals = [timeout, this.#stopController.signal]
    if (options.signal !== undefined) signals.push(options.signal)
    const signal = AbortSignal.any(signals)
    let stream: Stream | undefined
    try {
      // The response is read only from the stream this call opened: nothing else can answer it.
      stream = await this.#libp2p.dialProtocol(peerIdFromString(peerId), protocolId(protocol), { signal })
      const lp = lpStream(stream, { maxDataLength: responseBytesMax })
      await lp.write(bytes, { signal })
      await stream.close({ signal })
      const response = await lp.read({ signal })
      return plainBytes(response.subarray())
    } catch (err) {
      stream?.abort(err as Error)
      if (options.signal?.aborted === true || this.#stopController.signal.aborted) {
        throw new P2PError(P2PErrorCode.aborted, 'Request aborted', { peerId, protocol }, { cause: err })
      }
      if (timeout.aborted) {
        throw new P2PError(
          P2PErrorCode.requestTimeout,
          `No response within ${timeoutMs} ms`,
          { peerId, protocol, timeoutMs },
          { cause: err },
        )
      }
      if (isOversizeError(err)) {
        this.penalize(peerId, 'oversize-message')
        throw new P2PError(
          P2PErrorCode.responseTooLarge,
          'Response exceeds responseBytesMax',
          { peerId, protocol, responseBytesMax },
          { cause: err },
        )
      }
      throw new P2PError(P2PErrorCode.requestFailed, `Request failed: ${(err as Error).message}`, { peerId, protocol }, { cause: err })
    }
  }

  // ---- gossip ----

  subscribe(topic: string, handler: MessageHandler, options: { validate?: GossipValidator } = {}): () => void {
    this.#assertRunning()
    if (!protocolNamePattern.test(topic)) {
      throw new P2PError(P2PErrorCode.invalidConfig, `Invalid topic name ${JSON.stringify(topic)}`, { topic })
    }
    const topicId = protocolId(topic)
    const pubsub = this.#libp2p.services.pubsub
    let state = this.#topics.get(topicId)
    if (state === undefined) {
      state = { handlers: new Set() }
      this.#topics.set(topicId, state)
      pubsub.subscribe(topicId)
    }
    const validate = options.validate
    if (validate !== undefined) {
      pubsub.topicValidators.set(topicId, async (peer, message) => {
        const peerId = peer.toString()
        let verdict: GossipVerdict
        try {
          verdict = await validate(peerId, message.data)
        } catch (err) {
          this.#log.error('Gossip validator threw on %s %e', topic, err)
          verdict = 'ignore'
        }
        if (verdict === 'reject') {
          this.penalize(peerId, 'invalid-gossip')
          return TopicValidatorResult.Reject
        }
        return verdict === 'accept' ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
      })
    }
    const handlers = state.handlers
    handlers.add(handler)
    return () => {
      handlers.delete(handler)
      if (handlers.size === 0 && this.#isRunning) {
        this.#topics.delete(topicId)
        pubsub.topicValidators.delete(topicId)
        pubsub.unsubscribe(topicId)
      }
    }
  }

  async publish(topic: string, bytes: Uint8Array): Promise<number> {
    this.#assertRunning()
    const result = await this.#libp2p.services.pubsub.publish(protocolId(topic), bytes)
    return result.recipients.length
  }

  topicPeers(topic: string): string[] {
    return this.#libp2p.services.pubsub.getSubscribers(protocolId(topic)).map((p) => p.toString())
  }

  #onGossip(event: GossipsubMessage): void {
    const state = this.#topics.get(event.msg.topic)
    if (state === undefined) return
    const peerId = event.propagationSource.toString()
    for (const handler of state.handlers) {
      try {
        handler(peerId, event.msg.data)
      } catch (err) {
        this.#log.error('Gossip handler threw %e', err)
      }
    }
  }

  // ---- scoring ----

  penalize(peerId: string, reason: PenaltyReason): PenaltyOutcome {
    const outcome = this.#scores.penalize(peerId, reason)
    this.#log('Penalised peer %s for %s, score %d', peerId, reason, outcome.score)
    this.#emit('peer:penalize', outcome)
    if (outcome.bannedUntilMs !== undefined) this.#onBanned(peerId, reason, outcome.bannedUntilMs)
    return outcome
  }

  ban(peerId: string, durationMs?: number): void {
    this.#onBanned(peerId, 'manual', this.#scores.ban(peerId, durationMs))
  }

  score(peerId: string): number {
    return this.#scores.score(peerId)
  }

  isBanned(peerId: string): boolean {
    return this.#scores.isBanned(peerId)
  }

  #onBanned(peerId: string, reason: PenaltyReason | 'manual', bannedUntilMs: number): void {
    this.#log.error('Banned peer %s for %s', peerId, reason)
    this.#closeOutbound(peerId)
    this.#emit('peer:ban', { peerId, reason, bannedUntilMs })
    if (this.#isRunning) {
      this.#libp2p.hangUp(peerIdFromString(peerId)).catch((err: unknown) => this.#log('Hang-up failed %e', err))
    }
  }

  // ---- peers ----

  peers(): PeerSummary[] {
    const byPeer = new Map<string, PeerSummary>()
    for (const connection of this.#libp2p.getConnections()) {
      const peerId = connection.remotePeer.toString()
      const summary = byPeer.get(peerId)
      if (summary !== undefined) {
        summary.addresses.push(connection.remoteAddr.toString())
        continue
      }
      const latencyMs = this.#lastPingMs.get(peerId) ?? connection.rtt
      byPeer.set(peerId, {
        peerId,
        addresses: [connection.remoteAddr.toString()],
        direction: connection.direction,
        ...(latencyMs === undefined ? {} : { latencyMs }),
        score: this.#scores.score(peerId),
      })
    }
    return [...byPeer.values()]
  }

  async ping(peerId: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.#assertRunning()
    const signals = [AbortSignal.timeout(pingTimeoutMsDefault), this.#stopController.signal]
    if (options.signal !== undefined) signals.push(options.signal)
    const latencyMs = await this.#libp2p.services.ping.ping(peerIdFromString(peerId), { signal: AbortSignal.any(signals) })
    this.#lastPingMs.set(peerId, latencyMs)
    return latencyMs
  }

  async dial(address: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    this.#assertRunning()
    const connection = await this.#libp2p.dial(multiaddr(address), options.signal === undefined ? {} : { signal: options.signal })
    return connection.remotePeer.toString()
  }

  // ---- events ----

  on<K extends keyof P2PEvents>(event: K, listener: (detail: P2PEvents[K]) => void): () => void {
    const set = (this.#listeners[event] ??= new Set())
    set.add(listener as (detail: never) => void)
    return () => set.delete(listener as (detail: never) => void)
  }

  #emit<K extends keyof P2PEvents>(event: K, detail: P2PEvents[K]): void {
    const set = this.#listeners[event]
    if (set === undefined) return
    for (const listener of set) {
      try {
        ;(listener as (detail: P2PEvents[K]) => void)(detail)
      } catch (err) {
        this.#log.error('Event listener for %s threw %e', event, err)
      }
    }
  }

  // ---- discovery ----

  #maybeDial(peer: PeerInfo): void {
    const peerId = peer.id.toString()
    if (!this.#isRunning || peerId === this.peerId || this.#dialing.has(peerId) || this.#scores.isBanned(peerId)) return
    if (this.#libp2p.getConnections(peer.id).length > 0) return
    if (this.#libp2p.getConnections().length >= this.#connectionsMax) return
    this.#dialing.add(peerId)
    const dial = async (): Promise<void> => {
      if (peer.multiaddrs.length > 0) await this.#libp2p.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs })
      await this.#libp2p.dial(peer.id, { signal: this.#stopController.signal })
    }
    dial()
      .catch((err: unknown) => this.#log('Dial of discovered peer %s failed %e', peerId, err))
      .finally(() => this.#dialing.delete(peerId))
  }

  #scheduleLookup(delayMs: number): void {
    if (!this.#isRunning) return
    if (this.#discoveryTimer !== undefined) clearTimeout(this.#discoveryTimer)
    this.#discoveryTimer = setTimeout(() => {
      this.#discoveryTimer = undefined
      void this.#lookup().finally(() => {
        // An isolated node (its first dials failed, or every peer restarted) tries again soon.
        const isIsolated = this.#libp2p.getConnections().length === 0
        this.#scheduleLookup(isIsolated ? isolatedRetryMs : this.#discoveryIntervalMs)
      })
    }, delayMs)
  }

  /** Dials the configured bootstrap peers this node is not connected to (the bootstrap module dials once only). */
  async #redialBootstrap(): Promise<void> {
    const connected = new Set(this.#libp2p.getConnections().map((c) => c.remotePeer.toString()))
    await Promise.all(
      this.#bootstrapAddresses
        .filter((address) => !connected.has(address.slice(address.lastIndexOf('/p2p/') + 5)))
        .map((address) => this.dial(address).catch((err: unknown) => this.#log('Redial of bootstrap peer %s failed %e', address, err))),
    )
  }

  /** Asks the DHT for the peers closest to our own id, and dials the ones we are not connected to. */
  async #lookup(): Promise<void> {
    if (this.#isLookupRunning || !this.#isRunning) return
    await this.#redialBootstrap()
    if (this.#libp2p.getConnections().length === 0) return
    this.#isLookupRunning = true
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(10_000), this.#stopController.signal])
      for await (const event of this.#libp2p.services.dht.getClosestPeers(this.#libp2p.peerId.toMultihash().bytes, { signal })) {
        if (event.name === 'FINAL_PEER') this.#maybeDial(event.peer)
        else if (event.name === 'PEER_RESPONSE') for (const peer of event.closer) this.#maybeDial(peer)
      }
    } catch (err) {
      this.#log('DHT self-lookup failed %e', err)
    } finally {
      this.#isLookupRunning = false
    }
  }

  // ---- lifecycle ----

  async stop(): Promise<void> {
    if (!this.#isRunning) return
    this.#isRunning = false
    if (this.#discoveryTimer !== undefined) clearTimeout(this.#discoveryTimer)
    this.#discoveryTimer = undefined
    this.#stopController.abort(new P2PError(P2PErrorCode.notRunning, 'Node stopped'))
    for (const peerId of [...this.#outbound.keys()]) this.#closeOutbound(peerId)
    await this.#libp2p.stop()
  }

  // ---- helpers ----

  #claimName(name: string): void {
    if (!protocolNamePattern.test(name)) {
      throw new P2PError(P2PErrorCode.invalidConfig, `Invalid channel or protocol name ${JSON.stringify(name)}`, { name })
    }
    if (this.#names.has(name)) throw new P2PError(P2PErrorCode.alreadyRegistered, `${name} is already registered`, { name })
    this.#names.add(name)
  }

  #channel(name: string): ChannelState {
    const state = this.#channels.get(name)
    if (state === undefined) throw new P2PError(P2PErrorCode.unknownChannel, `Unknown channel ${name}`, { channel: name })
    return state
  }

  #bucket(peerId: string, key: string, capacity: number, refillPerSecond: number): TokenBucket {
    let perPeer = this.#buckets.get(peerId)
    if (perPeer === undefined) {
      perPeer = new Map()
      this.#buckets.set(peerId, perPeer)
      // Insertion order: the first key is the peer seen longest ago.
      while (this.#buckets.size > scoredPeersMax) {
        const oldest = this.#buckets.keys().next()
        if (oldest.done === true) break
        this.#buckets.delete(oldest.value)
      }
    }
    let bucket = perPeer.get(key)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#clock, capacity, refillPerSecond)
      perPeer.set(key, bucket)
    }
    return bucket
  }

  #closeOutbound(peerId: string): void {
    const perPeer = this.#outbound.get(peerId)
    if (perPeer === undefined) return
    this.#outbound.delete(peerId)
    for (const writer of perPeer.values()) writer.close()
  }

  #assertRunning(): void {
    if (!this.#isRunning) throw new P2PError(P2PErrorCode.notRunning, 'Node is not running')
  }
}

function checkRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new P2PError(P2PErrorCode.invalidConfig, `${field} must be within [${min}, ${max}], got ${value}`, { field, value })
  }
  return value
}

/** @libp2p/utils length errors: the decoder's and lpStream's names for "frame longer than allowed". */
function isOversizeError(err: unknown): boolean {
  const name = (err as Error | undefined)?.name
  return name === 'InvalidMessageLengthError' || name === 'InvalidDataLengthError'
}

/** Socket data arrives as Buffers; consumers get plain Uint8Array views of the same memory. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** How soon an isolated node looks for peers again. */
const isolatedRetryMs = 2_000

/** The peer id a node started with `privateKeySeed` will have (for bootstrap addresses in generated configs). */
export async function peerIdOfSeed(privateKeySeed: Uint8Array): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', privateKeySeed)).toString()
}
