import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createMemoryStateStore, openStateStore, verifyProof } from '../src/index.ts'
import { crashBatch, crashKey, crashKeyCount, seededRandom } from './fixtures/crash-batches.ts'

const repo = new URL('../../..', import.meta.url).pathname
const child = new URL('./fixtures/crash-child.ts', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'terrane-state-crash-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const seed = Number(process.env.TERRANE_STATE_CRASH_SEED ?? 20_261_124)
const killsMin = 20
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The expected state: a memory store replaying the same deterministic batches. */
class Model {
  readonly store = createMemoryStateStore({ pruneKeepVersions: Infinity })
  readonly values = new Map<number, Uint8Array>()
  async advanceTo(version: number): Promise<void> {
    while (this.store.version < version) {
      const next = this.store.version + 1
      const batch = this.store.batch()
      for (const op of crashBatch(seed, next)) {
        const id = Number(new TextDecoder().decode(op.key).slice('crash-key-'.length))
        if (op.value === null) {
          batch.delete(op.key)
          this.values.delete(id)
        } else {
          batch.put(op.key, op.value)
          this.values.set(id, op.value)
        }
      }
      await batch.commit()
    }
  }
}

interface Run {
  opened: number
  committed: { version: number; root: string }[]
}

/** Starts the child, lets it commit, and SIGKILLs it after `killAfterCommits` commits plus `delayMs`. */
function runChild(path: string, killAfterCommits: number, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', join(repo, 'packages/polyfill/register.js'), '--import', 'tsx', child, path, String(seed)],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const run: Run = { opened: -1, committed: [] }
    let buffer = ''
    let stderr = ''
    let isKillScheduled = false
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const [word, version, root] = buffer.slice(0, nl).split(' ')
        buffer = buffer.slice(nl + 1)
        if (word === 'open') run.opened = Number(version)
        else if (word === 'committed') run.committed.push({ version: Number(version), root: root as string })
        if (!isKillScheduled && run.committed.length >= killAfterCommits && run.opened >= 0) {
          isKillScheduled = true
          // The kill moment is seeded; it lands inside or between commits.
          setTimeout(() => proc.kill('SIGKILL'), delayMs)
        }
      }
    })
    proc.on('error', reject)
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${stderr}`))
      else resolve(run)
    })
  })
}

describe('crash consistency', () => {
  it(`survives ${killsMin} SIGKILLs in the middle of commits (seed ${seed})`, { timeout: 600_000 }, async () => {
    const random = seededRandom(seed)
    const path = join(dir, 'db')
    const model = new Model()
    let lastReported = 0
    let sawUnreportedCommit = 0
    for (let kill = 0; kill < killsMin; kill++) {
      const run = await runChild(path, Math.floor(random() * 4), Math.floor(random() * 25))
      assert.ok(run.opened >= lastReported, `child opened at ${run.opened}, behind ${lastReported}`)
      for (const c of run.committed) {
        await model.advanceTo(c.version)
        assert.equal(c.root, hex(model.store.root), `root the child reported at ${c.version}`)
        lastReported = c.version
      }
      const store = await openStateStore({ path, pruneKeepVersions: 4 })
      try {
        // The commit in flight at the kill is either wholly there or wholly absent.
        assert.ok(store.version === lastReported || store.version === lastReported + 1, `version ${store.version} after ${lastReported}`)
        if (store.version > lastReported) sawUnreportedCommit++
        await model.advanceTo(store.version)
        assert.equal(hex(store.root), hex(model.store.root), `root after kill ${kill}`)
        for (let i = 0; i < crashKeyCount; i++)
          assert.deepEqual(await store.get(crashKey(i)), model.values.get(i), `key ${i} after kill ${kill}`)
        const probe = crashKey(Math.floor(random() * crashKeyCount))
        assert.equal(
          verifyProof(store.root, probe, model.values.get(Number(new TextDecoder().decode(probe).slice(10))), await store.prove(probe)),
          true,
        )
        lastReported = store.version
      } finally {
        await store.close()
      }
    }
    assert.ok(lastReported > killsMin, 'commits continued across restarts')
    // Informational: how often the kill landed after a commit was durable but before it was reported.
    console.log(`crash test: ${killsMin} kills, ${lastReported} versions, ${sawUnreportedCommit} durable-but-unreported commits`)
  })
})
