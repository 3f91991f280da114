import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import WebSocket from 'ws'
import type { WsServerMessageDto } from '../src/index.ts'
import { testServer, type TestServer } from './helpers.ts'

interface Client {
  ws: WebSocket
  messages: WsServerMessageDto[]
  /** Resolves once `count` messages have arrived. */
  until(count: number): Promise<void>
}

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url)
  const messages: WsServerMessageDto[] = []
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())))
  await once(ws, 'open')
  return {
    ws,
    messages,
    async until(count) {
      while (messages.length < count) await once(ws, 'message')
    },
  }
}

describe('WebSocket event streams', () => {
  let t: TestServer
  let url: string
  before(async () => {
    t = await testServer({ ws: { queueMessagesMax: 8 } })
    url = (await t.server.start()).replace('http', 'ws') + '/v1/ws'
  })
  after(async () => {
    await t.server.stop()
  })

  it('replays from a height, then streams live events filtered by topic and account', async () => {
    const c = await connect(url)
    const from = t.backend.height - 1
    c.ws.send(JSON.stringify({ op: 'subscribe', id: 'b', filter: { topics: ['newBlock'] }, fromHeight: from }))
    await c.until(3)
    assert.deepEqual(c.messages[0], { type: 'subscribed', id: 'b' })
    assert.deepEqual(
      c.messages.slice(1).map((m) => m.type === 'event' && m.event.height),
      [from, from + 1],
    )
    const account = t.population.accounts[3]!.address
    c.ws.send(JSON.stringify({ op: 'subscribe', id: 'tx', filter: { topics: ['tx'], account } }))
    await c.until(4)
    t.backend.commitBlock({
      txs: [
        { bytes: Uint8Array.of(1, 2, 3, 4), accounts: [account] },
        { bytes: Uint8Array.of(5), accounts: [] },
      ],
    })
    await c.until(6)
    const live = c.messages.slice(4)
    assert.deepEqual(
      live.map((m) => m.type === 'event' && [m.id, m.event.topic]).sort(),
      [
        ['b', 'newBlock'],
        ['tx', 'tx'],
      ].sort(),
    )
    c.ws.close()
  })

  it('answers bad messages with errors and caps subscriptions at 5 per client', async () => {
    const c = await connect(url)
    c.ws.send('not json')
    c.ws.send(JSON.stringify({ op: 'subscribe', id: 'x', filter: { topics: ['bogus'] } }))
    await c.until(2)
    assert.ok(c.messages.every((m) => m.type === 'error' && m.error.code === 'API_WS_BAD_MESSAGE'))
    for (let i = 0; i < 6; i++) c.ws.send(JSON.stringify({ op: 'subscribe', id: `s${i}`, filter: { topics: ['newBlock'] } }))
    await c.until(8)
    const last = c.messages[7]
    assert.ok(last?.type === 'error' && last.error.code === 'API_WS_TOO_MANY_SUBSCRIPTIONS')
    c.ws.send(JSON.stringify({ op: 'unsubscribe', id: 's0' }))
    await c.until(9)
    assert.deepEqual(c.messages[8], { type: 'unsubscribed', id: 's0' })
    c.ws.close()
  })

  it('closes a message over 1 MiB with 1009', async () => {
    const c = await connect(url)
    c.ws.send('x'.repeat(1024 * 1024 + 1))
    const [code] = (await once(c.ws, 'close')) as [number]
    assert.equal(code, 1009)
  })

  it('drops a client whose send queue overflows with 4008, and releases its subscriptions', async () => {
    const c = await connect(url)
    c.ws.send(
      JSON.stringify({ op: 'subscribe', id: 'all', filter: { topics: ['newBlock', 'tx', 'consensusRound', 'reward', 'deviceReport'] } }),
    )
    await c.until(1)
    const before = t.backend.subscriptionCount
    // One block emits more than 8 events synchronously: no send can complete in between.
    t.backend.commitBlock({
      rewards: t.population.devices.slice(0, 20).map((d) => ({ deviceId: d.id, epoch: 99, amount: '1', explanation: [] })),
    })
    const [code] = (await once(c.ws, 'close')) as [number]
    assert.equal(code, 4008)
    assert.equal(t.backend.subscriptionCount, before - 1)
    const metrics = (await t.server.app.inject('/metrics')).body
    assert.match(metrics, /terrane_api_ws_dropped_clients_total\{reason="slow_consumer"\} 1/)
  })

  it('accepts at most 100 clients', async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => connect(url)))
    const extra = new WebSocket(url)
    extra.on('error', () => {})
    const [, response] = (await once(extra, 'unexpected-response')) as [unknown, { statusCode: number }]
    assert.equal(response.statusCode, 429)
    extra.terminate()
    for (const c of clients) c.ws.terminate()
  })
})
