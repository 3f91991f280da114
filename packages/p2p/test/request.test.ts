import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isP2PError, ManualClock, P2PErrorCode } from '../src/index.ts'
import type { P2PNode, PenaltyOutcome } from '../src/index.ts'
import { startNode, stopAll, waitFor } from './helpers.ts'

async function pair(options: { clock?: ManualClock } = {}): Promise<[P2PNode, P2PNode]> {
  const a = await startNode(0)
  const b = await startNode(1, options.clock === undefined ? {} : { clock: options.clock })
  const address = b.addresses()[0]
  assert.ok(address !== undefined)
  await a.dial(address)
  return [a, b]
}

test('request/response: the handler answers on the stream the requester opened', async () => {
  const [a, b] = await pair()
  try {
    const seen: string[] = []
    await b.handle('blocksync', async (peerId, request) => {
      seen.push(peerId)
      const height = new DataView(request.buffer, request.byteOffset, request.byteLength).getUint32(0)
      return Buffer.from(`block ${height}`)
    })
    const heights = [1, 2, 3, 40, 500]
    const responses = await Promise.all(
      heights.map((h) => {
        const request = new Uint8Array(4)
        new DataView(request.buffer).setUint32(0, h)
        return a.request(b.peerId, 'blocksync', request)
      }),
    )
    assert.deepEqual(
      responses.map((r) => Buffer.from(r).toString()),
      heights.map((h) => `block ${h}`),
    )
    assert.deepEqual(
      seen,
      heights.map(() => a.peerId),
    )
  } finally {
    await stopAll([a, b])
  }
})

test('a request with no answer in time fails with P2P_REQUEST_TIMEOUT; an abort with P2P_ABORTED', async () => {
  const [a, b] = await pair()
  const { promise: released, resolve: release } = Promise.withResolvers<void>()
  try {
    await b.handle('blocksync', async () => {
      await released
      return new Uint8Array(1)
    })
    await assert.rejects(a.request(b.peerId, 'blocksync', Uint8Array.of(1), { timeoutMs: 200 }), (err) =>
      isP2PError(err, P2PErrorCode.requestTimeout),
    )
    const controller = new AbortController()
    const pending = a.request(b.peerId, 'blocksync', Uint8Array.of(2), { signal: controller.signal })
    controller.abort()
    await assert.rejects(pending, (err) => isP2PError(err, P2PErrorCode.aborted))
  } finally {
    release()
    await stopAll([a, b])
  }
})

test('size limits: an oversize request is refused and penalised; an oversize response is refused and penalised', async () => {
  const clock = new ManualClock()
  const [a, b] = await pair({ clock })
  try {
    const penaltiesOnB: PenaltyOutcome[] = []
    b.on('peer:penalize', (p) => penaltiesOnB.push(p))
    await b.handle('blocksync', async (_peerId, request) => new Uint8Array(request[0] === 1 ? 2048 : 16), { requestBytesMax: 100 })
    await assert.rejects(a.request(b.peerId, 'blocksync', new Uint8Array(101)), (err) => isP2PError(err, P2PErrorCode.requestFailed))
    await waitFor(() => penaltiesOnB.length === 1, 'the penalty on the requester')
    assert.equal(penaltiesOnB[0]?.reason, 'oversize-message')
    assert.equal(penaltiesOnB[0]?.peerId, a.peerId)

    assert.equal((await a.request(b.peerId, 'blocksync', Uint8Array.of(0), { responseBytesMax: 1024 })).byteLength, 16)
    await assert.rejects(a.request(b.peerId, 'blocksync', Uint8Array.of(1), { responseBytesMax: 1024 }), (err) =>
      isP2PError(err, P2PErrorCode.responseTooLarge),
    )
    assert.ok(a.score(b.peerId) < 0)
  } finally {
    await stopAll([a, b])
  }
})

test('a handler error fails the request without a response; an unknown protocol fails it too', async () => {
  const [a, b] = await pair()
  try {
    await b.handle('blocksync', async () => {
      throw new Error('no such block')
    })
    await assert.rejects(a.request(b.peerId, 'blocksync', Uint8Array.of(1)), (err) => isP2PError(err, P2PErrorCode.requestFailed))
    await assert.rejects(a.request(b.peerId, 'statesync', Uint8Array.of(1)), (err) => isP2PError(err, P2PErrorCode.requestFailed))
  } finally {
    await stopAll([a, b])
  }
})

test('requests beyond the per-peer rate are refused and penalised', async () => {
  const clock = new ManualClock()
  const [a, b] = await pair({ clock })
  try {
    await b.handle('blocksync', async () => Uint8Array.of(7), { requestBurstMax: 3, requestsPerSecondMax: 1 })
    for (let i = 0; i < 3; i++) assert.deepEqual(await a.request(b.peerId, 'blocksync', Uint8Array.of(i)), Uint8Array.of(7))
    await assert.rejects(a.request(b.peerId, 'blocksync', Uint8Array.of(3)), (err) => isP2PError(err, P2PErrorCode.requestFailed))
    assert.equal(b.score(a.peerId), -5)
    clock.advance(1000)
    assert.deepEqual(await a.request(b.peerId, 'blocksync', Uint8Array.of(4)), Uint8Array.of(7))
  } finally {
    await stopAll([a, b])
  }
})
