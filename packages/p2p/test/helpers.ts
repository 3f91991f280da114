import { createP2PNode } from '../src/index.ts'
import type { P2PNode, P2PNodeInit } from '../src/index.ts'

/** A deterministic 32-byte seed per index: fixtures are made by code. */
export function seed(index: number): Uint8Array {
  const bytes = new Uint8Array(32)
  bytes.fill(index + 1)
  bytes[0] = 0x7e
  return bytes
}

export type NodeOptions = Omit<P2PNodeInit, 'privateKeySeed'>

export async function startNode(index: number, options: NodeOptions = {}): Promise<P2PNode> {
  return createP2PNode({ privateKeySeed: seed(index), discoveryIntervalMs: 1000, bootstrapDelayMs: 10, ...options })
}

/** Starts `count` nodes; every node after the first bootstraps from node 0 only. */
export async function startNetwork(count: number, options: (index: number) => NodeOptions = () => ({})): Promise<P2PNode[]> {
  const nodes: P2PNode[] = []
  try {
    const first = await startNode(0, options(0))
    nodes.push(first)
    const bootstrapAddress = first.addresses()[0]
    if (bootstrapAddress === undefined) throw new Error('node 0 has no address')
    for (let i = 1; i < count; i++) {
      nodes.push(await startNode(i, { bootstrapAddresses: [bootstrapAddress], ...options(i) }))
    }
    return nodes
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
}

export async function stopAll(nodes: readonly P2PNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()))
}

/**
 * Re-checks `condition` every `intervalMs` until it holds; fails after `timeoutMs`.
 * This waits for a state, it does not sleep for one.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000, intervalMs = 20): Promise<void> {
  if (condition()) return
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(timer)
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const timer = setInterval(() => {
      if (!condition()) return
      clearInterval(timer)
      clearTimeout(deadline)
      resolve()
    }, intervalMs)
  })
}

/** Waits until every node is connected to every other node. */
export async function waitForFullMesh(nodes: readonly P2PNode[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () => nodes.every((n) => nodes.every((m) => m === n || n.peers().some((p) => p.peerId === m.peerId))),
    'a full mesh',
    timeoutMs,
  )
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}
