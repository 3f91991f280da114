import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createP2PNode, isP2PError, P2PErrorCode } from '../src/index.ts'
import { seed, startNetwork, startNode, stopAll, waitFor, waitForFullMesh } from './helpers.ts'

test('4 nodes bootstrapped only from node 0 discover each other through the DHT', async () => {
  const nodes = await startNetwork(4)
  try {
    await waitForFullMesh(nodes)
    for (const node of nodes) {
      const others = nodes
        .filter((n) => n !== node)
        .map((n) => n.peerId)
        .sort()
      assert.deepEqual(
        node
          .peers()
          .map((p) => p.peerId)
          .sort(),
        others,
      )
    }
    // Nodes 2 and 3 were only given node 0: they found node 1 (and each other) through the DHT.
    const [, node1, node2, node3] = nodes
    assert.ok(node1 !== undefined && node2 !== undefined && node3 !== undefined)
    assert.ok(node3.peers().some((p) => p.peerId === node1.peerId))
    assert.ok(node3.peers().some((p) => p.peerId === node2.peerId))
  } finally {
    await stopAll(nodes)
  }
})

test('the peer id comes from the seed and survives a restart', async () => {
  const first = await startNode(7)
  const firstId = first.peerId
  await first.stop()
  const second = await startNode(7)
  try {
    assert.equal(second.peerId, firstId)
    const other = await startNode(8)
    assert.notEqual(other.peerId, firstId)
    await other.stop()
  } finally {
    await second.stop()
  }
})

test('a seed of the wrong length is a typed configuration error', async () => {
  await assert.rejects(createP2PNode({ privateKeySeed: new Uint8Array(31) }), (err) => isP2PError(err, P2PErrorCode.invalidConfig))
  await assert.rejects(createP2PNode({ privateKeySeed: seed(1), bootstrapAddresses: ['/ip4/127.0.0.1/tcp/1'] }), (err) =>
    isP2PError(err, P2PErrorCode.invalidConfig),
  )
})

test('connect and disconnect events fire, and peers report a ping latency', async () => {
  const a = await startNode(0)
  const b = await startNode(1)
  try {
    const connected: string[] = []
    const disconnected: string[] = []
    a.on('peer:connect', ({ peerId }) => connected.push(peerId))
    a.on('peer:disconnect', ({ peerId }) => disconnected.push(peerId))
    const address = a.addresses()[0]
    assert.ok(address !== undefined)
    assert.equal(await b.dial(address), a.peerId)
    await waitFor(() => connected.includes(b.peerId), 'peer:connect')
    const latencyMs = await a.ping(b.peerId)
    assert.ok(latencyMs >= 0)
    const [summary] = a.peers()
    assert.equal(summary?.peerId, b.peerId)
    assert.equal(summary?.latencyMs, latencyMs)
    assert.equal(summary?.score, 0)
    await b.stop()
    await waitFor(() => disconnected.includes(b.peerId), 'peer:disconnect')
    assert.deepEqual(a.peers(), [])
  } finally {
    await stopAll([a, b])
  }
})

test('a node whose bootstrap peer was down at start connects once it comes up', async () => {
  // Learn node 0's address, then take it down before node 1 starts.
  const first = await startNode(50)
  const address = first.addresses()[0] as string
  const port = Number(address.split('/tcp/')[1]?.split('/')[0])
  await first.stop()
  const second = await startNode(51, { bootstrapAddresses: [address] })
  let revived: Awaited<ReturnType<typeof startNode>> | undefined
  try {
    revived = await startNode(50, { listenAddresses: [`/ip4/127.0.0.1/tcp/${port}`] })
    const deadline = Date.now() + 20_000
    while (!second.peers().some((p) => p.peerId === revived?.peerId)) {
      if (Date.now() > deadline) throw new Error('the node never redialled its bootstrap peer')
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await second.stop()
    await revived?.stop()
  }
})
