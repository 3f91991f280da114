import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encode, sha256 } from '@terrane/codec'
import { seedSigner, signInDomain } from '@terrane/crypto'
import { createConsensus, voteSignBytes, type ConsensusEvent, type ConsensusState, type Genesis } from '@terrane/consensus'
import type { P2PNode, PenaltyReason } from '@terrane/p2p'
import { BlockSync, VerifiedSignatures, verifiedSignaturesMax, type SyncPeer } from '../src/consensus/block-sync.ts'
import type { ConsensusDriver } from '../src/consensus/driver.ts'
import { blocksResponseSchema, type BlocksResponse } from '../src/consensus/wire.ts'
import { BlockStore } from '../src/storage/block-store.ts'
import { devnetSeed, nodePaths, readNodeGenesis, writeDevnet } from '../src/index.ts'
import { buildChainFixture } from '../bench/chain-fixture.ts'

const blocksTotal = 6
let freshStores = 0
let dir = ''
let servingHome = ''

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'terrane-block-sync-'))
  const layout = await writeDevnet({ dir, validators: 4, fullNodes: 1, basePort: 0, genesisTimeMs: 1_700_000_000_000, isDepin: false })
  servingHome = (layout.nodes[4] as { home: string }).home
  await buildChainFixture({
    home: servingHome,
    validatorSeeds: [0, 1, 2, 3].map((i) => devnetSeed('terrane-devnet', `validator-${i}`)),
    blocks: blocksTotal,
    transfersPerBlock: 1,
    faucets: layout.faucets,
  })
})

after(async () => {
  await rm(dir, { recursive: true, force: true })
})

/**
 * The consensus driver's block-sync surface, over the real reducer: commits in, and
 * each decision applied with the results the serving node stored (no execution).
 */
class ReducerDriver {
  state: ConsensusState
  private readonly queue: ConsensusEvent[] = []
  readonly rejected: string[] = []
  private readonly consensus

  constructor(
    chainId: string,
    genesis: Genesis,
    private readonly store: BlockStore,
    private readonly results: BlockStore,
  ) {
    this.consensus = createConsensus({ chainId, address: null })
    this.state = this.consensus.genesisState(genesis)
  }
  get height(): number {
    return this.state.height
  }
  get current(): ConsensusState {
    return this.state
  }
  deliver(event: ConsensusEvent): void {
    this.queue.push(event)
  }
  async idle(): Promise<void> {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      const result = this.consensus.step(this.state, event)
      this.state = result.state
      if (result.rejected !== undefined) this.rejected.push(result.rejected)
      for (const action of result.actions) {
        if (action.type !== 'decide') continue
        const height = action.block.header.height
        if (this.store.height < height) await this.store.save(action.block, action.commit)
        const r = await this.results.results(height)
        assert.ok(r !== undefined)
        this.queue.unshift({ type: 'applied', height, stateRoot: r.stateRoot, validatorUpdates: r.validatorUpdates, nowMs: 0 })
      }
    }
  }
}

async function setUp(tamper?: (response: BlocksResponse) => BlocksResponse) {
  const served = await BlockStore.open(nodePaths(servingHome).blocks)
  const store = await BlockStore.open(join(dir, `fresh-${freshStores++}`))
  const genesisRecord = await served.genesis()
  assert.ok(genesisRecord !== undefined)
  const genesis = await readNodeGenesis(nodePaths(servingHome).genesis)
  const driver = new ReducerDriver(genesis.chain.chainId, { ...genesisRecord, timeMs: genesis.genesisTimeMs }, store, served)
  const penalties: Array<[string, PenaltyReason]> = []
  const peers = new Map<string, SyncPeer>([['server', { height: blocksTotal + 1, baseHeight: 1 }]])
  const serving = new BlockSync({
    p2p: {} as P2PNode,
    driver: () => driver as unknown as ConsensusDriver,
    blockStore: served,
    peers: () => new Map(),
    forgetPeer: () => {},
    log: () => {},
  })
  const p2p = {
    request: async (_peerId: string, _protocol: string, bytes: Uint8Array) => {
      const answer = await serving.serve(bytes)
      if (tamper === undefined) return answer
      const { decode } = await import('@terrane/codec')
      return encode(blocksResponseSchema, tamper(decode(blocksResponseSchema, answer)))
    },
    penalize: (peerId: string, reason: PenaltyReason) => {
      penalties.push([peerId, reason])
      return { isBanned: false }
    },
  } as unknown as P2PNode
  const verified = new VerifiedSignatures()
  const sync = new BlockSync({
    p2p,
    driver: () => driver as unknown as ConsensusDriver,
    blockStore: store,
    peers: () => peers,
    forgetPeer: (id) => peers.delete(id),
    log: () => {},
    verifiedSignatures: verified,
  })
  const run = async () => {
    await sync.maybeStart()
    await driver.idle()
  }
  const close = async () => {
    await sync.stop()
    await store.close()
    await served.close()
  }
  return { driver, store, penalties, peers, verified, run, close }
}

test('a node behind fetches, verifies, stores and applies every block, then stops', async () => {
  const s = await setUp()
  try {
    // Block 1 comes before the chain id is known (nothing stored): consensus checks it alone.
    await s.run()
    assert.equal(s.driver.height, blocksTotal + 1)
    assert.equal(s.store.height, blocksTotal)
    assert.deepEqual(s.penalties, [])
    assert.deepEqual(s.driver.rejected, [])
    assert.ok(s.verified.size >= 3, 'pool-verified signatures reach the cache')
  } finally {
    await s.close()
  }
})

test('a commit with a forged signature is refused, costs the peer, and nothing after it is stored', async () => {
  const forger = seedSigner(sha256(Uint8Array.of(9)))
  const s = await setUp((response) => ({
    items: response.items.map((item) => {
      if (item.block.header.height !== 4) return item
      const signatures = item.commit.signatures.map((sig, i) => {
        if (i !== 0) return sig
        const vote = {
          type: 'precommit' as const,
          height: 4,
          round: item.commit.round,
          blockHash: item.commit.blockHash,
          timeMs: sig.timeMs,
          validator: sig.validator,
        }
        return {
          ...sig,
          signature: signInDomain(forger, { chainId: item.block.header.chainId, kind: 'vote' }, voteSignBytes(vote)),
        }
      })
      return { ...item, commit: { ...item.commit, signatures } }
    }),
  }))
  try {
    await s.run()
    await s.run()
    assert.equal(s.driver.height, 4, 'applied up to the forged commit')
    assert.equal(s.store.height, 3, 'the forged block is not stored')
    assert.ok(s.penalties.some(([peer, reason]) => peer === 'server' && reason === 'invalid-data'))
  } finally {
    await s.close()
  }
})

test('answers that were not asked for, or empty answers from a peer claiming more, cost the peer', async () => {
  const shifted = await setUp((response) => ({ items: response.items.slice(1) }))
  try {
    await shifted.run()
    assert.equal(shifted.driver.height, 1)
    assert.deepEqual(shifted.penalties, [['server', 'unsolicited-response']])
  } finally {
    await shifted.close()
  }
  const empty = await setUp(() => ({ items: [] }))
  try {
    await empty.run()
    assert.deepEqual(empty.penalties, [['server', 'lying-about-height']])
    assert.equal(empty.peers.has('server'), false, 'the peer is forgotten until its next status')
  } finally {
    await empty.close()
  }
})

test('the verified-signature cache answers only for the exact key, payload, chain and kind', () => {
  const signer = seedSigner(sha256(Uint8Array.of(1)))
  const payload = Uint8Array.of(1, 2, 3)
  const signature = signInDomain(signer, { chainId: 'c', kind: 'vote' }, payload)
  const cache = new VerifiedSignatures()
  const forged = new Uint8Array(64).fill(7)
  cache.add('c', 'vote', signer.publicKey, payload, forged)
  // A cached entry for these exact inputs is trusted (the pool verified it) ...
  assert.equal(cache.verify('c', 'vote', signer.publicKey, payload, forged), true)
  // ... but any other input is verified inline: a different payload, chain or kind fails.
  assert.equal(cache.verify('c', 'vote', signer.publicKey, Uint8Array.of(1, 2, 4), forged), false)
  assert.equal(cache.verify('d', 'vote', signer.publicKey, payload, forged), false)
  assert.equal(cache.verify('c', 'proposal', signer.publicKey, payload, forged), false)
  // Misses fall back to the real verifier.
  assert.equal(cache.verify('c', 'vote', signer.publicKey, payload, signature), true)
  for (let i = 0; i < verifiedSignaturesMax + 10; i++) {
    const sig = new Uint8Array(64)
    new DataView(sig.buffer).setUint32(0, i)
    cache.add('c', 'vote', signer.publicKey, payload, sig)
  }
  assert.equal(cache.size, verifiedSignaturesMax)
  assert.equal(cache.verify('c', 'vote', signer.publicKey, payload, forged), false, 'the oldest entries are evicted')
})
