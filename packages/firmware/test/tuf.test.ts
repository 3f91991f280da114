import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  FirmwareRepository,
  FirmwareUpdater,
  FirmwareError,
  ed25519Signer,
  type FirmwareErrorCode,
  type TufRoleName,
} from '../src/index.ts'

const hour = 3_600_000
const seed = (n: number) => new Uint8Array(32).fill(n)
const signers = {
  root: ed25519Signer(seed(1)),
  targets: ed25519Signer(seed(2)),
  targets2: ed25519Signer(seed(3)),
  snapshot: ed25519Signer(seed(4)),
  timestamp: ed25519Signer(seed(5)),
}
const image = new TextEncoder().encode('firmware 1.0.0 '.repeat(100))
const imageV2 = new TextEncoder().encode('firmware 2.0.0 '.repeat(120))

function expiresIn(ms: number): Record<TufRoleName, number> {
  const now = Date.now()
  return { root: now + 365 * 24 * hour, targets: now + ms, snapshot: now + ms, timestamp: now + ms }
}

/** Serves whatever `files` holds at the moment of the request. */
let files = new Map<string, Uint8Array>()
let server: Server
let baseUrl: string
const cacheDirs: string[] = []

before(async () => {
  server = createServer((req, res) => {
    const body = files.get((req.url ?? '/').slice(1))
    if (body === undefined) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-length': body.length }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  baseUrl = `http://127.0.0.1:${address.port}`
})

after(async () => {
  await new Promise((resolve) => server.close(resolve))
  for (const dir of cacheDirs) await rm(dir, { recursive: true, force: true })
})

function newRepository(targetsThreshold = 1) {
  const repo = new FirmwareRepository({
    roles: {
      root: { signers: [signers.root] },
      targets: { signers: [signers.targets, signers.targets2], threshold: targetsThreshold },
      snapshot: { signers: [signers.snapshot] },
      timestamp: { signers: [signers.timestamp] },
    },
  })
  repo.addTarget({ name: 'acme/sensor/1.0.0.bin', bytes: image, custom: { version: '1.0.0', hardware: 'sensor-v2' } })
  return repo
}

async function newClient(trustedRoot: Uint8Array) {
  const cacheDir = await mkdtemp(join(tmpdir(), 'terrane-fw-'))
  cacheDirs.push(cacheDir)
  return new FirmwareUpdater({ metadataUrl: `${baseUrl}/metadata`, targetUrl: `${baseUrl}/targets`, cacheDir, trustedRoot })
}

async function assertCode(promise: Promise<unknown>, code: FirmwareErrorCode) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FirmwareError, `expected FirmwareError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  })
}

describe('firmware over TUF (publisher + tuf-js client over HTTP)', () => {
  it('downloads a published firmware image with its signed custom data', async () => {
    const repo = newRepository()
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    const client = await newClient(files.get('metadata/root.json')!)
    const fw = await client.download('acme/sensor/1.0.0.bin')
    assert.deepEqual(fw.bytes, image)
    assert.equal(fw.sha256, createHash('sha256').update(image).digest('hex'))
    assert.deepEqual(fw.custom, { version: '1.0.0', hardware: 'sensor-v2' })
    await assertCode(client.check('acme/sensor/9.9.9.bin'), 'FIRMWARE_NOT_FOUND')
  })

  it('follows a new release and a root key rotation', async () => {
    const repo = newRepository()
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    const client = await newClient(files.get('metadata/root.json')!)
    await client.check('acme/sensor/1.0.0.bin')
    repo.addTarget({ name: 'acme/sensor/2.0.0.bin', bytes: imageV2 })
    repo.rotateKeys({ root: { signers: [ed25519Signer(seed(9))] }, timestamp: { signers: [ed25519Signer(seed(10))] } })
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    assert.deepEqual((await client.download('acme/sensor/2.0.0.bin')).bytes, imageV2)
  })

  it('rejects expired metadata (freeze attack)', async () => {
    const repo = newRepository()
    files = new Map(repo.publish({ expiresMs: expiresIn(-hour) }))
    const client = await newClient(files.get('metadata/root.json')!)
    await assertCode(client.check('acme/sensor/1.0.0.bin'), 'FIRMWARE_METADATA_EXPIRED')
  })

  it('rejects a rollback to older metadata after seeing newer', async () => {
    const repo = newRepository()
    const v1 = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    repo.addTarget({ name: 'acme/sensor/2.0.0.bin', bytes: imageV2 })
    const v2 = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    files = v2
    const client = await newClient(v1.get('metadata/root.json')!)
    await client.check('acme/sensor/2.0.0.bin')
    files = v1 // a mirror (or attacker) serves the old, validly signed, unexpired metadata
    await assertCode(client.check('acme/sensor/1.0.0.bin'), 'FIRMWARE_ROLLBACK')
  })

  it('rejects targets metadata below its signature threshold', async () => {
    const repo = newRepository(2)
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    const good = await newClient(files.get('metadata/root.json')!)
    await good.check('acme/sensor/1.0.0.bin') // both targets keys signed: accepted
    const targets = JSON.parse(new TextDecoder().decode(files.get('metadata/targets.json')))
    targets.signatures = targets.signatures.slice(0, 1)
    files.set('metadata/targets.json', new TextEncoder().encode(JSON.stringify(targets)))
    const client = await newClient(files.get('metadata/root.json')!)
    await assertCode(client.check('acme/sensor/1.0.0.bin'), 'FIRMWARE_BAD_SIGNATURE')
  })

  it('rejects metadata signed by a key not in root', async () => {
    const repo = newRepository()
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    const client = await newClient(files.get('metadata/root.json')!)
    const rogue = new FirmwareRepository({
      roles: {
        root: { signers: [ed25519Signer(seed(20))] },
        targets: { signers: [ed25519Signer(seed(21))] },
        snapshot: { signers: [ed25519Signer(seed(22))] },
        timestamp: { signers: [ed25519Signer(seed(23))] },
      },
    })
    rogue.addTarget({ name: 'acme/sensor/1.0.0.bin', bytes: imageV2 })
    const rogueFiles = rogue.publish({ expiresMs: expiresIn(24 * hour) })
    files.set('metadata/timestamp.json', rogueFiles.get('metadata/timestamp.json')!)
    await assertCode(client.check('acme/sensor/1.0.0.bin'), 'FIRMWARE_BAD_SIGNATURE')
  })

  it('rejects a tampered firmware image (same length and different length)', async () => {
    const repo = newRepository()
    files = new Map(repo.publish({ expiresMs: expiresIn(24 * hour) }))
    const client = await newClient(files.get('metadata/root.json')!)
    const tampered = Uint8Array.from(image)
    tampered[10] = (tampered[10] ?? 0) ^ 0xff
    files.set('targets/acme/sensor/1.0.0.bin', tampered)
    await assertCode(client.download('acme/sensor/1.0.0.bin'), 'FIRMWARE_TARGET_MISMATCH')
    files.set('targets/acme/sensor/1.0.0.bin', imageV2)
    await assertCode(client.download('acme/sensor/1.0.0.bin'), 'FIRMWARE_TARGET_MISMATCH')
  })

  it('refuses bad publisher input', () => {
    assert.throws(
      () =>
        new FirmwareRepository({
          roles: {
            root: { signers: [signers.root], threshold: 2 },
            targets: { signers: [signers.targets] },
            snapshot: { signers: [signers.snapshot] },
            timestamp: { signers: [signers.timestamp] },
          },
        }),
      (err: unknown) => err instanceof FirmwareError && err.code === 'FIRMWARE_BAD_INPUT',
    )
    const repo = newRepository()
    for (const name of ['../etc/passwd', '/abs', 'a b'])
      assert.throws(
        () => repo.addTarget({ name, bytes: image }),
        (err: unknown) => err instanceof FirmwareError && err.code === 'FIRMWARE_BAD_INPUT',
      )
  })
})
