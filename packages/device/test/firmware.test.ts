import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FirmwareRepository, FirmwareUpdater, ed25519Signer } from '@terrane/firmware'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { MemorySequenceStore, SoftwareSecureElement, deviceAgent } from '../src/index.ts'

const hourMs = 3_600_000
const signer = (n: number) => ed25519Signer(new Uint8Array(32).fill(n))
let files = new Map<string, Uint8Array>()
let server: Server
let baseUrl = ''

describe('device agent firmware check through @terrane/firmware (TUF over HTTP)', () => {
  before(async () => {
    server = createServer((req, res) => {
      const body = files.get((req.url ?? '/').slice(1))
      if (body === undefined) res.writeHead(404).end()
      else res.writeHead(200, { 'content-length': body.length }).end(body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('reports an update when the repository publishes a newer signed release', async () => {
    const repo = new FirmwareRepository({
      roles: {
        root: { signers: [signer(1)] },
        targets: { signers: [signer(2)] },
        snapshot: { signers: [signer(3)] },
        timestamp: { signers: [signer(4)] },
      },
    })
    const expiresMs = {
      root: Date.now() + 365 * 24 * hourMs,
      targets: Date.now() + hourMs,
      snapshot: Date.now() + hourMs,
      timestamp: Date.now() + hourMs,
    }
    repo.addTarget({ name: 'acme/sensor/stable.bin', bytes: new TextEncoder().encode('v1'), custom: { version: '1.2.0' } })
    files = new Map(repo.publish({ expiresMs }))
    const trustedRoot = files.get('metadata/root.json')
    assert.ok(trustedRoot !== undefined)
    const updater = new FirmwareUpdater({
      metadataUrl: `${baseUrl}/metadata`,
      targetUrl: `${baseUrl}/targets`,
      cacheDir: mkdtempSync(join(tmpdir(), 'terrane-fw-')),
      trustedRoot,
    })
    const agent = deviceAgent({
      chainId: 'terrane-test',
      brokerUrl: 'mqtt://127.0.0.1:1',
      auth: { mode: 'anonymous' },
      firmwareVersion: '1.2.0',
      firmwareTarget: 'acme/sensor/stable.bin',
    })({
      secureElement: new SoftwareSecureElement(deviceKeyFromSeed('fw-device').privateKey),
      sequence: new MemorySequenceStore(),
      clock: { nowMs: () => Date.now() },
      firmware: updater,
    })
    assert.deepEqual(await agent.checkFirmware(), { current: '1.2.0', available: '1.2.0', isUpdateAvailable: false })
    repo.addTarget({ name: 'acme/sensor/stable.bin', bytes: new TextEncoder().encode('v2'), custom: { version: '1.3.0' } })
    files = new Map(repo.publish({ expiresMs }))
    assert.deepEqual(await agent.checkFirmware(), { current: '1.2.0', available: '1.3.0', isUpdateAvailable: true })
  })
})
