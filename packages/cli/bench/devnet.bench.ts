// The chain's headline figure (issue 5): 4 validators as separate processes on this
// machine, signed transfers from an open-loop load generator through the nodes'
// REST API (every 20 ms, what is due goes out as one POST /v1/txs/batch per node),
// rising rates until saturation, then latency at 50% and 80% of it.
//   npm run bench -- devnet
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519VerifyLimitPerSecond, percentile, report, type BenchRow } from '@terrane/bench'
import { buildTransfer } from '@terrane/chain'
import { sha256, toHex } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner, type Signer } from '@terrane/crypto'
import { devnetFaucets, devnetSeed } from '@terrane/node'
import { createClient } from '@terrane/sdk'
import { LocalDevnet } from '../src/index.ts'

const validators = 4
const basePort = 37_000
/** Senders: the mempool admits at most 64 nonces ahead per sender (mempoolNonceAheadMax), so load needs many. */
const sendersCount = 256
const stepSeconds = Number(process.env.TERRANE_BENCH_STEP_S ?? 8)
const offeredRates = (process.env.TERRANE_BENCH_RATES ?? '250,500,1000,2000,4000,8000').split(',').map(Number)
/** Transactions in flight at most (beyond it, the generator itself is saturated and says so). */
const inFlightMax = 20_000
/** The generator sends what is due every tick, one POST /v1/txs/batch per node. */
const batchTickMs = 20
const batchTxsMax = 1000
const pollMs = 50

interface Sent {
  submitMs: number
  step: number
}

const dir = await mkdtemp(join(tmpdir(), 'terrane-bench-'))
const devnet = await LocalDevnet.open({ dir, validators, basePort })
const urls = devnet.info.nodes.map((n) => n.apiUrl)
const clients = urls.map((url) => createClient({ url, timeoutMs: 30_000 }))
const chainId = devnet.info.chainId
const sent = new Map<string, Sent>()
const committedAt = new Map<string, number>() // hash -> ms the block was seen
const blockLog: Array<{ seenMs: number; txs: number }> = []
let watching = true

async function watchBlocks(): Promise<void> {
  const client = clients[0]!
  let seen = (await client.status()).height
  while (watching) {
    const height = (await client.status()).height
    for (let h = seen + 1; h <= height; h++) {
      const block = await client.block(h)
      if (block === null) break
      const now = performance.now()
      for (const hash of block.txHashes) committedAt.set(hash, now)
      blockLog.push({ seenMs: now, txs: block.txHashes.length })
      seen = h
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

async function submit(url: string, hex: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/txs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: hex }),
    })
    await res.arrayBuffer()
    return res.ok
  } catch {
    return false
  }
}

/** Submits a batch (POST /v1/txs/batch); returns how many the node refused. */
async function submitBatch(url: string, hexes: readonly string[]): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/txs/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ txs: hexes }),
    })
    if (!res.ok) {
      await res.arrayBuffer()
      return hexes.length
    }
    const { results } = (await res.json()) as { results: Array<{ hash?: string }> }
    return results.filter((r) => r.hash === undefined).length
  } catch {
    return hexes.length
  }
}

async function waitCommitted(hashes: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (hashes.some((h) => !committedAt.has(h))) {
    if (Date.now() > deadline) throw new Error('setup transactions did not commit')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
async function cpuSecondsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0
  }
}

/** CPU seconds used so far by the validators and by this load generator. */
async function cpuSeconds(): Promise<{ nodes: number; generator: number }> {
  const perNode = await Promise.all(devnet.nodes.map((n) => cpuSecondsOf(n.pid)))
  const own = process.cpuUsage()
  return { nodes: perNode.reduce((a, b) => a + b, 0), generator: (own.user + own.system) / 1e6 }
}

interface StepResult {
  offered: number
  submitted: number
  rejected: number
  generatorDropped: number
  committedPerSecond: number
  latenciesMs: number[]
  committedShare: number
  /** Validators' CPU milliseconds per committed transaction (all 4 processes together). */
  nodeCpuMsPerTx: number
  generatorCpuMsPerTx: number
}

try {
  console.log(`starting ${validators} validators in ${dir} ...`)
  devnet.start()
  await devnet.waitForHeight(2, 300_000)
  console.log(`devnet up: ${devnet.describe()}`)
  const watcher = watchBlocks()

  // Setup: the 16 genesis faucets fund `sendersCount` fresh senders.
  const faucets = devnetFaucets()
  const senders: Signer[] = Array.from({ length: sendersCount }, (_, i) => seedSigner(devnetSeed('bench', `sender-${i}`)))
  const nonces = new Array<number>(sendersCount).fill(0)
  const setup: string[] = []
  await Promise.all(
    faucets.map(async (faucet, f) => {
      for (let k = 0; k < sendersCount / faucets.length; k++) {
        const to = accountIdOfPublicKey((senders[f * (sendersCount / faucets.length) + k] as Signer).publicKey)
        const tx = buildTransfer({ chainId, signer: faucet, to, amountMicro: 1_000_000_000n, nonce: k })
        setup.push(toHex(sha256(tx)))
        if (!(await submit(urls[f % validators] as string, toHex(tx)))) throw new Error('setup transfer refused')
      }
    }),
  )
  await waitCommitted(setup, 60_000)
  console.log(`funded ${sendersCount} senders`)

  const sink = accountIdOfPublicKey(seedSigner(devnetSeed('bench', 'sink')).publicKey)
  let nextSender = 0
  /** Builds one signed transfer (round-robin over senders, each in nonce order). */
  const nextTx = (): { hex: string; hash: string; url: string } => {
    const s = nextSender++ % sendersCount
    const nonce = nonces[s] as number
    nonces[s] = nonce + 1
    const tx = buildTransfer({ chainId, signer: senders[s] as Signer, to: sink, amountMicro: 1n, nonce })
    return { hex: toHex(tx), hash: toHex(sha256(tx)), url: urls[s % validators] as string }
  }

  let stepIndex = 0
  async function runStep(rate: number, seconds: number): Promise<StepResult> {
    const step = stepIndex++
    const total = Math.round(rate * seconds)
    // Sign ahead so signing does not pace the open loop.
    const txs = Array.from({ length: total }, nextTx)
    let inFlight = 0
    let rejected = 0
    let dropped = 0
    const cpuBefore = await cpuSeconds()
    const startMs = performance.now()
    const pending: Promise<void>[] = []
    // Open loop: every tick, the transactions due by then go out, one batch per node.
    // A transaction's latency counts from its due time, so batching delay is included.
    for (let i = 0; i < total;) {
      await new Promise((r) => setTimeout(r, batchTickMs))
      const now = performance.now()
      const byUrl = new Map<string, string[]>()
      for (; i < total && startMs + (i * 1000) / rate <= now; i++) {
        const tx = txs[i] as { hex: string; hash: string; url: string }
        if (inFlight >= inFlightMax) {
          dropped++
          continue
        }
        sent.set(tx.hash, { submitMs: startMs + (i * 1000) / rate, step })
        const batch = byUrl.get(tx.url) ?? []
        batch.push(tx.hex)
        byUrl.set(tx.url, batch)
      }
      for (const [url, hexes] of byUrl) {
        for (let k = 0; k < hexes.length; k += batchTxsMax) {
          const part = hexes.slice(k, k + batchTxsMax)
          inFlight += part.length
          pending.push(
            submitBatch(url, part).then((refused) => {
              inFlight -= part.length
              rejected += refused
            }),
          )
        }
      }
    }
    const endMs = performance.now()
    await Promise.all(pending)
    // Let the last blocks of the step land.
    await new Promise((r) => setTimeout(r, 3000))
    const cpuAfter = await cpuSeconds()
    const mine = txs.filter((t) => sent.get(t.hash)?.step === step)
    const latenciesMs = mine.flatMap((t) => {
      const at = committedAt.get(t.hash)
      return at === undefined ? [] : [at - (sent.get(t.hash) as Sent).submitMs]
    })
    const inWindow = blockLog.filter((b) => b.seenMs >= startMs && b.seenMs <= endMs + 1000).reduce((n, b) => n + b.txs, 0)
    const committed = latenciesMs.length
    return {
      nodeCpuMsPerTx: committed === 0 ? NaN : ((cpuAfter.nodes - cpuBefore.nodes) * 1000) / committed,
      generatorCpuMsPerTx: committed === 0 ? NaN : ((cpuAfter.generator - cpuBefore.generator) * 1000) / committed,
      offered: rate,
      submitted: mine.length,
      rejected,
      generatorDropped: dropped,
      committedPerSecond: inWindow / ((endMs + 1000 - startMs) / 1000),
      latenciesMs,
      committedShare: mine.length === 0 ? 0 : latenciesMs.length / mine.length,
    }
  }

  const steps: StepResult[] = []
  for (const rate of offeredRates) {
    const r = await runStep(rate, stepSeconds)
    steps.push(r)
    console.log(
      `offered ${rate}/s: committed ${r.committedPerSecond.toFixed(0)}/s, refused ${r.rejected}, generator-dropped ${r.generatorDropped}, ` +
        `committed ${(r.committedShare * 100).toFixed(1)}%, p50 ${percentile(r.latenciesMs, 50).toFixed(0)} ms, ` +
        `validators' CPU ${r.nodeCpuMsPerTx.toFixed(2)} ms/tx, generator ${r.generatorCpuMsPerTx.toFixed(2)} ms/tx`,
    )
    // Saturated: the chain commits clearly less than offered, or refuses transactions.
    if (r.committedPerSecond < 0.8 * rate || r.rejected > 0.05 * r.submitted || r.generatorDropped > 0) break
  }
  const saturation = Math.max(...steps.map((s) => s.committedPerSecond))
  // Drain the mempools before the latency runs.
  await new Promise((r) => setTimeout(r, 5000))
  const half = await runStep(Math.max(10, Math.round(saturation * 0.5)), stepSeconds)
  const eighty = await runStep(Math.max(10, Math.round(saturation * 0.8)), stepSeconds)
  watching = false
  await watcher

  const verifyPerCore = ed25519VerifyLimitPerSecond({ durationMsMin: 1000 })
  const cores = availableParallelism()
  const limit = (verifyPerCore * cores) / validators
  // CPU per transfer is best measured where the most transfers committed.
  const busiest = steps.reduce((best, st) => (st.committedPerSecond > best.committedPerSecond ? st : best))
  const rows: BenchRow[] = [
    {
      name: 'committed transfers/s at saturation, 4 validators',
      value: saturation,
      unit: 'tx/s',
      ratio: saturation / limit,
      ratioTo: `ed25519 verify/s on ${cores} cores / ${validators} validators (${Math.round(limit)})`,
      target: '>= 5,000 tx/s',
      note: `rates offered: ${steps.map((s) => s.offered).join(', ')}`,
    },
    {
      name: 'submit-to-final p50 at 50% load',
      value: percentile(half.latenciesMs, 50),
      unit: 'ms',
      target: '< 300 ms',
      note: `${half.offered} tx/s offered, ${(half.committedShare * 100).toFixed(1)}% committed`,
    },
    { name: 'submit-to-final p99 at 50% load', value: percentile(half.latenciesMs, 99), unit: 'ms', target: '< 1,000 ms' },
    {
      name: 'submit-to-final p50 at 80% load',
      value: percentile(eighty.latenciesMs, 50),
      unit: 'ms',
      note: `${eighty.offered} tx/s offered, ${(eighty.committedShare * 100).toFixed(1)}% committed`,
    },
    { name: 'submit-to-final p99 at 80% load', value: percentile(eighty.latenciesMs, 99), unit: 'ms' },
    {
      name: "validators' CPU per committed transfer (4 processes together)",
      value: busiest.nodeCpuMsPerTx,
      unit: 'ms',
      note: `at ${busiest.offered} tx/s offered; load generator ${busiest.generatorCpuMsPerTx.toFixed(2)} ms/tx besides`,
    },
    {
      // What the chain could commit if the validators had every core to themselves: the
      // figure that stays meaningful when other work shares the machine.
      name: 'capacity from CPU cost (cores x 1 s / CPU per transfer)',
      value: (cores * 1000) / busiest.nodeCpuMsPerTx,
      unit: 'tx/s',
      ratio: (cores * 1000) / busiest.nodeCpuMsPerTx / limit,
      ratioTo: `ed25519 verify/s on ${cores} cores / ${validators} validators`,
    },
    { name: 'ed25519 verify, libsodium, 1 core (same run)', value: verifyPerCore, unit: 'ops/s' },
  ]
  report('devnet', rows)
} finally {
  watching = false
  await devnet.stop(15_000).catch(() => devnet.killAll())
  // TERRANE_BENCH_KEEP=1 keeps the node homes (logs, stores) for a look afterwards.
  if (process.env.TERRANE_BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
  else console.log(`kept ${dir}`)
}
