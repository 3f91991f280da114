import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Ping } from '@libp2p/ping'
import type { P2PNode } from '../src/index.ts'
import { startNode, stopAll, waitFor } from './helpers.ts'

// The libp2p ping spec allows one outbound ping stream per peer; @libp2p/ping fails a second one with
// TooManyOutboundProtocolStreams. The DHT pings every new contact right after identify, so a ping()
// right after connecting used to collide with it (an intermittent failure in discovery.test.ts).

/** `b` dials `a`; returns once both sides have the connection. */
async function connect(a: P2PNode, b: P2PNode): Promise<void> {
  await b.dial(a.addresses()[0] as string)
  await waitFor(() => a.peers().some((p) => p.peerId === b.peerId), 'the connection on both sides')
}

test('concurrent pings to one peer share a round trip instead of failing', async () => {
  const a = await startNode(60)
  const b = await startNode(61)
  try {
    await connect(a, b)
    const results = await Promise.all([
      a.ping(b.peerId),
      a.ping(b.peerId),
      a.ping(b.peerId),
      // The DHT's routing table pings through the same service.
      (a.libp2p as Libp2p<{ ping: Ping }>).services.ping.ping(peerIdFromString(b.peerId)),
    ])
    assert.ok(results.every((latencyMs) => latencyMs >= 0))
    assert.equal(new Set(results).size, 1, 'one round trip answered every caller')
  } finally {
    await stopAll([a, b])
  }
})

test('a caller that gives up ends only its own wait; a ping nobody waits for makes way for the next', async () => {
  const a = await startNode(68)
  const b = await startNode(69)
  try {
    await connect(a, b)
    const impatient = new AbortController()
    const first = a.ping(b.peerId, { signal: impatient.signal })
    const second = a.ping(b.peerId)
    impatient.abort(new Error('gave up'))
    await assert.rejects(first, /gave up/)
    assert.ok((await second) >= 0, 'the other caller still gets the round trip')
    // Every caller gives up: that ping is abandoned, and the next one waits for its stream instead of failing.
    const abandoned = new AbortController()
    const third = a.ping(b.peerId, { signal: abandoned.signal })
    abandoned.abort(new Error('gave up'))
    await assert.rejects(third, /gave up/)
    assert.ok((await a.ping(b.peerId)) >= 0)
  } finally {
    await stopAll([a, b])
  }
})

test('back-to-back pings never find the previous ping stream still open', async () => {
  const a = await startNode(64)
  const b = await startNode(65)
  try {
    await connect(a, b)
    for (let i = 0; i < 30; i++) assert.ok((await a.ping(b.peerId)) >= 0)
  } finally {
    await stopAll([a, b])
  }
})

test('the connection monitor pings on a protocol of its own, which every node answers', async () => {
  const a = await startNode(66)
  try {
    const protocols = a.libp2p.getProtocols()
    assert.ok(protocols.includes('/ipfs/ping/1.0.0'))
    assert.ok(protocols.includes('/terrane/ping/1.0.0'))
  } finally {
    await a.stop()
  }
})
