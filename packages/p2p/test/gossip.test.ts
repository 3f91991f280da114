import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../src/index.ts'
import type { P2PNode, PenaltyOutcome } from '../src/index.ts'
import { startNetwork, stopAll, waitFor, waitForFullMesh } from './helpers.ts'

async function waitForTopicMesh(nodes: readonly P2PNode[], topic: string): Promise<void> {
  await waitFor(() => nodes.every((n) => n.topicPeers(topic).length === nodes.length - 1), `subscriptions to ${topic}`)
}

test('gossip with StrictNoSign reaches every subscriber of 4 nodes', async () => {
  const nodes = await startNetwork(4)
  try {
    await waitForFullMesh(nodes)
    const inboxes = nodes.map(() => new Set<string>())
    nodes.forEach((node, i) => node.subscribe('txs', (_from, payload) => inboxes[i]?.add(Buffer.from(payload).toString())))
    await waitForTopicMesh(nodes, 'txs')
    const expected = new Set<string>()
    for (const [i, node] of nodes.entries()) {
      for (let k = 0; k < 5; k++) {
        const payload = `batch ${i}.${k}`
        expected.add(payload)
        await node.publish('txs', Buffer.from(payload))
      }
    }
    // Each node receives everyone else's messages, never its own (emitSelf is off).
    await waitFor(() => inboxes.every((inbox) => inbox.size === 15), 'gossip delivery')
    nodes.forEach((_, i) => {
      const fromOthers = [...expected].filter((p) => !p.startsWith(`batch ${i}.`))
      assert.deepEqual([...(inboxes[i] ?? [])].sort(), fromOthers.sort())
    })
  } finally {
    await stopAll(nodes)
  }
})

test('a gossip validator rejects invalid payloads: not delivered, sender penalised', async () => {
  const clock = new ManualClock()
  // Two nodes, so the only propagation source of every message is its origin.
  const nodes = await startNetwork(2, () => ({ clock }))
  try {
    await waitForFullMesh(nodes)
    const [origin, validatorNode] = nodes
    assert.ok(origin !== undefined && validatorNode !== undefined)
    const penalties: PenaltyOutcome[] = []
    validatorNode.on('peer:penalize', (p) => penalties.push(p))
    const delivered: string[] = []
    const verdicts: string[] = []
    validatorNode.subscribe('evidence', (_from, payload) => delivered.push(Buffer.from(payload).toString()), {
      validate: (_from, payload) => {
        const text = Buffer.from(payload).toString()
        const verdict = text.startsWith('valid') ? 'accept' : text.startsWith('stale') ? 'ignore' : 'reject'
        verdicts.push(verdict)
        return verdict
      },
    })
    origin.subscribe('evidence', () => {})
    await waitForTopicMesh(nodes, 'evidence')
    await origin.publish('evidence', Buffer.from('forged'))
    await origin.publish('evidence', Buffer.from('stale'))
    await origin.publish('evidence', Buffer.from('valid'))
    await waitFor(() => delivered.includes('valid'), 'valid evidence')
    assert.deepEqual(delivered, ['valid'])
    assert.deepEqual(verdicts, ['reject', 'ignore', 'accept'])
    assert.equal(penalties.length, 1)
    assert.equal(penalties[0]?.peerId, origin.peerId)
    assert.equal(penalties[0]?.reason, 'invalid-gossip')
    assert.equal(validatorNode.score(origin.peerId), -25)
  } finally {
    await stopAll(nodes)
  }
})
