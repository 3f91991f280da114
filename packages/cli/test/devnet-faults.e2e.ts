// Not yet in `npm test` (named .e2e.ts): it fails today on node bugs described in the
// package README ("Fault tests"). Run it with:
//   node --import ./packages/polyfill/register.js --import tsx --test packages/cli/test/devnet-faults.e2e.ts
// and rename it to devnet-faults.test.ts once it passes.
// Fault tests of issue 5 on real processes: a 4-validator devnet on loopback, each
// validator a separate `terrane node start` process. Every step ends with the
// CometBFT e2e invariant (identical block hashes and state roots at every height
// on every node): over the API while nodes run, and from every node's block store
// after the last step.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex, fromHex } from '@terrane/codec'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { LocalDevnet, checkAgreement, heightsSignedBy, readApiChain, readStoredChain, type NodeProcess } from '../src/index.ts'

/** Ports 36000-36049 (5 nodes x 10); no other test uses this range. */
const basePort = 36_000
/** Process start-up on a loaded 2-core machine (tsx compiles on the fly) is slow. */
const startTimeoutMs = 150_000
const progressTimeoutMs = 60_000

/** A restarted node logs replayed blocks before its API listens: wait until every API answers. */
async function waitForApis(devnet: LocalDevnet, indexes: readonly number[]): Promise<void> {
  const deadline = Date.now() + startTimeoutMs
  for (const i of indexes) {
    const url = `${devnet.info.nodes[i]?.apiUrl as string}/v1/status`
    for (;;) {
      const isUp = await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
      if (isUp) break
      if (Date.now() > deadline) throw new Error(`the API of node${i} did not come up`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
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
  { timeout: 600_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'terrane-faults-'))
    const devnet = await LocalDevnet.open({ dir, validators: 4, fullNodes: 1, basePort })
    const [v0, v1, v2, v3, full] = devnet.nodes as [NodeProcess, NodeProcess, NodeProcess, NodeProcess, NodeProcess]
    let v3RestartHeight = 0
    try {
      await t.test('blocks commit on all four validators', async () => {
        devnet.start([0, 1, 2, 3])
        await devnet.waitForHeight(3, startTimeoutMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after start')
      })

      await t.test('kill -9 one validator: the other three go on; restarted, it catches up and signs again', async () => {
        await v3.kill()
        const atKill = Math.max(...heightsOf([v0, v1, v2]))
        await devnet.waitForHeight(atKill + 3, progressTimeoutMs, [0, 1, 2])
        v3.start()
        v3RestartHeight = Math.max(...heightsOf([v0, v1, v2]))
        await devnet.waitForHeight(v3RestartHeight + 2, startTimeoutMs, [3])
        await devnet.waitForHeight(v3.height + 3, progressTimeoutMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after the kill -9 and restart')
      })

      await t.test('SIGSTOP one validator for 10 s: the rest go on; after SIGCONT it catches up', async () => {
        v2.pause()
        const atPause = Math.max(...heightsOf([v0, v1, v3]))
        const pausedAt = Date.now()
        await devnet.waitForHeight(atPause + 2, progressTimeoutMs, [0, 1, 3])
        // CometBFT e2e pauses for 10 s.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - pausedAt))))
        v2.resume()
        const target = Math.max(...heightsOf([v0, v1, v3])) + 2
        await devnet.waitForHeight(target, progressTimeoutMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after the pause')
      })

      await t.test('kill two of four: the chain halts without forking; restarted, it resumes', async () => {
        await Promise.all([v2.kill(), v3.kill()])
        // A block whose precommits were already out may still commit; then nothing can.
        await new Promise((resolve) => setTimeout(resolve, 2_000))
        await devnet.poll()
        const halted = Math.max(...heightsOf([v0, v1]))
        await new Promise((resolve) => setTimeout(resolve, 5_000))
        await devnet.poll()
        assert.deepEqual(
          heightsOf([v0, v1]).map((h) => h <= halted),
          [true, true],
          `no commit without 2/3 of the power (halted at ${halted}, now ${devnet.describe()})`,
        )
        await agreeOverApi(devnet, [0, 1], 'while halted')
        v2.start()
        v3.start()
        await devnet.waitForHeight(halted + 3, startTimeoutMs, [0, 1, 2, 3])
        await agreeOverApi(devnet, [0, 1, 2, 3], 'after resuming')
      })

      await t.test('a fresh full node syncs from genesis and serves the same blocks and state roots', async () => {
        full.start()
        const target = Math.max(...heightsOf([v0, v1, v2, v3]))
        await devnet.waitForHeight(target + 1, startTimeoutMs, [4])
        await agreeOverApi(devnet, [0, 1, 2, 3, 4], 'with the full node')
      })

      await t.test('stopped cleanly, every block store agrees at every height', async () => {
        const results = await devnet.stop(15_000)
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
      })
    } finally {
      await devnet.killAll()
      await rm(dir, { recursive: true, force: true })
    }
  },
)
