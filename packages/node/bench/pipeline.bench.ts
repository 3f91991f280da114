// One validator's share of the chain's headline figure (issue 5): signed transfers through
// POST /v1/txs/batch into a one-validator node in this process (checkTx with signature,
// mempool, proposal, execution, state commit, block store, API index), measured in CPU
// time per committed transfer, which stays meaningful when other work shares the machine.
// Each validator of a devnet does this work for every transaction (and the devnet adds
// gossip), so 1 / (CPU per transfer) is the ceiling of one validator core.
//   npm run bench -- pipeline
//   TERRANE_PIPELINE_BENCH_TXS=20000 npm run bench -- pipeline
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ed25519VerifyLimitPerSecond, report } from '@terrane/bench'
import { buildTransfer, mempoolNonceAheadMax } from '@terrane/chain'
import { toHex } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { loadNodeConfig, startNode, writeDevnet } from '../src/index.ts'

const txsTotal = Number(process.env.TERRANE_PIPELINE_BENCH_TXS ?? 8192)
/** The mempool holds at most this many nonces ahead per sender: a wave fills it, then waits for blocks. */
const batchTxs = 256

const dir = await mkdtemp(join(tmpdir(), 'terrane-pipeline-bench-'))
const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0, isDepin: false })
const config = await loadNodeConfig(layout.nodes[0]!.home, { api: { port: 0 }, mqtt: { port: -1 } })
const node = await startNode({ config, logger: pino({ level: 'silent' }) })
try {
  while (node.blockStore.height < 2) await new Promise((r) => setTimeout(r, 50))
  const senders = layout.faucets
  const waveTxs = senders.length * mempoolNonceAheadMax
  const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(42)).publicKey)
  const nonces = senders.map(() => 0)
  // Signed before the clock starts: signing is the client's work, not the chain's.
  const txs = Array.from({ length: txsTotal }, (_, i) => {
    const s = i % senders.length
    return toHex(
      buildTransfer({ chainId: layout.chainId, signer: senders[s]!, to, amountMicro: 1n, nonce: nonces[s]!++ }, node.app.txBodySchema),
    )
  })
  const heightBefore = node.blockStore.height
  const cpuBefore = process.cpuUsage()
  const startMs = performance.now()
  for (let wave = 0; wave * waveTxs < txsTotal; wave++) {
    const part = txs.slice(wave * waveTxs, (wave + 1) * waveTxs)
    const requests = []
    for (let k = 0; k < part.length; k += batchTxs) {
      requests.push(
        (async () => {
          const res = await fetch(`${node.apiUrl}/v1/txs/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ txs: part.slice(k, k + batchTxs) }),
          })
          const { results } = (await res.json()) as { results: Array<{ hash?: string }> }
          if (!res.ok || results.some((r) => r.hash === undefined)) throw new Error(`the node refused transfers (HTTP ${res.status})`)
        })(),
      )
    }
    await Promise.all(requests)
    while (node.mempool.size > 0) await new Promise((r) => setTimeout(r, 5))
  }
  const wallMs = performance.now() - startMs
  const cpu = process.cpuUsage(cpuBefore)
  const cpuMsPerTx = (cpu.user + cpu.system) / 1000 / txsTotal
  const limit = ed25519VerifyLimitPerSecond({ durationMsMin: 1000 })
  report('node-pipeline', [
    {
      name: 'CPU per committed transfer, one validator (node + HTTP client)',
      value: cpuMsPerTx,
      unit: 'ms',
      note: `${txsTotal} transfers in ${node.blockStore.height - heightBefore} blocks; load average ${loadavg()[0]!.toFixed(1)}`,
    },
    {
      name: 'transfers per CPU second, one validator',
      value: 1000 / cpuMsPerTx,
      unit: 'tx/s',
      ratio: 1000 / cpuMsPerTx / limit,
      ratioTo: 'ed25519 verify/s, 1 core (each transfer needs one)',
    },
    {
      name: 'committed transfers/s, wall clock',
      value: (txsTotal * 1000) / wallMs,
      unit: 'tx/s',
      note: 'waves of 1,024 (the nonce window)',
    },
    { name: 'ed25519 verify, libsodium, 1 core (same run)', value: limit, unit: 'ops/s' },
  ])
} finally {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
}
