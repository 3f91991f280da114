// In `npm test`; alone: `npm run test:faults`.
// Fault tests of issue 5 on real processes: a 4-validator devnet on loopback, each
// validator a separate `terrane node start` process. Every step ends with the
// CometBFT e2e invariant (identical block hashes and state roots at every height
// on every node): over the API while nodes run, and from every node's block store
// after the last step.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex, fromHex } from '@terrane/codec'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { LocalDevnet, checkAgreement, heightsSignedBy, readApiChain, readStoredChain, type NodeProcess } from '../src/index.ts'

/** Ports 31000-31049 (5 nodes x 10): below Linux's ephemeral range (32768-60999), so no OS-assigned port can take them (one did: EADDRINUSE); no other test uses them. */
const basePort = 31_000
/**
 * Every wait below lasts as long as the nodes make progress (heights, or CPU time while a
 * process starts) and fails after this long without any: on a loaded 2-core machine a
 * start (tsx compiles on the fly) took 131 s once, which a fixed deadline turned into a
 * flaky failure; a wedged node still fails within a minute.
 */
const stallMs = 60_000
/**
 * How long the two survivors are watched for a commit they cannot make. The safety
 * check does not depend on it (the bound comes from the killed nodes' stores); it is
 * how long "halted" is observed, as the 10 s pause is how long a node is paused.
 */
const haltWatchMs = 5_000

async function isApiUp(devnet: LocalDevnet, i: number): Promise<boolean> {
  return fetch(`${devnet.info.nodes[i]?.apiUrl as string}/v1/status`).then(
    (r) => r.ok,
    () => false,
  )
}

/** A restarted node logs replayed blocks before its API listens: wait until every API answers. */
async function waitForApis(devnet: LocalDevnet, indexes: readonly number[]): Promise<void> {
  const up = new Set<number>()
  await devnet.waitWhileProgressing(
    async () => {
      for (const i of indexes) if (!up.has(i) && (await isApiUp(devnet, i))) up.add(i)
      return up.size === indexes.length
    },
    async () => {
      let sum = up.size * 1_000_000
      for (const i of indexes) if (!up.has(i)) sum += (await devnet.node(i).cpuTicks()) ?? 0
      return sum
    },
    stallMs,
    `the APIs of nodes ${indexes.join(',')}`,
  )
}

async function agreeOverApi(devnet: LocalDevnet, indexes: readonly number[], what: string): Promise<number> {
  await waitForApis(devnet, indexes)
  await devnet.poll()
  const top = Math.min(...indexes.map((i) => devnet.node(i).height))
  const chains = await Promise.all(indexes.map((i) => readApiChain(devnet.info.nodes[i]?.apiUrl as string, `node${i}`, 1, top)))
  for (const chain of chains) assert.equal(chain.heights.size, top, `${chain.label} serves every height 1..${top} (${what})`)
  const report = checkAgreement(chains)
  assert.deepEqual(report.violations, [], what)
  return top
}

async function validatorAddress(home: string): Promise<string> {
  const file = JSON.parse(await readFile(join(home, 'keys', 'validator_key.json'), 'utf8')) as { publicKey: string }
  return toHex(accountIdOfPublicKey(fromHex(file.publicKey)))
}

function heightsOf(nodes: readonly NodeProcess[]): number[] {
  return nodes.map((n) => n.height)
}

test(
  '4-validator devnet survives kill -9, SIGSTOP, losing quorum, and a fresh full node syncs from genesis',
  // A cap, not the pace: every wait inside fails after `stallMs` without progress.
  { timeout: 1_200_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'terrane-faults-'))
    const devnet = await LocalDevnet.open({ dir, validators: 4, fullNodes: 1, basePort })
    const [v0, v1, v2, v3, full] = devnet.nodes as [NodeProcess, NodeProcess, NodeProcess, NodeProcess, NodeProcess]
    let v3RestartHeight = 0
    let isPassed = false
    try {
      await t.test('blocks commit on all four validators', async () => {
        devnet.start([0, 1, 2, 3])
        await devnet.waitForHeight(3, stallMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after start')
      })

      await t.test('kill -9 one validator: the other three go on; restarted, it catches up and signs again', async () => {
        await v3.kill()
        const atKill = Math.max(...heightsOf([v0, v1, v2]))
        await devnet.waitForHeight(atKill + 3, stallMs, [0, 1, 2])
        v3.start()
        v3RestartHeight = Math.max(...heightsOf([v0, v1, v2]))
        await devnet.waitForHeight(v3RestartHeight + 2, stallMs, [3])
        await devnet.waitForHeight(v3.height + 3, stallMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after the kill -9 and restart')
      })

      await t.test('SIGSTOP one validator for 10 s: the rest go on; after SIGCONT it catches up', async () => {
        v2.pause()
        const atPause = Math.max(...heightsOf([v0, v1, v3]))
        const pausedAt = Date.now()
        await devnet.waitForHeight(atPause + 2, stallMs, [0, 1, 3])
        // CometBFT e2e pauses for 10 s: the perturbation itself, not a wait for a condition.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - pausedAt))))
        v2.resume()
        const target = Math.max(...heightsOf([v0, v1, v3])) + 2
        await devnet.waitForHeight(target, stallMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after the pause')
      })

      await t.test('kill two of four: the chain halts without forking; restarted, it resumes', async () => {
        await Promise.all([v2.kill(), v3.kill()])
        // The furthest the chain can go: a killed validator stored height h before it could
        // precommit h + 1, so at most one more block (precommits already out) can commit.
        const [stored2, stored3] = await Promise.all([readStoredChain(v2.home, 'node2'), readStoredChain(v3.home, 'node3')])
        const bound = Math.max(stored2.height, stored3.height) + 1
        // Halted: watched for a while, during which both survivors keep answering (they
        // run, they just cannot decide: without 2/3 of the prevotes Tendermint waits in
        // the prevote step, so there is no round change to observe, only an absence).
        await waitForApis(devnet, [0, 1])
        const watchedAtMs = Date.now()
        while (Date.now() - watchedAtMs < haltWatchMs) {
          await new Promise((resolve) => setTimeout(resolve, 500))
          assert.ok((await isApiUp(devnet, 0)) && (await isApiUp(devnet, 1)), 'both survivors run while halted')
        }
        await devnet.poll()
        const halted = Math.max(...heightsOf([v0, v1]))
        assert.ok(halted <= bound, `no commit without 2/3 of the power (bound ${bound}, now ${devnet.describe()})`)
        await agreeOverApi(devnet, [0, 1], 'while halted')
        v2.start()
        v3.start()
        await devnet.waitForHeight(halted + 3, stallMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after resuming')
      })

      await t.test('a fresh full node syncs from genesis and serves the same blocks and state roots', async () => {
        full.start()
        const target = Math.max(...heightsOf([v0, v1, v2, v3]))
        await devnet.waitForHeight(target + 1, stallMs, [4])
        await agreeOverApi(devnet, [0, 1, 2, 3, 4], 'with the full node')
      })

      await t.test('stopped cleanly, every block store agrees at every height', async () => {
        const results = await devnet.stop(30_000)
        assert.deepEqual(results, ['stopped', 'stopped', 'stopped', 'stopped', 'stopped'], 'every node stops on SIGINT')
        const chains = await Promise.all(devnet.nodes.map((n) => readStoredChain(n.home, `node${n.index}`)))
        const report = checkAgreement(chains)
        assert.deepEqual(report.violations, [])
        assert.ok(report.minHeight >= 10, `every node holds at least 10 blocks (${report.minHeight})`)
        // Nodes stop one after another, so the last ones may hold more blocks (under load, a dozen):
        // agreement on every common height and no gaps are the invariant.
        for (const chain of chains) {
          assert.equal(chain.baseHeight, 1, `${chain.label} stores blocks from genesis`)
          assert.equal(chain.heights.size, chain.height, `${chain.label} has no gaps`)
        }
        // The restarted validator signs again: its precommits are in commits after its restart.
        const signed = heightsSignedBy(chains[0]!, await validatorAddress(v3.home), v3RestartHeight)
        assert.ok(signed.length >= 3, `validator 3 signed commits after its restart at ${v3RestartHeight}: ${signed.join(',')}`)
        isPassed = true
      })
    } finally {
      await devnet.killAll()
      if (!isPassed) {
        // Keep the node logs of a failed run (CI uploads test-artifacts/).
        const kept = join(new URL('../../..', import.meta.url).pathname, 'test-artifacts', 'devnet-faults')
        await mkdir(kept, { recursive: true })
        for (const n of devnet.nodes) await copyFile(n.logPath, join(kept, `node${n.index}.log`)).catch(() => undefined)
        t.diagnostic(`node logs kept in ${kept}`)
      }
      await rm(dir, { recursive: true, force: true })
    }
  },
)
