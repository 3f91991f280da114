import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openStateStore, verifyProof } from '../src/index.ts'
import { keyOf, stateStoreCompliance } from './compliance.ts'
import { referenceRoot } from './reference.ts'

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

  it('loads the resident tree lazily after reopen and reads past versions through a tiny LRU', async () => {
    // pageCacheMax 2: past-version reads evict each other; the latest tree is re-read from
    // disk page by page after reopen, then changed, and every retained version must match.
    const path = freshPath()
    const text = new TextEncoder()
    const models: Map<string, Uint8Array>[] = []
    const model = new Map<string, Uint8Array>()
    let store = await openStateStore({ path, pruneKeepVersions: 10, pageCacheMax: 2, isSyncWrite: false })
    const commitRound = async (v: number) => {
      const b = store.batch()
      for (let i = 0; i < 400; i += 1 + (v % 3)) {
        const id = `k${i}`
        if (i % 7 === v % 7) {
          b.delete(text.encode(id))
          model.delete(id)
        } else {
          b.put(text.encode(id), text.encode(`${i}@${v}`))
          model.set(id, text.encode(`${i}@${v}`))
        }
      }
      const r = await b.commit()
      assert.equal(r.version, v)
      assert.deepEqual(r.root, referenceRoot(model, keyOf))
      models[v] = new Map(model)
    }
    for (let v = 1; v <= 4; v++) await commitRound(v)
    await store.close()
    store = await openStateStore({ path, pruneKeepVersions: 10, pageCacheMax: 2, isSyncWrite: false })
    for (let v = 5; v <= 8; v++) await commitRound(v)
    for (let v = 1; v <= 8; v++) {
      const expected = models[v] as Map<string, Uint8Array>
      assert.deepEqual(await store.rootAt(v), referenceRoot(expected, keyOf))
      for (let i = 0; i < 400; i += 13) {
        const key = text.encode(`k${i}`)
        const value = expected.get(`k${i}`)
        assert.deepEqual(await store.getAt(key, v), value)
        assert.equal(verifyProof(await store.rootAt(v), key, value, await store.prove(key, v)), true)
      }
    }
    await store.close()
  })
})
