import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeviceError, FileSequenceStore, MemorySequenceStore } from '../src/index.ts'

describe('sequence stores', () => {
  it('hands out strictly increasing numbers across restarts, reserving blocks ahead on disk', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'terrane-seq-')), 'seq')
    const first = new FileSequenceStore({ path, blockSize: 10 })
    const a = [await first.next(), await first.next(), await first.next()]
    assert.deepEqual(a, [1, 2, 3])
    assert.equal(readFileSync(path, 'utf8').trim(), '10', 'the block is reserved before use')
    // "Crash" and restart: numbering resumes above the reservation, never reusing 1..10.
    const second = new FileSequenceStore({ path, blockSize: 10 })
    assert.equal(await second.next(), 11)
    for (let i = 0; i < 12; i++) await second.next()
    assert.equal(await second.next(), 24)
    assert.equal(readFileSync(path, 'utf8').trim(), '30')
  })

  it('gives concurrent callers distinct numbers', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'terrane-seq-')), 'seq')
    const store = new FileSequenceStore({ path, blockSize: 3 })
    const got = await Promise.all(Array.from({ length: 20 }, () => store.next()))
    assert.deepEqual(
      [...got].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
  })

  it('refuses a corrupt sequence file instead of restarting at zero', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'terrane-seq-')), 'seq')
    writeFileSync(path, 'garbage')
    await assert.rejects(
      new FileSequenceStore({ path }).next(),
      (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_SEQUENCE_FILE',
    )
  })

  it('counts from a start value in memory', async () => {
    const store = new MemorySequenceStore(41)
    assert.equal(await store.next(), 42)
  })
})
