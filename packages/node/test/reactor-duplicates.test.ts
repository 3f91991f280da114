import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ConsensusEvent } from '@terrane/consensus'
import type { P2PNode } from '@terrane/p2p'
import { ConsensusReactor } from '../src/consensus/reactor.ts'
import type { ConsensusDriver } from '../src/consensus/driver.ts'
import type { BlockStore } from '../src/storage/block-store.ts'
import { encodeMessage } from '../src/consensus/wire.ts'

// A proposal whose block carries enough transaction bytes to count as large.
function proposalBytes(height: number, round: number, salt: number): Uint8Array {
  const txs = Array.from({ length: 20 }, (_, i) => new Uint8Array(300).fill((salt + i) & 0xff))
  const zero32 = new Uint8Array(32)
  return encodeMessage({
    kind: 'proposal',
    proposal: { height, round, polRound: -1, blockHash: zero32, timeMs: 1, proposer: new Uint8Array(20), signature: new Uint8Array(64) },
    block: {
      header: {
        chainId: 'test',
        height,
        timeMs: 1,
        lastBlockHash: zero32,
        lastCommitHash: zero32,
        txRoot: zero32,
        evidenceHash: zero32,
        stateRoot: zero32,
        validatorsHash: zero32,
        nextValidatorsHash: zero32,
        proposer: new Uint8Array(20),
      },
      txs,
      evidence: [],
      lastCommit: null,
    },
  } as unknown as Parameters<typeof encodeMessage>[0])
}

test('a large message copy is decoded and delivered once per height and round; after the round moves on it counts again', async () => {
  let onMessage: ((peerId: string, bytes: Uint8Array) => void) | undefined
  const p2p = {
    registerChannel: async () => {},
    onMessage: (_channel: string, handler: (peerId: string, bytes: Uint8Array) => void) => (onMessage = handler),
    handle: async () => {},
    subscribe: () => {},
    on: () => {},
    broadcast: () => ({ queued: [] }),
    send: () => {},
    penalize: () => assert.fail('a well-formed copy must not cost the peer'),
  } as unknown as P2PNode
  const delivered: ConsensusEvent[] = []
  const current = { height: 5, round: 0 }
  const driver = { deliver: (e: ConsensusEvent) => delivered.push(e), current, height: 5 } as unknown as ConsensusDriver
  const reactor = new ConsensusReactor({ p2p, driver: () => driver, blockStore: { baseHeight: 1 } as unknown as BlockStore, log: () => {} })
  await reactor.start()
  try {
    const bytes = proposalBytes(5, 0, 1)
    assert.ok(bytes.length >= 4096)
    for (const peer of ['a', 'b', 'c']) onMessage?.(peer, bytes)
    assert.equal(delivered.length, 1)
    assert.equal(reactor.duplicatesDropped, 2)
    onMessage?.('a', proposalBytes(5, 0, 2)) // another block: not a copy
    assert.equal(delivered.length, 2)
    current.round = 1
    onMessage?.('b', bytes)
    assert.equal(delivered.length, 3, 'a copy arriving in a later round is delivered again')
  } finally {
    await reactor.stop()
  }
})
