// State store benchmarks (issue 3): updates/s committing 10,000-key batches into a store of
// 1,000,000 keys (root included), proof generation and verification, memory at 1M keys,
// and the embedded-database choice. Run: npm run bench -- state
import { createHash } from 'node:crypto'
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { measure, measureAsync, report, type BenchRow } from '@terrane/bench'
import { openStateStore, verifyProof, verifyProofs, type ProofCheck } from '../src/index.ts'

/** Store size: 1M keys (issue 3); TERRANE_STATE_BENCH_KEYS scales it down for profiling. */
const keysTotal = Number(process.env.TERRANE_STATE_BENCH_KEYS ?? 1_000_000)
const keysLabel = keysTotal >= 1_000_000 ? `${keysTotal / 1_000_000}M` : `${keysTotal / 1000}k`
const batchKeys = 10_000
/** Building the store is setup, not the measurement: larger batches make it faster. */
const buildBatchKeys = 250_000
const measuredCommits = 5
const rows: BenchRow[] = []
/** Prints each figure as soon as it is measured, then keeps it for the table. */
function record(...measured: BenchRow[]): void {
  for (const row of measured) console.log(`  ${row.name}: ${Math.round(row.value).toLocaleString('en-US')} ${row.unit}`)
  rows.push(...measured)
}
const dir = mkdtempSync(join(tmpdir(), 'terrane-state-bench-'))
const log = (message: string) => console.log(`  ${message}`)

/** Key i: SHA-256 of its index, as the chain's hashed keys are. Derived, not stored. */
function keyAt(i: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`key-${i}`).digest())
}
/** 32-byte values, like balances. */
function valueAt(i: number, round: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`value-${i}-${round}`).digest())
}
/** xorshift32: seeded choices (Math.random is banned). */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 4294967296
  }
}

// ---------------------------------------------------------------------------------------
// 1. The database: LevelDB (classic-level) against a hand-rolled append-only file with an
// in-memory index, the only other persistent option installed (better-sqlite3 and lmdb
// are not). Records shaped like a commit's: 42-byte keys, 300-byte values, 25,000 per
// atomic write, fsync per write.
async function compareDatabases(): Promise<void> {
  const records = 100_000
  const perWrite = 25_000
  const value = new Uint8Array(300).fill(7)
  const key = (i: number) => {
    const k = new Uint8Array(42)
    k.set(keyAt(i % 5000).subarray(0, 32), 1)
    k[38] = i >>> 24
    k[39] = (i >>> 16) & 255
    k[40] = (i >>> 8) & 255
    k[41] = i & 255
    return k
  }
  const keys = Array.from({ length: records }, (_, i) => key(i))

  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'compare-level'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
    compression: false,
  })
  await db.open()
  let start = performance.now()
  for (let i = 0; i < records; i += perWrite) {
    await db.batch(
      keys.slice(i, i + perWrite).map((k) => ({ type: 'put' as const, key: k, value })),
      { sync: true },
    )
  }
  const levelWrite = (records * 1000) / (performance.now() - start)
  const random = seeded(1)
  const levelRead = measure(() => {
    for (let i = 0; i < 1000; i++) db.getSync(keys[Math.floor(random() * records)] as Uint8Array)
    return 1000
  })
  await db.close()

  const file = join(dir, 'compare-log')
  const fd = openSync(file, 'a+')
  const index = new Map<string, number>()
  let offset = 0
  start = performance.now()
  for (let i = 0; i < records; i += perWrite) {
    const chunk = new Uint8Array(perWrite * (42 + 300))
    let at = 0
    for (const k of keys.slice(i, i + perWrite)) {
      chunk.set(k, at)
      chunk.set(value, at + 42)
      index.set(Buffer.from(k).toString('latin1'), offset + at + 42)
      at += 342
    }
    writeSync(fd, chunk)
    fsyncSync(fd)
    offset += chunk.length
  }
  const logWrite = (records * 1000) / (performance.now() - start)
  const out = new Uint8Array(300)
  const logRead = measure(() => {
    for (let i = 0; i < 1000; i++) {
      const at = index.get(Buffer.from(keys[Math.floor(random() * records)] as Uint8Array).toString('latin1')) as number
      readSync(fd, out, 0, 300, at)
    }
    return 1000
  })
  closeSync(fd)
  record(
    {
      name: 'db: LevelDB (classic-level) atomic batch write, fsync',
      value: levelWrite,
      unit: 'records/s',
      note: '25k records of 342 B per batch',
    },
    {
      name: 'db: append-only file + Map index, write + fsync',
      value: logWrite,
      unit: 'records/s',
      note: 'no atomicity, ordering or compaction',
    },
    { name: 'db: LevelDB random point read (getSync)', value: levelRead.opsPerSecond, unit: 'reads/s' },
    { name: 'db: append-only file random read (readSync)', value: logRead.opsPerSecond, unit: 'reads/s' },
  )
}

// ---------------------------------------------------------------------------------------
// 2. The state store at 1,000,000 keys.
async function benchStore(): Promise<void> {
  const store = await openStateStore({ path: join(dir, 'state') })
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores`,
  )
  const buildStart = performance.now()
  for (let base = 0; base < keysTotal; base += buildBatchKeys) {
    const batch = store.batch()
    for (let i = base; i < Math.min(keysTotal, base + buildBatchKeys); i++) batch.put(keyAt(i), valueAt(i, 0))
    await batch.commit()
    log(`built ${Math.min(keysTotal, base + buildBatchKeys).toLocaleString('en-US')} keys`)
  }
  const buildSeconds = (performance.now() - buildStart) / 1000
  record({
    name: `build: insert ${keysLabel} new keys in ${buildBatchKeys / 1000}k batches`,
    value: keysTotal / buildSeconds,
    unit: 'inserts/s',
    note: `${buildSeconds.toFixed(1)} s in all`,
  })

  // Updates to random existing keys; the batch contents are prepared outside the timing.
  const random = seeded(42)
  let commitMs = 0
  let commitCpuMs = 0
  const perCommitMs: number[] = []
  for (let round = 1; round <= measuredCommits; round++) {
    const updates: [Uint8Array, Uint8Array][] = []
    for (let j = 0; j < batchKeys; j++) {
      const i = Math.floor(random() * keysTotal)
      updates.push([keyAt(i), valueAt(i, round)])
    }
    const cpuStart = process.cpuUsage()
    const start = performance.now()
    const batch = store.batch()
    for (const [k, v] of updates) batch.put(k, v)
    await batch.commit()
    const ms = performance.now() - start
    const cpu = process.cpuUsage(cpuStart)
    commitCpuMs += (cpu.user + cpu.system) / 1000
    perCommitMs.push(ms)
    commitMs += ms
  }
  record({
    name: `commit 10k updates into ${keysLabel} keys (root included)`,
    value: (measuredCommits * batchKeys * 1000) / commitMs,
    unit: 'updates/s',
    target: '>= 100,000 updates/s',
    note: `${measuredCommits} commits, ${Math.min(...perCommitMs).toFixed(0)}-${Math.max(...perCommitMs).toFixed(0)} ms each`,
  })
  // CPU time of the whole process (LevelDB's threads included) over the same commits: less
  // sensitive than wall time to other processes on a shared machine, though contention
  // still inflates it (shared caches and cores).
  record({
    name: `commit 10k updates into ${keysLabel} keys, per CPU second`,
    value: (measuredCommits * batchKeys * 1000) / commitCpuMs,
    unit: 'updates/CPU-s',
    note: `${(commitCpuMs / measuredCommits).toFixed(0)} ms of CPU per commit (user + system, all threads)`,
  })

  const getRandom = seeded(7)
  const reads = await measureAsync(async () => {
    for (let j = 0; j < 1000; j++) await store.get(keyAt(Math.floor(getRandom() * keysTotal)))
    return 1000
  })
  record({
    name: `get at latest (${keysLabel} keys)`,
    value: reads.opsPerSecond,
    unit: 'reads/s',
    note: 'includes SHA-256 of the key index',
  })

  const proveRandom = seeded(9)
  const proving = await measureAsync(async () => {
    for (let j = 0; j < 500; j++) await store.prove(keyAt(Math.floor(proveRandom() * keysTotal)))
    return 500
  })
  record({
    name: `prove (inclusion, ${keysLabel} keys)`,
    value: proving.opsPerSecond,
    unit: 'proofs/s',
    note: 'includes SHA-256 of the key index',
  })

  const checks: ProofCheck[] = []
  for (let j = 0; j < 2000; j++) {
    const i = Math.floor(proveRandom() * keysTotal)
    const key = keyAt(i)
    const value = await store.get(key)
    checks.push({ root: store.root, key, value, proof: await store.prove(key) })
  }
  const depthMean = checks.reduce((sum, c) => sum + c.proof.siblings.length, 0) / checks.length
  let at = 0
  const single = measure(() => {
    for (let j = 0; j < 200; j++) {
      const c = checks[at++ % checks.length] as ProofCheck
      if (!verifyProof(c.root, c.key, c.value, c.proof)) throw new Error('proof failed')
    }
    return 200
  })
  record({
    name: 'verifyProof, one at a time',
    value: single.opsPerSecond,
    unit: 'proofs/s',
    target: '>= 50,000 proofs/s',
    note: `${depthMean.toFixed(1)} siblings on average`,
  })
  const batched = measure(() => {
    const results = verifyProofs(checks)
    if (!results.every(Boolean)) throw new Error('proof failed')
    return checks.length
  })
  record({
    name: 'verifyProofs, batches of 2,000',
    value: batched.opsPerSecond,
    unit: 'proofs/s',
    target: '>= 50,000 proofs/s',
    note: 'one native hashing call per tree level',
  })

  checks.length = 0
  ;(globalThis as { gc?: () => void }).gc?.()
  const memory = process.memoryUsage()
  record(
    {
      name: `memory at ${keysLabel} keys: RSS`,
      value: memory.rss / 1048576,
      unit: 'MiB',
      note: 'latest tree resident; LevelDB cache 64 MiB',
    },
    { name: `memory at ${keysLabel} keys: JS heap used`, value: memory.heapUsed / 1048576, unit: 'MiB' },
  )
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
  await store.close()
}

if (process.env.TERRANE_STATE_BENCH_SKIP_DB !== '1') await compareDatabases()
await benchStore()
report('state', rows)
rmSync(dir, { recursive: true, force: true })
