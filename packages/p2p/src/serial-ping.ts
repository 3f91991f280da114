import { isPeerId, serviceCapabilities } from '@libp2p/interface'
import type { DialProtocolOptions, DialTarget, PeerId, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import type { Ping, PingComponents, PingInit } from '@libp2p/ping'
import { sharedPingMsMax } from './limits.ts'

export type SerialPingInit = PingInit
export type SerialPingComponents = PingComponents

interface SharedPing {
  promise: Promise<number>
  /** Settles when the ping has (its stream is then closed or closing). */
  done: Promise<void>
  /** Aborted when every caller waiting on the ping has given up. */
  controller: AbortController
  waiters: number
}

/**
 * libp2p's ping (`/ipfs/ping/1.0.0`) with at most one outbound ping stream per peer at a time.
 *
 * The libp2p ping spec says the dialing peer MUST NOT keep more than one outbound ping stream per
 * peer, and `@libp2p/ping` enforces it by failing a second one with `TooManyOutboundProtocolStreams`.
 * Several components ping through this service without knowing of each other: the Kademlia routing
 * table (every new contact right after identify, old contacts when a bucket is full) and
 * `P2PNode.ping`. Uncoordinated, whichever came second failed: the DHT then left the peer out of its
 * routing table as if it were offline, and `P2PNode.ping` threw.
 *
 * Here a ping to a peer that is already being pinged joins that ping (one round trip answers every
 * caller waiting on it), and a new ping first waits until the previous outbound ping stream has
 * closed (it stays open until the remote's end of stream, which follows the pong). A shared ping runs
 * as long as one of its callers still waits, at most `sharedPingMsMax`. Pings by address go straight
 * through: there is no peer id to coordinate on.
 */
export class SerialPing implements Ping {
  readonly [Symbol.toStringTag] = '@terrane/serial-ping'
  // The DHT declares a dependency on a service with this capability.
  readonly [serviceCapabilities] = ['@libp2p/ping']
  readonly protocol: string
  readonly #inner: Ping & { start?(): Promise<void>; stop?(): Promise<void> }
  readonly #components: SerialPingComponents
  /** peer id -> the latest ping to it, until it settles */
  readonly #latest = new Map<string, SharedPing>()
  #stopController = new AbortController()

  /** `inner` does the pinging (`@libp2p/ping`, or a stub in tests); `protocol` is the one it speaks. */
  constructor(components: SerialPingComponents, inner: Ping, protocol: string) {
    this.#components = components
    this.#inner = inner
    this.protocol = protocol
  }

  async start(): Promise<void> {
    this.#stopController = new AbortController()
    await this.#inner.start?.()
  }

  async stop(): Promise<void> {
    this.#stopController.abort(new Error('Ping service stopped'))
    await this.#inner.stop?.()
  }

  /** Round-trip time in ms. `options.signal` ends this caller's wait; the ping stops once nobody waits. */
  async ping(peer: DialTarget, options: DialProtocolOptions = {}): Promise<number> {
    if (!isPeerId(peer)) return this.#inner.ping(peer, options)
    const key = peer.toString()
    let shared = this.#latest.get(key)
    if (shared === undefined || shared.controller.signal.aborted) shared = this.#startPing(peer, key, shared, options)
    shared.waiters++
    try {
      return await untilAborted(shared.promise, options.signal)
    } finally {
      shared.waiters--
      if (shared.waiters === 0) shared.controller.abort(new Error('Every caller stopped waiting for the ping'))
    }
  }

  #startPing(peer: PeerId, key: string, previous: SharedPing | undefined, options: DialProtocolOptions): SharedPing {
    const controller = new AbortController()
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(sharedPingMsMax), this.#stopController.signal])
    const { signal: _callerSignal, ...rest } = options
    const run = async (): Promise<number> => {
      // A ping every caller gave up on is still winding down: its stream goes first.
      await previous?.done
      await this.#outboundStreamsClosed(peer, signal)
      return this.#inner.ping(peer, { ...rest, signal })
    }
    const promise = run()
    const shared: SharedPing = { promise, done: promise.then(noop, noop), controller, waiters: 0 }
    this.#latest.set(key, shared)
    void shared.done.then(() => {
      if (this.#latest.get(key) === shared) this.#latest.delete(key)
    })
    return shared
  }

  async #outboundStreamsClosed(peer: PeerId, signal: AbortSignal): Promise<void> {
    for (;;) {
      const open = this.#components.connectionManager
        .getConnections(peer)
        .flatMap((connection) => connection.streams)
        .filter((stream) => stream.direction === 'outbound' && stream.protocol === this.protocol)
      if (open.length === 0) return
      await Promise.race(open.map((stream) => closed(stream, signal)))
    }
  }
}

/** The libp2p service factory: `services: { ping: serialPing() }`. */
export function serialPing(init: SerialPingInit = {}): (components: SerialPingComponents) => SerialPing {
  return (components) => new SerialPing(components, ping(init)(components), `/${init.protocolPrefix ?? 'ipfs'}/ping/1.0.0`)
}

function noop(): void {}

/** Resolves when the stream has closed (a reset or an abort is a close too). */
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
