import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decode, encode } from '@terrane/codec'
import {
  blockHash,
  blockSchema,
  commitHash,
  evidenceHash,
  headerSchema,
  txRoot,
  validatorSetHash,
  zeroHash,
  type Block,
  type Header,
} from '../src/index.ts'

const h32 = (b: number) => new Uint8Array(32).fill(b)

function header(): Header {
  return {
    chainId: 'terrane-test',
    height: 1,
    timeMs: 1_000,
    lastBlockHash: zeroHash,
    lastCommitHash: zeroHash,
    txRoot: txRoot([]),
    stateRoot: h32(1),
    validatorsHash: validatorSetHash([]),
    nextValidatorsHash: validatorSetHash([]),
    evidenceHash: evidenceHash([]),
    proposer: new Uint8Array(20).fill(7),
  }
}

test('a block round-trips through its canonical encoding', () => {
  const block: Block = { header: header(), txs: [Uint8Array.of(1, 2)], evidence: [], lastCommit: null }
  const back = decode(blockSchema, encode(blockSchema, block))
  assert.deepEqual(back, block)
})

test('the block hash covers every header field', () => {
  const a = header()
  const b = { ...a, stateRoot: h32(2) }
  assert.notDeepEqual(blockHash(a), blockHash(b))
  assert.deepEqual(blockHash(a), blockHash(decode(headerSchema, encode(headerSchema, a))))
})

test('commit hash is zeros for no commit and changes with signatures', () => {
  assert.deepEqual(commitHash(null), zeroHash)
  const c = { height: 1, round: 0, blockHash: h32(3), signatures: [] }
  const d = { ...c, signatures: [{ validator: new Uint8Array(20), timeMs: 5, signature: new Uint8Array(64) }] }
  assert.notDeepEqual(commitHash(c), commitHash(d))
})
