// Transfers applied per second by the state machine alone (one core), and block
// execution + commit time, with signature checks and with signatures pre-verified
// (as when checkTx saw the transactions in the mempool first).
import { performance } from 'node:perf_hooks'
import { accountIdOfPublicKey, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import { ed25519VerifyLimitPerSecond, percentile, report, type BenchRow } from '@terrane/bench'
import { createMemoryStateStore } from '@terrane/state'
import {
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  signTx,
  stateStoreAdapter,
  type ChainApp,
  type ChainStore,
  type FinalizeBlockRequest,
} from '../src/index.ts'

const chainId = 'terrane-bench-1'
/** Senders; a 10,000-tx block has each send 5 transactions with consecutive nonces. */
const senderCount = 2_000
const TRN = 1_000_000n

function signer(i: number, tag: number): Signer {
  const seed = new Uint8Array(32)
  seed[0] = tag
  seed[1] = i & 0xff
  seed[2] = (i >> 8) & 0xff
  return seedSigner(seed)
}

const senders = Array.from({ length: senderCount }, (_, i) => signer(i, 1))
const addresses = senders.map((s) => accountIdOfPublicKey(s.publicKey))
const operators = Array.from({ length: 4 }, (_, i) => signer(i, 2))
const consensus = Array.from({ length: 4 }, (_, i) => signer(i, 3))

const genesis = parseGenesis({
  chainId,
  accounts: [
    ...addresses.map((a) => ({ address: encodeAddress(a), balance: String(1_000_000n * TRN) })),
    ...operators.map((o) => ({ address: encodeAddress(accountIdOfPublicKey(o.publicKey)), balance: String(1_000n * TRN) })),
  ],
  validators: operators.map((o, i) => ({
    operator: encodeAddress(accountIdOfPublicKey(o.publicKey)),
    consensusKey: Buffer.from((consensus[i] as Signer).publicKey).toString('hex'),
    selfStake: String(100n * TRN),
  })),
})

interface Chain {
  app: ChainApp
  height: number
  votes: FinalizeBlockRequest['lastCommitVotes']
  nonces: number[]
}

function newChain(store: ChainStore = new MemoryChainStore()): Chain {
  const app = createChainApp({ genesis, store })
  const { validators } = app.initChain()
  return {
    app,
    height: 0,
    votes: validators.map((v) => ({ validator: v.address, power: v.power, signed: true })),
    nonces: addresses.map(() => 0),
  }
}

/** `count` transfers spread over the senders, each with its next nonce (tracked per chain). */
function transfers(chain: Chain, count: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let k = 0; k < count; k++) {
    const i = k % senderCount
    const nonce = chain.nonces[i] as number
    chain.nonces[i] = nonce + 1
    const to = addresses[(i * 7 + nonce + 1) % senderCount] as Uint8Array
    out.push(
      signTx(
        chain.app.txBodySchema,
        {
          chainId,
          sender: addresses[i] as Uint8Array,
          nonce,
          feeMicro: 1_000n,
          expiryHeight: 0,
          messages: [{ type: 'bank/send', to, amountMicro: 1n }],
        },
        [senders[i] as Signer],
      ),
    )
  }
  return out
}

async function runBlock(chain: Chain, txs: Uint8Array[]): Promise<{ executeMs: number; commitMs: number }> {
  chain.height++
  const t0 = performance.now()
  const res = await chain.app.finalizeBlock({
    height: chain.height,
    timeMs: chain.height * 1000,
    proposer: chain.votes[0]?.validator as Uint8Array,
    txs,
    lastCommitVotes: chain.votes,
    misbehavior: [],
  })
  const t1 = performance.now()
  await chain.app.commit()
  const t2 = performance.now()
  const failed = res.txResults.filter((r) => r.code !== 0)
  if (failed.length > 0) throw new Error(`${failed.length} transactions failed: ${failed[0]?.log}`)
  return { executeMs: t1 - t0, commitMs: t2 - t1 }
}

const rows: BenchRow[] = []
const verifyLimit = ed25519VerifyLimitPerSecond({ durationMsMin: 1000 })
rows.push({ name: 'ed25519 verify, libsodium, 1 core (limit)', value: verifyLimit, unit: 'ops/s' })

const cases: Array<{ blockTxs: number; isPreverified: boolean; storeName: 'memory' | 'state' }> = [
  { blockTxs: 1_000, isPreverified: false, storeName: 'memory' },
  { blockTxs: 1_000, isPreverified: true, storeName: 'memory' },
  { blockTxs: 10_000, isPreverified: false, storeName: 'memory' },
  { blockTxs: 10_000, isPreverified: true, storeName: 'memory' },
  { blockTxs: 10_000, isPreverified: true, storeName: 'state' },
]
for (const { blockTxs, isPreverified, storeName } of cases) {
  const rounds = blockTxs === 1_000 ? 8 : 3
  const chain = newChain(storeName === 'memory' ? new MemoryChainStore() : stateStoreAdapter(createMemoryStateStore()))
  // Warm-up block (JIT, caches): not measured.
  await runBlock(chain, transfers(chain, blockTxs))
  const totals: number[] = []
  const executes: number[] = []
  const commits: number[] = []
  for (let r = 1; r <= rounds; r++) {
    let txs = transfers(chain, blockTxs)
    if (isPreverified) {
      for (const tx of txs) if (chain.app.checkTx(tx).code !== 0) throw new Error('checkTx refused a transfer')
      // The block arrives as other byte arrays (from the proposal), so only the signature cache applies.
      txs = txs.map((tx) => tx.slice())
    }
    const { executeMs, commitMs } = await runBlock(chain, txs)
    executes.push(executeMs)
    commits.push(commitMs)
    totals.push(executeMs + commitMs)
  }
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length
  const label = `${isPreverified ? 'signatures pre-verified' : 'signatures checked'}, ${storeName === 'memory' ? 'MemoryChainStore' : '@terrane/state memory StateStore'}`
  rows.push({
    name: `block of ${blockTxs.toLocaleString('en-US')} transfers, execute + commit, ${label}`,
    value: mean,
    unit: 'ms',
    note: `p50 ${percentile(totals, 50).toFixed(1)} ms, max ${Math.max(...totals).toFixed(1)} ms; execute ${percentile(executes, 50).toFixed(1)} ms, commit ${percentile(commits, 50).toFixed(1)} ms (median of ${rounds})`,
  })
  const perSecond = (blockTxs * 1000) / mean
  rows.push({
    name: `transfers/s, state machine alone, 1 core, ${label} (${blockTxs.toLocaleString('en-US')}-tx blocks)`,
    value: perSecond,
    unit: 'tx/s',
    ratio: perSecond / verifyLimit,
    ratioTo: 'ed25519 verify/s, 1 core',
    target: isPreverified ? '' : '>= 5,000 tx/s (chain headline, 4 validators on 2 cores)',
  })
}

report('chain', rows)
