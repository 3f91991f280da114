import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StateError, emptyHash, verifyProof, type StateStore, type StateStoreInit } from '../src/index.ts'
import { referenceRoot } from './reference.ts'

const text = new TextEncoder()
export const keyOf = (id: string): Uint8Array => text.encode(id)
const bytes = (s: string): Uint8Array => text.encode(s)

function isStateError(code: string) {
  return (err: unknown) => err instanceof StateError && err.code === code
}

/**
 * The behaviour every StateStore implementation must share. `open` returns a fresh,
 * empty store with the given options.
 */
export function stateStoreCompliance(name: string, open: (init: StateStoreInit) => Promise<StateStore>): void {
  describe(`StateStore compliance: ${name}`, () => {
    it('starts empty at version 0 with the empty root', async () => {
      const store = await open({})
      assert.equal(store.version, 0)
      assert.deepEqual(store.root, emptyHash)
      assert.equal(await store.get(bytes('a')), undefined)
      const proof = await store.prove(bytes('a'))
      assert.equal(verifyProof(store.root, bytes('a'), undefined, proof), true)
      assert.equal(verifyProof(store.root, bytes('a'), bytes('x'), proof), false)
      await store.close()
    })

    it('puts, overwrites and deletes; the last operation on a key in a batch wins', async () => {
      const store = await open({})
      const r1 = await store.batch().put(bytes('a'), bytes('1')).put(bytes('b'), bytes('2')).put(bytes('a'), bytes('3')).commit()
      assert.equal(r1.version, 1)
      assert.deepEqual(await store.get(bytes('a')), bytes('3'))
      assert.deepEqual(await store.get(bytes('b')), bytes('2'))
      await store.batch().delete(bytes('a')).put(bytes('c'), new Uint8Array(0)).delete(bytes('zz')).commit()
      assert.equal(await store.get(bytes('a')), undefined)
      assert.deepEqual(await store.get(bytes('c')), new Uint8Array(0), 'an empty value is present, not absent')
      const model = new Map([
        ['b', bytes('2')],
        ['c', new Uint8Array(0)],
      ])
      assert.deepEqual(store.root, referenceRoot(model, keyOf))
      await store.close()
    })

    it('returns to the empty root when every key is deleted', async () => {
      const store = await open({})
      const b = store.batch()
      for (let i = 0; i < 50; i++) b.put(bytes(`k${i}`), bytes(`v${i}`))
      await b.commit()
      assert.notDeepEqual(store.root, emptyHash)
      const d = store.batch()
      for (let i = 0; i < 50; i++) d.delete(bytes(`k${i}`))
      const r = await d.commit()
      assert.deepEqual(r.root, emptyHash)
      await store.close()
    })

    it('commits an empty batch as a new version with the same root', async () => {
      const store = await open({})
      const r1 = await store.batch().put(bytes('a'), bytes('1')).commit()
      const r2 = await store.batch().commit()
      assert.equal(r2.version, 2)
      assert.deepEqual(r2.root, r1.root)
      await store.close()
    })

    it('takes 32-byte keys as paths and hashes other keys', async () => {
      const store = await open({})
      const raw = new Uint8Array(32).fill(7)
      await store.batch().put(raw, bytes('raw')).put(bytes('short'), bytes('s')).commit()
      assert.deepEqual(await store.get(raw), bytes('raw'))
      const model = new Map([
        ['raw', bytes('raw')],
        ['short', bytes('s')],
      ])
      assert.deepEqual(
        store.root,
        referenceRoot(model, (id) => (id === 'raw' ? raw : bytes(id))),
      )
      await store.close()
    })

    it('matches the reference root over many versions and reads every past version', async () => {
      const store = await open({ pruneKeepVersions: Infinity })
      const model = new Map<string, Uint8Array>()
      const history: { root: Uint8Array; model: Map<string, Uint8Array> }[] = [{ root: emptyHash, model: new Map() }]
      for (let v = 1; v <= 12; v++) {
        const b = store.batch()
        for (let i = 0; i < 40; i++) {
          const id = `k${(i * 31 + v * 17) % 150}`
          if ((i + v) % 4 === 0) {
            b.delete(keyOf(id))
            model.delete(id)
          } else {
            const value = bytes(`${id}@${v}`)
            b.put(keyOf(id), value)
            model.set(id, value)
          }
        }
        const r = await b.commit()
        assert.deepEqual(r.root, referenceRoot(model, keyOf), `root at version ${v}`)
        history.push({ root: r.root, model: new Map(model) })
      }
      for (let v = 0; v <= 12; v++) {
        const h = history[v] as { root: Uint8Array; model: Map<string, Uint8Array> }
        assert.deepEqual(await store.rootAt(v), h.root)
        for (let i = 0; i < 150; i += 7) {
          const id = `k${i}`
          const expected = h.model.get(id)
          assert.deepEqual(await store.getAt(keyOf(id), v), expected, `${id} at version ${v}`)
          const proof = await store.prove(keyOf(id), v)
          assert.equal(verifyProof(h.root, keyOf(id), expected, proof), true, `proof of ${id} at ${v}`)
        }
      }
      await store.close()
    })

    it('prunes versions older than pruneKeepVersions and keeps the rest readable', async () => {
      const store = await open({ pruneKeepVersions: 3 })
      const roots: Uint8Array[] = [emptyHash]
      for (let v = 1; v <= 8; v++) {
        const b = store.batch()
        for (let i = 0; i < 30; i++) b.put(bytes(`k${i}`), bytes(`${i}@${v}`))
        roots.push((await b.commit()).root)
      }
      assert.equal(store.oldestVersion, 6)
      await assert.rejects(store.getAt(bytes('k1'), 5), isStateError('STATE_VERSION_PRUNED'))
      await assert.rejects(store.prove(bytes('k1'), 2), isStateError('STATE_VERSION_PRUNED'))
      await assert.rejects(store.rootAt(9), isStateError('STATE_VERSION_UNKNOWN'))
      for (let v = 6; v <= 8; v++) {
        assert.deepEqual(await store.rootAt(v), roots[v])
        for (let i = 0; i < 30; i++) {
          assert.deepEqual(await store.getAt(bytes(`k${i}`), v), bytes(`${i}@${v}`))
          const proof = await store.prove(bytes(`k${i}`), v)
          assert.equal(verifyProof(roots[v] as Uint8Array, bytes(`k${i}`), bytes(`${i}@${v}`), proof), true)
        }
      }
      await store.close()
    })

    it('queues concurrent commits in call order', async () => {
      const store = await open({})
      const a = store.batch().put(bytes('x'), bytes('1'))
      const b = store.batch().put(bytes('x'), bytes('2'))
      const [ra, rb] = await Promise.all([a.commit(), b.commit()])
      assert.equal(ra.version, 1)
      assert.equal(rb.version, 2)
      assert.deepEqual(await store.get(bytes('x')), bytes('2'))
      assert.deepEqual(await store.getAt(bytes('x'), 1), bytes('1'))
      await store.close()
    })

    it('refuses bad arguments, reused batches and use after close with typed errors', async () => {
      const store = await open({})
      const b = store.batch().put(bytes('a'), bytes('1'))
      await b.commit()
      assert.throws(() => b.put(bytes('b'), bytes('2')), isStateError('STATE_BATCH_COMMITTED'))
      assert.throws(() => b.commit(), isStateError('STATE_BATCH_COMMITTED'))
      assert.throws(() => store.batch().put('a' as unknown as Uint8Array, bytes('1')), isStateError('STATE_INVALID_ARGUMENT'))
      assert.throws(() => store.batch().put(new Uint8Array(2000), bytes('1')), isStateError('STATE_INVALID_ARGUMENT'))
      await assert.rejects(store.getAt(bytes('a'), -1), isStateError('STATE_INVALID_ARGUMENT'))
      await assert.rejects(store.getAt(bytes('a'), 1.5), isStateError('STATE_INVALID_ARGUMENT'))
      await store.close()
      await assert.rejects(store.get(bytes('a')), isStateError('STATE_CLOSED'))
      assert.throws(() => store.batch(), isStateError('STATE_CLOSED'))
    })

    it('copies keys and values: later mutation by the caller changes nothing', async () => {
      const store = await open({})
      const key = bytes('k')
      const value = bytes('v')
      const b = store.batch().put(key, value)
      value[0] = 0
      await b.commit()
      const got = (await store.get(bytes('k'))) as Uint8Array
      assert.deepEqual(got, bytes('v'))
      got[0] = 0
      assert.deepEqual(await store.get(bytes('k')), bytes('v'))
      await store.close()
    })
  })
}
