// Builds a decided chain for the block-sync benchmark: four validators run the real
// consensus reducer in this process (messages handed over synchronously, so every
// height decides in round 0), a node's real chain application executes each block
// once, and the blocks with the commits the validators signed land in that node's
// block store and state, exactly as a node that took part would have stored them.
import { buildTransfer, createChainApp } from '@terrane/chain'
import { accountIdOfPublicKey, createVerifierPool, seedSigner, type Signer } from '@terrane/crypto'
import {
  createConsensus,
  devnetTimeouts,
  memorySignerStateStore,
  PrivValidator,
  type ConsensusAction,
  type ConsensusEvent,
  type ConsensusState,
  type FinalizeBlockResponse,
} from '@terrane/consensus'
import { openChainStore } from '../src/chain-store.ts'
import { depinChainModules } from '../src/depin/modules.ts'
import { readNodeGenesis } from '../src/genesis.ts'
import { nodePaths } from '../src/node.ts'
import { BlockStore } from '../src/storage/block-store.ts'

export interface ChainFixtureInit {
  /** A node home written by writeDevnet (genesis.json); its data directory receives the chain. */
  home: string
  /** Consensus key seeds of every genesis validator, in genesis order. */
  validatorSeeds: readonly Uint8Array[]
  blocks: number
  /** Signed transfers per block (faucet to a fixed set of recipients). */
  transfersPerBlock: number
  faucets: readonly Signer[]
  onProgress?: (height: number) => void
}

/** Recipients of the fixture's transfers (accounts that do not exist at genesis). */
const recipientsCount = 64

export async function buildChainFixture(init: ChainFixtureInit): Promise<{ height: number; stateRoot: Uint8Array }> {
  const paths = nodePaths(init.home)
  const genesis = await readNodeGenesis(paths.genesis)
  const chainId = genesis.chain.chainId
  const store = await openChainStore(paths.state)
  const pool = createVerifierPool()
  // The same application a node builds (startNode), so the state roots are the ones it computes.
  const depin = depinChainModules(genesis.chain.modules)
  const app = createChainApp({ genesis: genesis.chain, store, verifier: pool, modules: depin.modules, emissionSinks: depin.emissionSinks })
  const { validators } = app.initChain()
  if (app.info().height === 0 && store.hasStaged()) await app.commit()
  const blockStore = await BlockStore.open(paths.blocks)
  await blockStore.saveGenesis({ validators, stateRoot: app.info().stateRoot })

  const signers = init.validatorSeeds.map((seed) => seedSigner(seed))
  // Every message here was signed in this process a moment before, so the fixture's
  // reducers skip verification; the node that syncs the chain verifies every commit.
  const engines = signers.map((s) =>
    createConsensus(
      { chainId, address: accountIdOfPublicKey(s.publicKey), ...devnetTimeouts, isCreatingEmptyBlocks: true },
      { processProposal: (req) => app.processProposal(req), verify: () => true },
    ),
  )
  const privvals = signers.map((s) => new PrivValidator(s, memorySignerStateStore(), chainId))
  const states: ConsensusState[] = engines.map((e) =>
    e.genesisState({ validators, stateRoot: app.info().stateRoot, timeMs: genesis.genesisTimeMs }),
  )
  const recipients = Array.from({ length: recipientsCount }, (_, i) =>
    accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(i + 1)).publicKey),
  )
  let transfersMade = 0
  const executed = new Map<number, FinalizeBlockResponse>()
  const queue: Array<[number, ConsensusEvent]> = []
  // A virtual clock: block times advance by 1 ms per event, from the genesis time.
  let nowMs = genesis.genesisTimeMs
  const deliverAll = (event: ConsensusEvent) => {
    for (let j = 0; j < engines.length; j++) queue.push([j, event])
  }

  const perform = async (i: number, action: ConsensusAction): Promise<void> => {
    switch (action.type) {
      case 'request-txs': {
        const txs: Uint8Array[] = []
        for (let k = 0; k < init.transfersPerBlock; k++) {
          const n = transfersMade++
          const signer = init.faucets[n % init.faucets.length] as Signer
          const nonce = app.account(accountIdOfPublicKey(signer.publicKey)).nonce + Math.floor(k / init.faucets.length)
          const to = recipients[n % recipients.length] as Uint8Array
          txs.push(buildTransfer({ chainId, signer, to, amountMicro: 1n, nonce }, app.txBodySchema))
        }
        const chosen = app.prepareProposal({ height: action.height, timeMs: action.timeMs, txs, bytesMax: action.bytesMax })
        queue.unshift([i, { type: 'proposal-txs', height: action.height, round: action.round, txs: chosen, nowMs }])
        return
      }
      case 'sign-proposal': {
        const proposal = (privvals[i] as PrivValidator).signProposal(action.proposal)
        deliverAll({ type: 'proposal', proposal, block: action.block, nowMs, isVerified: true })
        return
      }
      case 'sign-vote':
        deliverAll({ type: 'vote', vote: (privvals[i] as PrivValidator).signVote(action.vote), nowMs, isVerified: true })
        return
      case 'schedule-timeout':
        // Only the commit timeout matters when every message arrives at once: skip the wait.
        if (action.step === 'commit')
          queue.push([i, { type: 'timeout', height: action.height, round: action.round, step: 'commit', nowMs }])
        return
      case 'decide': {
        const height = action.block.header.height
        let results = executed.get(height)
        if (results === undefined) {
          // Blocks the fixture writes are rebuilt by running it again: no fsync per block.
          await blockStore.save(action.block, action.commit, { isDurable: false })
          results = await app.finalizeBlock(action.request)
          await blockStore.saveResults(height, results, { isDurable: false })
          await app.commit()
          executed.set(height, results)
          executed.delete(height - 2)
          init.onProgress?.(height)
        }
        queue.push([i, { type: 'applied', height, stateRoot: results.stateRoot, validatorUpdates: results.validatorUpdates, nowMs }])
        return
      }
      case 'broadcast-evidence':
        return
    }
  }

  try {
    for (let i = 0; i < engines.length; i++) queue.push([i, { type: 'start', nowMs }])
    while (blockStore.height < init.blocks) {
      const next = queue.shift()
      if (next === undefined) throw new Error(`the fixture's validators stalled at height ${blockStore.height + 1}`)
      const [i, event] = next
      nowMs += 1
      const result = (engines[i] as (typeof engines)[number]).step(states[i] as ConsensusState, { ...event, nowMs })
      states[i] = result.state
      for (const action of result.actions) await perform(i, action)
    }
    await blockStore.flush()
    return { height: blockStore.height, stateRoot: app.info().stateRoot }
  } finally {
    await blockStore.close()
    await store.close()
    await pool.close()
  }
}
