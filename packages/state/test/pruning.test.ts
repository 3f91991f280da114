import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createStateStore, type StateBackend } from '../src/index.ts'

/** A Map backend that exposes how many records it holds. */
function countingBackend(): StateBackend & { size(): number } {
  const records = new Map<string, Uint8Array>()
  const id = (key: Uint8Array) => Buffer.from(key).toString('latin1')
  return {
    readSync: (key) => records.get(id(key)),
    write: async (ops) => {
      for (const op of ops) {
        if (op.type === 'put') records.set(id(op.key), op.value.slice())
        else records.delete(id(op.key))
      }
    },
    close: async () => undefined,
    size: () => records.size,
  }
}

async function recordsAfter(pruneKeepVersions: number, versions: number): Promise<number[]> {
  const backend = countingBackend()
  const store = createStateStore(backend, { pruneKeepVersions })
  const text = new TextEncoder()
  const sizes: number[] = []
  for (let v = 1; v <= versions; v++) {
    const b = store.batch()
    for (let i = 0; i < 60; i++) b.put(text.encode(`k${i}`), text.encode(`${i}@${v}`))
    await b.commit()
    sizes.push(backend.size())
  }
  await store.close()
  return sizes
}

describe('pruning', () => {
  it('deletes the records of pruned versions, so the store stops growing', async () => {
    const pruned = await recordsAfter(2, 30)
    const archive = await recordsAfter(Infinity, 30)
    // Without pruning every version adds its pages and values...
    assert.ok((archive[29] as number) > 8 * (archive[2] as number), `archive: ${archive[2]} -> ${archive[29]}`)
    // ...with two versions kept, the record count is flat once pruning starts.
    assert.equal(pruned[29], pruned[9], `pruned: ${pruned.join(',')}`)
  })
})
