import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openStateStore, verifyProof } from '../src/index.ts'
import { stateStoreCompliance } from './compliance.ts'

const dir = mkdtempSync(join(tmpdir(), 'terrane-state-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let count = 0
const freshPath = () => join(dir, `db${count++}`)

stateStoreCompliance('LevelDB', (init) => openStateStore({ ...init, path: freshPath(), isSyncWrite: false }))

describe('LevelDB state store', () => {
  it('keeps versions, roots and values across close and reopen', async () => {
    const path = freshPath()
    const text = new TextEncoder()
    let store = await openStateStore({ path, pruneKeepVersions: 5 })
    const roots: Uint8Array[] = []
    for (let v = 1; v <= 7; v++) {
      const b = store.batch()
      for (let i = 0; i < 20; i++) b.put(text.encode(`k${i}`), text.encode(`${i}@${v}`))
      roots.push((await b.commit()).root)
    }
    await store.close()
    store = await openStateStore({ path, pruneKeepVersions: 5 })
    assert.equal(store.version, 7)
    assert.equal(store.oldestVersion, 3)
    assert.deepEqual(store.root, roots[6])
    assert.deepEqual(await store.getAt(text.encode('k4'), 3), text.encode('4@3'))
    const proof = await store.prove(text.encode('k4'), 4)
    assert.equal(verifyProof(roots[3] as Uint8Array, text.encode('k4'), text.encode('4@4'), proof), true)
    const r = await store.batch().put(text.encode('new'), text.encode('x')).commit()
    assert.equal(r.version, 8)
    await store.close()
  })
})
