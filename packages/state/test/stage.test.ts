import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryStateStore } from '../src/index.ts'

const k = (i: number) => new TextEncoder().encode(`key-${i}`)
const v = (i: number) => new TextEncoder().encode(`value-${i}`)

test('stage gives the root that commit then writes, and writes nothing itself', async () => {
  const store = createMemoryStateStore()
  const first = store.batch()
  for (let i = 0; i < 50; i++) first.put(k(i), v(i))
  await first.commit()
  const before = store.root.slice()

  const batch = store.batch()
  batch.put(k(3), v(300)).delete(k(4)).put(k(99), v(99))
  const staged = batch.stage()
  assert.deepEqual(store.root, before, 'staging must not change the committed root')
  assert.equal(store.version, 1)
  assert.deepEqual(await store.get(k(3)), v(3))

  const again = store.batch()
  again.put(k(3), v(300)).delete(k(4)).put(k(99), v(99))
  assert.deepEqual(again.stage(), staged, 'staging is deterministic')

  const result = await batch.commit()
  assert.deepEqual(result.root, staged)
  assert.deepEqual(await store.get(k(3)), v(300))
  assert.equal(await store.get(k(4)), undefined)
})

test('a batch changed after staging commits its new contents', async () => {
  const store = createMemoryStateStore()
  const batch = store.batch()
  batch.put(k(1), v(1))
  const staged = batch.stage()
  batch.put(k(2), v(2))
  const result = await batch.commit()
  assert.notDeepEqual(result.root, staged)
  assert.deepEqual(await store.get(k(2)), v(2))
})

test('a stale staging (another commit happened first) is recomputed on commit', async () => {
  const store = createMemoryStateStore()
  const a = store.batch().put(k(1), v(1))
  a.stage()
  const b = store.batch().put(k(2), v(2))
  await b.commit()
  const result = await a.commit()
  const check = createMemoryStateStore()
  await check.batch().put(k(2), v(2)).commit()
  const expected = await check.batch().put(k(1), v(1)).commit()
  assert.deepEqual(result.root, expected.root)
})
