import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@terrane/codec'
import { blockHash, zeroHash, type Block, type Commit } from '@terrane/consensus'
import { BlockStore } from '../src/storage/block-store.ts'

function makeBlock(height: number, txs: Uint8Array[]): Block {
  return {
    header: {
      chainId: 'test',
      height,
      timeMs: 1000 * height,
      lastBlockHash: zeroHash,
      lastCommitHash: zeroHash,
      txRoot: zeroHash,
      stateRoot: zeroHash,
      validatorsHash: zeroHash,
      nextValidatorsHash: zeroHash,
      evidenceHash: zeroHash,
      proposer: new Uint8Array(20),
    },
    txs,
    evidence: [],
    lastCommit: null,
  }
}
const commitFor = (block: Block): Commit => ({ height: block.header.height, round: 0, blockHash: blockHash(block.header), signatures: [] })

test('blocks, commits and the tx index survive a reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-blocks-'))
  try {
    let store = await BlockStore.open(dir)
    const blocks = [makeBlock(1, [Uint8Array.of(1)]), makeBlock(2, []), makeBlock(3, [Uint8Array.of(2), Uint8Array.of(3)])]
    for (const b of blocks) await store.save(b, commitFor(b))
    await store.close()
    store = await BlockStore.open(dir)
    assert.equal(store.height, 3)
    assert.equal(store.baseHeight, 1)
    assert.deepEqual(await store.block(3), blocks[2])
    assert.deepEqual(await store.commit(2), commitFor(blocks[1] as Block))
    assert.equal(await store.heightOfHash(blockHash((blocks[0] as Block).header)), 1)
    assert.deepEqual(await store.txLocation(sha256(Uint8Array.of(3))), { height: 3, index: 1 })
    assert.equal(await store.block(4), undefined)
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('heights must be consecutive', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-blocks-'))
  try {
    const store = await BlockStore.open(dir)
    const b = makeBlock(2, [])
    await assert.rejects(store.save(b, commitFor(b)), RangeError)
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a batch of consecutive blocks is stored in one write; a batch that does not follow is refused whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-blocks-'))
  try {
    let store = await BlockStore.open(dir)
    const blocks = [1, 2, 3, 4].map((h) => makeBlock(h, [Uint8Array.of(h)]))
    await store.saveBatch(blocks.slice(0, 3).map((b) => ({ block: b, commit: commitFor(b) })))
    assert.equal(store.height, 3)
    const fourth = blocks[3] as Block
    await assert.rejects(store.saveBatch([{ block: fourth, commit: commitFor(blocks[2] as Block) }]), RangeError)
    assert.equal(store.height, 3)
    assert.equal(await store.block(4), undefined)
    // Unsynced writes (block sync's) are ordinary writes to a reader, and a flush makes them durable.
    await store.save(fourth, commitFor(fourth), { isDurable: false })
    await store.flush()
    await store.close()
    store = await BlockStore.open(dir)
    assert.equal(store.height, 4)
    assert.equal(store.baseHeight, 1)
    assert.deepEqual(await store.txLocation(sha256(Uint8Array.of(2))), { height: 2, index: 0 })
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('writes from consensus and block sync are serialised: the same block twice is stored once, another block is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-blocks-'))
  try {
    const store = await BlockStore.open(dir)
    const blocks = [1, 2].map((h) => makeBlock(h, []))
    const first = blocks[0] as Block
    // Block sync stores 1-2 while consensus stores 1 (it decided it from gossip): both succeed.
    await Promise.all([store.saveBatch(blocks.map((b) => ({ block: b, commit: commitFor(b) }))), store.save(first, commitFor(first))])
    assert.equal(store.height, 2)
    const other = { ...first, header: { ...first.header, timeMs: 1 } }
    await assert.rejects(store.save(other, commitFor(other)), RangeError)
    assert.equal(await store.heightOfHash(blockHash(other.header)), undefined)
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
