import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, truncate, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { WriteAheadLog } from '../src/storage/wal.ts'
import { DurableFile } from '../src/storage/durable-file.ts'

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-wal-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('records come back in order after reopening', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'wal')
    const { wal } = await WriteAheadLog.open(path)
    for (let i = 0; i < 10; i++) await wal.append(Uint8Array.of(i, i, i), { sync: i % 3 === 0 })
    await wal.close()
    const again = await WriteAheadLog.open(path)
    assert.deepEqual(
      again.records,
      Array.from({ length: 10 }, (_, i) => Uint8Array.of(i, i, i)),
    )
    assert.equal(again.truncatedBytes, 0)
    await again.wal.close()
  })
})

test('a torn or corrupted tail is cut off; every earlier record survives', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 12 }),
      fc.nat(),
      fc.boolean(),
      async (records, cut, flip) => {
        await withDir(async (dir) => {
          const path = join(dir, 'wal')
          const { wal } = await WriteAheadLog.open(path)
          const ends: number[] = []
          for (const r of records) {
            await wal.append(r, { sync: false })
            ends.push(wal.sizeBytes)
          }
          await wal.close()
          const size = (await stat(path)).size
          const at = cut % (size + 1)
          if (flip && at < size) {
            const bytes = await readFile(path)
            bytes[at] = (bytes[at] as number) ^ 0x5a
            await writeFile(path, bytes)
          } else {
            await truncate(path, at)
          }
          const reopened = await WriteAheadLog.open(path)
          // Records wholly before the damaged byte must all be there, in order.
          const intact = ends.filter((end) => end <= at).length
          assert.ok(reopened.records.length >= intact)
          assert.deepEqual(reopened.records.slice(0, intact), records.slice(0, intact))
          for (let i = 0; i < reopened.records.length; i++) assert.deepEqual(reopened.records[i], records[i])
          // And the log is usable again: an append after recovery reads back.
          await reopened.wal.append(Uint8Array.of(9), { sync: true })
          await reopened.wal.close()
          const last = await WriteAheadLog.open(path)
          assert.deepEqual(last.records.at(-1), Uint8Array.of(9))
          await last.wal.close()
        })
      },
    ),
    { numRuns: 60 },
  )
})

test('reset empties the log', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'wal')
    const { wal } = await WriteAheadLog.open(path)
    await wal.append(Uint8Array.of(1), { sync: true })
    await wal.reset()
    await wal.append(Uint8Array.of(2), { sync: true })
    await wal.close()
    const reopened = await WriteAheadLog.open(path)
    assert.deepEqual(reopened.records, [Uint8Array.of(2)])
    await reopened.wal.close()
  })
})

test('a durable file is replaced whole and reads back', async () => {
  await withDir(async (dir) => {
    const file = new DurableFile(join(dir, 'signer-state'))
    assert.equal(await file.read(), undefined)
    await file.write(Uint8Array.of(1, 2, 3))
    await file.write(Uint8Array.of(4, 5))
    assert.deepEqual(await file.read(), Uint8Array.of(4, 5))
  })
})

test('reset empties the log, also when called again on an empty one', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'wal')
    const { wal } = await WriteAheadLog.open(path)
    await wal.reset()
    assert.equal((await stat(path)).size, 0)
    await wal.append(Uint8Array.of(1, 2, 3), { sync: true })
    assert.ok((await stat(path)).size > 0)
    await wal.reset()
    assert.equal(wal.sizeBytes, 0)
    assert.equal((await stat(path)).size, 0)
    await wal.append(Uint8Array.of(4), { sync: true })
    await wal.close()
    const again = await WriteAheadLog.open(path)
    assert.deepEqual(again.records, [Uint8Array.of(4)])
    await again.wal.close()
  })
})
