import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DialProtocolOptions, DialTarget } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { SerialPing } from '../src/serial-ping.ts'
import type { SerialPingComponents } from '../src/serial-ping.ts'

// SerialPing against stubs: a connection whose streams the test opens and closes, and an inner ping
// whose round trips the test completes. No sockets, no DHT, no timing.

const protocol = '/ipfs/ping/1.0.0'
const peer = peerIdFromString('12D3KooWMguATVMtbpcSQ3a2YDBDMF9hCbBonPmxiC64cCBCKwSc')

class StubStream extends EventTarget {
  readonly direction = 'outbound'
  status = 'open'
  constructor(readonly protocol: string) {
    super()
  }
  close(): void {
    this.status = 'closed'
    this.dispatchEvent(new Event('close'))
  }
}

interface InnerCall {
  signal: AbortSignal
  resolve(rttMs: number): void
  reject(err: Error): void
}

/** `isAbortImmediate: false`: an aborted inner ping settles only when the test rejects it (a slow wind-down). */
function setup({ isAbortImmediate = true } = {}): { ping: SerialPing; streams: StubStream[]; calls: InnerCall[] } {
  const streams: StubStream[] = []
  const calls: InnerCall[] = []
  const components = {
    connectionManager: { getConnections: () => [{ streams }] },
    registrar: {},
  } as unknown as SerialPingComponents
  const inner = {
    ping: (_peer: DialTarget, options: DialProtocolOptions = {}) =>
      new Promise<number>((resolve, reject) => {
        assert.ok(options.signal !== undefined, 'the inner ping always gets a signal')
        calls.push({ signal: options.signal, resolve, reject })
        if (isAbortImmediate) options.signal.addEventListener('abort', () => reject(options.signal?.reason as Error), { once: true })
      }),
  }
  return { ping: new SerialPing(components, inner, protocol), streams, calls }
}

/** Lets pending promise callbacks run (the stubs resolve nothing on their own). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
}

test('concurrent pings to one peer make one round trip, and every caller gets its time', async () => {
  const { ping, calls } = setup()
  const pings = [ping.ping(peer), ping.ping(peer), ping.ping(peer)]
  await settle()
  assert.equal(calls.length, 1)
  calls[0]?.resolve(42)
  assert.deepEqual(await Promise.all(pings), [42, 42, 42])
  // Once it has settled, the next ping is a new round trip.
  const next = ping.ping(peer)
  await settle()
  assert.equal(calls.length, 2)
  calls[1]?.resolve(7)
  assert.equal(await next, 7)
})

test('a ping waits until the outbound ping stream still open on the connection has closed', async () => {
  const { ping, streams, calls } = setup()
  const lingering = new StubStream(protocol)
  streams.push(lingering, new StubStream('/terrane/ping/1.0.0'))
  const pinged = ping.ping(peer)
  await settle()
  assert.equal(calls.length, 0, 'no second ping stream while one is open')
  streams.splice(streams.indexOf(lingering), 1)
  lingering.close()
  await settle()
  assert.equal(calls.length, 1, 'a ping stream of another protocol does not count')
  calls[0]?.resolve(3)
  assert.equal(await pinged, 3)
})

test('a caller that gives up ends only its own wait', async () => {
  const { ping, calls } = setup()
  const impatient = new AbortController()
  const first = ping.ping(peer, { signal: impatient.signal })
  const second = ping.ping(peer)
  await settle()
  impatient.abort(new Error('gave up'))
  await assert.rejects(first, /gave up/)
  assert.equal(calls[0]?.signal.aborted, false, 'the round trip goes on for the caller still waiting')
  calls[0]?.resolve(5)
  assert.equal(await second, 5)
})

test('a ping every caller gave up on is aborted, and winds down before the next one starts', async () => {
  const { ping, calls } = setup({ isAbortImmediate: false })
  const abandoned = new AbortController()
  const first = ping.ping(peer, { signal: abandoned.signal })
  await settle()
  assert.equal(calls.length, 1)
  abandoned.abort(new Error('gave up'))
  await assert.rejects(first, /gave up/)
  assert.equal(calls[0]?.signal.aborted, true)
  const next = ping.ping(peer)
  await settle()
  assert.equal(calls.length, 1, 'the next ping does not start while the abandoned one winds down')
  calls[0]?.reject(new Error('aborted'))
  await settle()
  assert.equal(calls.length, 2)
  calls[1]?.resolve(9)
  assert.equal(await next, 9)
})

test('stop aborts the ping in flight', async () => {
  const { ping, calls } = setup()
  await ping.start()
  const pinged = ping.ping(peer)
  await settle()
  await ping.stop()
  assert.equal(calls[0]?.signal.aborted, true)
  await assert.rejects(pinged, /stopped/)
})
