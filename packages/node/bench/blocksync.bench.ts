// Block sync (issue 5): "A node that is behind fetches blocks from several peers in parallel,
// verifies each commit, applies them, then joins consensus. Target: at least 2,000 empty or
// light blocks per second while catching up."
//
// Builds a chain of light blocks (a few signed transfers each) with real commits from 4
// validators (bench/chain-fixture.ts), copies it to up to 3 serving full nodes, each its own
// process, then starts a fresh node in this process that syncs from 1, then 3, of them over
// libp2p on loopback, and prints blocks/s against the machine's limit: every block needs at
// least 3 Ed25519 verifications (> 2/3 of 4 validators signed its commit).
//   npm run bench -- blocksync
//   TERRANE_BLOCKSYNC_BENCH_BLOCKS=1000 npm run bench -- blocksync   (a shorter chain)
//   TERRANE_BLOCKSYNC_BENCH_DIR=/tmp/x ...   keeps the built chain there and reuses it (profiling)
//   TERRANE_BLOCKSYNC_BENCH_ONE_PEER=1 ...    only the one-peer run
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { ed25519VerifyLimitPerSecond, report, type BenchRow } from '@terrane/bench'
import { devnetSeed, loadNodeConfig, nodePaths, startNode, writeDevnet } from '../src/index.ts'
import { buildChainFixture } from './chain-fixture.ts'

const blocksTotal = Number(process.env.TERRANE_BLOCKSYNC_BENCH_BLOCKS ?? 2_000)
const transfersPerBlock = 4
const validatorsCount = 4
/** Signatures that must verify per block: more than 2/3 of 4 equal-power validators. */
const verifiesPerBlockMin = 3
const servingPeersMax = 3
const root = new URL('../../..', import.meta.url).pathname
const log = (message: string) => console.log(`  ${message}`)
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')

const keptDir = process.env.TERRANE_BLOCKSYNC_BENCH_DIR
const dir = keptDir ?? (await mkdtemp(join(tmpdir(), 'terrane-blocksync-bench-')))
const servers: ChildProcess[] = []

/** Starts a serving node in its own process; resolves to its listen addresses. */
async function serve(home: string): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', join(root, 'packages/polyfill/register.js'), '--import', 'tsx', join(root, 'packages/node/bench/serve-node.ts'), home],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  servers.push(child)
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })
  for await (const line of lines) {
    const started = JSON.parse(line) as { height: number; addresses: string[] }
    log(`serving peer up at height ${started.height}: ${started.addresses[0] ?? '?'}`)
    return started.addresses
  }
  throw new Error(`serving node ${home} exited before it started`)
}

/** Starts a fresh node that syncs from `bootstrap`; returns blocks/s and timings. */
async function syncOnce(home: string, bootstrap: string[], peers: number): Promise<BenchRow[]> {
  await rm(nodePaths(home).data, { recursive: true, force: true })
  const config = await loadNodeConfig(home, {
    logLevel: 'info',
    p2p: { listen: '/ip4/127.0.0.1/tcp/0', bootstrap },
    api: { port: 0 },
    mqtt: { port: -1 },
  })
  // Logs at the node's usual level, written where they cost what they cost but are not shown.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }))
  const startedMs = performance.now()
  const node = await startNode({ config, logger })
  const upMs = performance.now()
  let firstMs = 0
  let lastMs = 0
  const done = new Promise<void>((resolve) => {
    node.onBlock((block) => {
      const h = block.header.height
      if (h === 1) firstMs = performance.now()
      if (h >= blocksTotal) {
        lastMs = performance.now()
        resolve()
      }
    })
  })
  // Fails only when sync stops moving: a loaded machine is slow, not wrong.
  const stallMs = 60_000
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    let last = -1
    timer = setInterval(() => {
      if (node.driver.height === last) reject(new Error(`sync stalled at ${last} for ${stallMs} ms (stored ${node.blockStore.height})`))
      last = node.driver.height
    }, stallMs)
  })
  const cpuBefore = process.cpuUsage()
  try {
    await Promise.race([done, stalled])
    // Stop with consensus's queue empty (a stopped driver's idle() never returns while
    // events are queued, and would spin on this process's event loop).
    await node.driver.idle()
  } finally {
    clearInterval(timer)
    await node.stop()
  }
  const cpu = process.cpuUsage(cpuBefore)
  const cpuS = (cpu.user + cpu.system) / 1e6
  const steadyS = (lastMs - firstMs) / 1000
  const wholeS = (lastMs - upMs) / 1000
  const perSecond = (blocksTotal - 1) / steadyS
  const limitBlocksPerSecond = (verifyLimit * availableParallelism()) / verifiesPerBlockMin
  log(`CPU time of the syncing process: ${cpuS.toFixed(1)} s (${Math.round(blocksTotal / cpuS)} blocks per CPU second, all its threads)`)
  log(
    `${peers} peer(s): ${blocksTotal} blocks in ${wholeS.toFixed(2)} s after start-up ` +
      `(${((upMs - startedMs) / 1000).toFixed(2)} s to start), ${Math.round(perSecond)} blocks/s from block 1 to ${blocksTotal}; load ${load()}`,
  )
  return [
    {
      name: `block sync from ${peers} serving peer${peers === 1 ? '' : 's'} (${transfersPerBlock} transfers/block)`,
      value: perSecond,
      unit: 'blocks/s',
      ratio: perSecond / limitBlocksPerSecond,
      ratioTo: `${verifiesPerBlockMin} ed25519 verifies/block on ${availableParallelism()} cores`,
      target: '>= 2,000 blocks/s',
      note: `block 1 to ${blocksTotal}; ${(blocksTotal / wholeS).toFixed(0)} blocks/s counting peer discovery; load ${load()}`,
    },
  ]
}

let verifyLimit = 0
try {
  log(`load average before: ${load()} (${availableParallelism()} cores)`)
  verifyLimit = ed25519VerifyLimitPerSecond({ durationMsMin: 1000 })
  const homes = Array.from({ length: validatorsCount + servingPeersMax + 1 }, (_, i) => join(dir, `node${i}`))
  const serverHomes = homes.slice(validatorsCount, validatorsCount + servingPeersMax)
  const freshHome = homes[validatorsCount + servingPeersMax] as string
  const isBuilt = keptDir !== undefined && existsSync(join(dir, `built-${blocksTotal}`))
  if (!isBuilt) await buildChain()
  else log(`reusing the chain built in ${dir}`)

  const rows: BenchRow[] = []
  const first = await serve(serverHomes[0] as string)
  rows.push(...(await syncOnce(freshHome, first, 1)))
  if (process.env.TERRANE_BLOCKSYNC_BENCH_ONE_PEER !== '1') {
    const others = await Promise.all(serverHomes.slice(1).map((h) => serve(h)))
    rows.push(...(await syncOnce(freshHome, [first, ...others].flat(), servingPeersMax)))
  }
  rows.push({ name: 'ed25519 verify limit (node:crypto, 1 core)', value: verifyLimit, unit: 'verify/s' })
  report('node-blocksync', rows)

  async function buildChain(): Promise<void> {
    await rm(dir, { recursive: true, force: true })
    const layout = await writeDevnet({
      dir,
      validators: validatorsCount,
      fullNodes: servingPeersMax + 1,
      basePort: 0,
      genesisTimeMs: 1_700_000_000_000,
      isDepin: false,
    })
    const builtMs = performance.now()
    await buildChainFixture({
      home: serverHomes[0] as string,
      validatorSeeds: Array.from({ length: validatorsCount }, (_, i) => devnetSeed('terrane-devnet', `validator-${i}`)),
      blocks: blocksTotal,
      transfersPerBlock,
      faucets: layout.faucets,
      onProgress: (h) => {
        if (h % 1000 === 0) log(`built ${h} blocks`)
      },
    })
    log(`built ${blocksTotal} blocks in ${((performance.now() - builtMs) / 1000).toFixed(1)} s`)
    for (const home of serverHomes.slice(1)) await cp(nodePaths(serverHomes[0] as string).data, nodePaths(home).data, { recursive: true })
    await mkdir(join(dir, `built-${blocksTotal}`))
  }
} finally {
  // Throwaway serving nodes: no clean stop needed.
  const exits = servers.map(
    (c) => new Promise((resolve) => (c.exitCode === null && c.signalCode === null ? c.once('exit', resolve) : resolve(null))),
  )
  for (const child of servers) child.kill('SIGKILL')
  await Promise.all(exits)
  if (keptDir === undefined) await rm(dir, { recursive: true, force: true })
}
