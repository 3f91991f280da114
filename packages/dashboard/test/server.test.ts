// startDashboardServer: static files at `/`, API paths (HTTP and WebSocket) forwarded to the node.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { get } from 'node:http'
import WebSocket from 'ws'
import { MemoryBackend, createApiServer, populateMemoryBackend } from '@terrane/api'
import { DashboardError, dashboardAssetsDir, isApiPath, startDashboardServer } from '../src/index.ts'

test('API paths are recognised, static paths are not', () => {
  for (const path of ['/v1/status', '/v1/ws', '/graphql', '/openapi.json', '/docs', '/docs/static/x.js', '/metrics', '/health', '/ready'])
    assert.equal(isApiPath(path), true, path)
  for (const path of ['/', '/index.html', '/assets/index-abc.js', '/v1x', '/healthy']) assert.equal(isApiPath(path), false, path)
  assert.match(dashboardAssetsDir(), /packages\/dashboard\/build$/)
})

test('serves files, refuses traversal, forwards REST and WebSocket to the API', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-dashboard-static-'))
  const backend = new MemoryBackend()
  populateMemoryBackend(backend, { seed: 3, blocks: 2 })
  const api = await createApiServer({ backend }, { rateLimit: false, hasDocs: false })
  const apiUrl = await api.start({ port: 0 })
  try {
    await assert.rejects(
      startDashboardServer({ apiUrl, dir }),
      (err: unknown) => err instanceof DashboardError && err.code === 'DASHBOARD_NOT_BUILT',
    )
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>')
    await mkdir(join(dir, 'assets'))
    await writeFile(join(dir, 'assets', 'app-1.js'), 'export {}')
    const server = await startDashboardServer({ apiUrl, dir })
    try {
      const index = await fetch(`${server.url}/`)
      assert.equal(index.status, 200)
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(await index.text(), '<!doctype html><title>t</title>')
      const script = await fetch(`${server.url}/assets/app-1.js`)
      assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8')
      assert.match(script.headers.get('cache-control') ?? '', /immutable/)
      assert.equal((await fetch(`${server.url}/missing.js`)).status, 404)
      // An encoded traversal (fetch would resolve dot segments itself, so send the raw path).
      const traversal = await new Promise<number>((resolve, reject) =>
        get(`${server.url}/..%2f..%2f..%2fetc%2fpasswd`, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject),
      )
      assert.equal(traversal, 404)

      const status = (await (await fetch(`${server.url}/v1/status`)).json()) as { chainId: string; height: number }
      assert.equal(status.chainId, 'terrane-memory')
      assert.equal(status.height, 3)
      const missing = await fetch(`${server.url}/v1/blocks/999`)
      assert.equal(missing.status, 404)
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'API_NOT_FOUND')

      // The WebSocket event stream through the forwarder: replayed newBlock events from height 1.
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`)
      const heights: number[] = []
      await new Promise<void>((resolve, reject) => {
        ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', id: 's', filter: { topics: ['newBlock'] }, fromHeight: 1 })))
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; event?: { height: number } }
          if (message.type === 'event' && message.event !== undefined) heights.push(message.event.height)
          if (heights.length === 3) resolve()
        })
        ws.on('error', reject)
      })
      ws.close()
      assert.deepEqual(heights, [1, 2, 3])
    } finally {
      await server.close()
    }
    // A node that is down: a 502 with a JSON error, not a hang.
    await api.stop()
    const server2 = await startDashboardServer({ apiUrl, dir })
    try {
      const down = await fetch(`${server2.url}/v1/status`)
      assert.equal(down.status, 502)
      assert.equal(((await down.json()) as { error: { code: string } }).error.code, 'DASHBOARD_UPSTREAM')
    } finally {
      await server2.close()
    }
  } finally {
    await api.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
})
