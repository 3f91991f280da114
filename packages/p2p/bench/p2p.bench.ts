/**
 * p2p throughput on loopback, two cores shared with everything else:
 * - small messages/s and MiB/s over one channel between two nodes (the consensus path);
 * - gossip messages/s among 4 nodes with StrictNoSign (the transaction-batch path).
 * Reference points from docs (same machine class): one yamux stream ~114 MiB/s and
 * ~23,000 small messages/s; gossipsub among 4 nodes ~1,400 messages/s with StrictNoSign.
 */
import { measureAsync, report } from '@terrane/bench'
import type { BenchRow } from '@terrane/bench'
import { createP2PNode } from '../src/index.ts'
import type { P2PNode } from '../src/index.ts'

function seed(index: number): Uint8Array {
  return new Uint8Array(32).fill(0x40 + index)
}

async function network(count: number): Promise<P2PNode[]> {
  const nodes: P2PNode[] = []
  for (let i = 0; i < count; i++) {
    const bootstrapAddress = nodes[0]?.addresses()[0]
    nodes.push(
      await createP2PNode({
        privateKeySeed: seed(i),
        discoveryIntervalMs: 500,
        bootstrapDelayMs: 10,
        ...(bootstrapAddress === undefined ? {} : { bootstrapAddresses: [bootstrapAddress] }),
      }),
    )
  }
  const deadline = performance.now() + 30_000
  while (!nodes.every((n) => n.peers().length === count - 1)) {
    if (performance.now() > deadline) throw new Error('no full mesh within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return nodes
}

/** Resolves when `condition()` holds, re-checking after each delivery via `notify`. */
function until(condition: () => boolean, timeoutMs: number): { promise: Promise<boolean>; notify: () => void } {
  const { promise, resolve } = Promise.withResolvers<boolean>()
  const timer = setTimeout(() => resolve(false), timeoutMs)
  const notify = (): void => {
    if (condition()) {
      clearTimeout(timer)
      resolve(true)
    }
  }
  return { promise, notify }
}

async function channelThroughput(
  messageBytes: number,
  batch: number,
  durationMsMin: number,
): Promise<{ messagesPerSecond: number; mibPerSecond: number }> {
  const [a, b] = await network(2)
  if (a === undefined || b === undefined) throw new Error('unreachable')
  try {
    const messageBytesMax = Math.max(messageBytes, 1024)
    await a.registerChannel('bench', { messageBytesMax, messagesPerSecondMax: 1e9, burstMessagesMax: 1e9 })
    await b.registerChannel('bench', { messageBytesMax, messagesPerSecondMax: 1e9, burstMessagesMax: 1e9 })
    let received = 0
    let waiter: (() => void) | undefined
    b.onMessage('bench', () => {
      received++
      waiter?.()
    })
    const payload = new Uint8Array(messageBytes).fill(7)
    const m = await measureAsync(
      async () => {
        const target = received + batch
        const done = until(() => received >= target, 30_000)
        waiter = done.notify
        for (let i = 0; i < batch; i++) {
          if (a.send(b.peerId, 'bench', payload) !== 'queued') {
            const verdict = await a.sendAsync(b.peerId, 'bench', payload)
            if (verdict !== 'queued') throw new Error(`send ${verdict}`)
          }
        }
        if (!(await done.promise)) throw new Error('messages lost on the channel')
        return batch
      },
      { durationMsMin, warmupMs: 500 },
    )
    return { messagesPerSecond: m.opsPerSecond, mibPerSecond: (m.opsPerSecond * messageBytes) / (1024 * 1024) }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function gossipThroughput(batch: number, durationMsMin: number): Promise<{ messagesPerSecond: number; deliveredRatio: number }> {
  const nodes = await network(4)
  try {
    const received = nodes.map(() => 0)
    let waiter: (() => void) | undefined
    nodes.forEach((node, i) =>
      node.subscribe('txs', () => {
        received[i] = (received[i] ?? 0) + 1
        waiter?.()
      }),
    )
    const subscribed = until(() => nodes.every((n) => n.topicPeers('txs').length === 3), 30_000)
    const poll = setInterval(subscribed.notify, 20)
    const isSubscribed = await subscribed.promise
    clearInterval(poll)
    if (!isSubscribed) throw new Error('gossip subscriptions did not propagate')
    let sequence = 0
    let published = 0
    let lost = 0
    const m = await measureAsync(
      async () => {
        // Every message is delivered to the 3 nodes that did not publish it.
        const targets = received.map((r) => r + (batch * 3) / 4)
        const total = (): number => received.reduce((s, r) => s + r, 0)
        const before = total()
        const done = until(() => received.every((r, i) => r >= (targets[i] ?? 0)), 10_000)
        waiter = done.notify
        // Open loop within a batch: publishes are not awaited one by one.
        const publishes: Array<Promise<number> | undefined> = []
        for (let i = 0; i < batch; i++) {
          const payload = new Uint8Array(256)
          new DataView(payload.buffer).setUint32(0, sequence++)
          publishes.push(nodes[i % nodes.length]?.publish('txs', payload))
        }
        await Promise.all(publishes)
        published += batch
        if (!(await done.promise)) lost += batch * 3 - (total() - before)
        return batch
      },
      { durationMsMin, warmupMs: 500 },
    )
    return { messagesPerSecond: m.opsPerSecond, deliveredRatio: 1 - lost / (published * 3) }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

/** The ceiling for channels: raw bytes through one libp2p stream (noise + yamux), no framing, no queue. */
async function rawStreamMibPerSecond(durationMsMin: number): Promise<number> {
  const [a, b] = await network(2)
  if (a === undefined || b === undefined) throw new Error('unreachable')
  try {
    let receivedBytes = 0
    let waiter: (() => void) | undefined
    await b.libp2p.handle('/bench/raw/1', (stream) => {
      stream.addEventListener('message', (evt) => {
        receivedBytes += evt.data.byteLength
        waiter?.()
      })
    })
    const stream = await a.libp2p.dialProtocol(b.libp2p.peerId, '/bench/raw/1')
    const chunk = new Uint8Array(256 * 1024).fill(3)
    const chunksPerBatch = 40
    const m = await measureAsync(
      async () => {
        const target = receivedBytes + chunk.byteLength * chunksPerBatch
        const done = until(() => receivedBytes >= target, 30_000)
        waiter = done.notify
        for (let i = 0; i < chunksPerBatch; i++) if (!stream.send(chunk)) await stream.onDrain()
        if (!(await done.promise)) throw new Error('raw bytes lost')
        return chunk.byteLength * chunksPerBatch
      },
      { durationMsMin, warmupMs: 500 },
    )
    stream.abort(new Error('done'))
    return m.opsPerSecond / (1024 * 1024)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

const rawMibPerSecond = await rawStreamMibPerSecond(3_000)
const small = await channelThroughput(100, 5_000, 3_000)
const large = await channelThroughput(64 * 1024, 200, 3_000)
const gossip = await gossipThroughput(400, 3_000)

const rows: BenchRow[] = [
  { name: 'raw libp2p stream (noise + yamux), 256 KiB writes', value: rawMibPerSecond, unit: 'MiB/s', note: 'the ceiling for channels' },
  {
    name: 'channel, 100 B messages, 2 nodes',
    value: small.messagesPerSecond,
    unit: 'msg/s',
    target: 'ref ~23,000 msg/s (one yamux stream)',
  },
  { name: 'channel, 100 B messages, 2 nodes', value: small.mibPerSecond, unit: 'MiB/s' },
  {
    name: 'channel, 64 KiB messages (block parts), 2 nodes',
    value: large.mibPerSecond,
    unit: 'MiB/s',
    ratio: large.mibPerSecond / rawMibPerSecond,
    ratioTo: 'raw libp2p stream',
    target: 'ref ~114 MiB/s (one yamux stream)',
  },
  { name: 'channel, 64 KiB messages (block parts), 2 nodes', value: large.messagesPerSecond, unit: 'msg/s' },
  {
    name: 'gossip, 256 B, StrictNoSign, 4 nodes, each to 3',
    value: gossip.messagesPerSecond,
    unit: 'msg/s',
    target: 'ref ~1,400 msg/s',
    note: `delivered ${(gossip.deliveredRatio * 100).toFixed(2)}% of copies`,
  },
]
report('p2p', rows)
