import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testServer } from './helpers.ts'

test('a static directory is served at / while the API routes keep working', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-static-'))
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Terrane</title>')
  await writeFile(join(dir, 'app.js'), 'console.log(1)')
  const { server } = await testServer({ staticDir: dir }, 5)
  try {
    const index = await server.app.inject({ method: 'GET', url: '/' })
    assert.equal(index.statusCode, 200)
    assert.match(index.body, /<title>Terrane<\/title>/)
    const asset = await server.app.inject({ method: 'GET', url: '/app.js' })
    assert.equal(asset.statusCode, 200)
    const status = await server.app.inject({ method: 'GET', url: '/v1/status' })
    assert.equal(status.statusCode, 200)
    assert.equal(typeof status.json().height, 'number')
    const missing = await server.app.inject({ method: 'GET', url: '/nope.js' })
    assert.equal(missing.statusCode, 404)
    const traversal = await server.app.inject({ method: 'GET', url: '/../../etc/passwd' })
    assert.ok(traversal.statusCode >= 400 && traversal.statusCode < 500)
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
