import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadNodeConfig, NodeConfigError } from '../src/config.ts'

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'terrane-config-'))
  try {
    await fn(home)
  } finally {
    await rm(home, { recursive: true, force: true })
  }
}

test('defaults < file < environment < flags', async () => {
  await withHome(async (home) => {
    await writeFile(join(home, 'config.json'), JSON.stringify({ moniker: 'from-file', api: { port: 1111 }, mqtt: { port: 2222 } }))
    const config = await loadNodeConfig(home, { api: { port: 3333 } }, { TERRANE_API_PORT: '4444', TERRANE_MONIKER: 'from-env' })
    assert.equal(config.moniker, 'from-env')
    assert.equal(config.api.port, 3333)
    assert.equal(config.mqtt.port, 2222)
    assert.equal(config.api.host, '127.0.0.1')
  })
})

test('bad values are refused with the path of the field', async () => {
  await withHome(async (home) => {
    await assert.rejects(
      loadNodeConfig(home, {}, { TERRANE_API_PORT: 'abc' }),
      (e: unknown) => e instanceof NodeConfigError && e.path === 'api.port',
    )
    await assert.rejects(
      loadNodeConfig(home, { p2p: { bootstrap: ['/ip4/1.2.3.4/tcp/1'] } }),
      (e: unknown) => e instanceof NodeConfigError && e.path === 'p2p.bootstrap',
    )
    await writeFile(join(home, 'config.json'), '{ not json')
    await assert.rejects(loadNodeConfig(home), (e: unknown) => e instanceof NodeConfigError && e.path === 'config.json')
  })
})
