import { isPeerId, serviceCapabilities } from '@libp2p/interface'
import type { DialProtocolOptions, DialTarget, PeerId, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import type { Ping, PingComponents, PingInit } from '@libp2p/ping'
import { pingTimeoutMsDefault } from './limits.ts'

export interface SerialPingInit extends PingInit {
  /** A shared ping gives up after this long, whoever is waiting on it. @default 5_000 */
  sharedTimeoutMs?: number
}

export type SerialPingComponents = PingComponents

/**
 * libp2p's ping (`/ipfs/ping/1.0.0`) with at most one outbound ping stream per peer at a time.
 *
 * The libp2p ping spec says the dialing peer MUST NOT keep more than one outbound ping stream per
 * peer, and `@libp2p/ping` enforces it by failing a second one with `TooManyOutboundProtocolStreams`.
 * Several components ping through this service without knowing of each other: the Kademlia routing
 * table (every new contact right after identify, old contacts when a bucket is full) and
 * `P2PNode.ping`. Uncoordinated, whichever comes second fails: the DHT then leaves the peer out of
 * its routing table as if it were offline, and the caller gets the error.
 *
 * Here a ping to a peer that is already being pinged joins that ping (one round trip answers every
 * caller waiting on it), and a new ping first waits for the previous outbound ping stream to close
 * (it lingers until the remote's end-of-stream arrives, after the pong). Pings by address go
 * straight through: no peer id to coordinate on.
 */
export class SerialPing implements Ping {
  readonly [Symbol.toStringTag] = '@terrane/serial-ping'
  // The DHT declares a dependency on a service with this capability.
  readonly [serviceCapabilities] = ['@libp2p/ping']
  readonly protocol: string
  readonly #inner: Ping & { start?(): Promise<void>; stop?(): Promise<void> }
  readonly #components: SerialPingComponents
  readonly #sharedTimeoutMs: number
  /** peer id -> the ping in flight to it */
  readonly #inFlight = new Map<string, Promise<number>>()
  #stopController = new AbortController()

  constructor(components: SerialPingComponents, init: SerialPingInit = {}) {
    this.#components = components
    this.#inner = ping(init)(components)
    this.protocol = `/${init.protocolPrefix ?? 'ipfs'}/ping/1.0.0`
    this.#sharedTimeoutMs = init.sharedTimeoutMs ?? pingTimeoutMsDefault
  }

  async start(): Promise<void> {
    this.#stopController = new AbortController()
    await this.#inner.start?.()
  }

  async stop(): Promise<void> {
    this.#stopController.abort(new Error('Ping service stopped'))
    await this.#inner.stop?.()
  }

  /** Round-trip time in ms. `options.signal` ends this caller's wait, not a ping others share. */
  async ping(peer: DialTarget, options: DialProtocolOptions = {}): Promise<number> {
    if (!isPeerId(peer)) return this.#inner.ping(peer, options)
    const key = peer.toString()
    let shared = this.#inFlight.get(key)
    if (shared === undefined) {
      shared = this.#pingAlone(peer, options).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, shared)
    }
    return untilAborted(shared, options.signal)
  }

  async #pingAlone(peer: PeerId, options: DialProtocolOptions): Promise<number> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.#sharedTimeoutMs), this.#stopController.signal])
    for (;;) {
      const open = this.#components.connectionManager
        .getConnections(peer)
        .flatMap((connection) => connection.streams)
        .filter((stream) => stream.direction === 'outbound' && stream.protocol === this.protocol)
      if (open.length === 0) break
      await Promise.race(open.map((stream) => closed(stream, signal)))
    }
    const { signal: _callerSignal, ...rest } = options
    return this.#inner.ping(peer, { ...rest, signal })
  }
}

/** The libp2p service factory: `services: { ping: serialPing() }`. */
export function serialPing(init: SerialPingInit = {}): (components: SerialPingComponents) => SerialPing {
  return (components) => new SerialPing(components, init)
}

function closed(stream: Stream, signal: AbortSignal): Promise<void> {
  if (stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset') return Promise.resolve()
  return untilAborted(new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true, signal })), signal)
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err as Error)
      },
    )
  })
}
