// Votes processed per second by the consensus reducer on one core, signature checks included,
// against the machine's Ed25519 verification limit measured in the same run (the ceiling: every
// new vote costs one verification). A second row feeds pre-verified votes (the node's path when
// its verifier pool has checked them in a batch) to show the reducer's own cost.
import { measure, ed25519VerifyLimitPerSecond, report } from '@terrane/bench'
import { sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { createConsensus, defaultVerifySignature, memorySignerStateStore, PrivValidator, voteSignBytes, type Vote } from '../src/index.ts'

const chainId = 'terrane-bench'
const validatorsCount = 100
const rounds = 10
const utf8 = new TextEncoder()
const signers = Array.from({ length: validatorsCount }, (_, i) => seedSigner(sha256(utf8.encode(`bench-${i}`))))
const validators = signers.map((s) => ({
  address: accountIdOfPublicKey(s.publicKey),
  publicKey: s.publicKey,
  power: 1 + ((s.publicKey[0] as number) % 10),
}))
const consensus = createConsensus({ chainId, address: null })
const votes: Vote[] = []
for (let round = 0; round < rounds; round++) {
  for (const type of ['prevote', 'precommit'] as const) {
    signers.forEach((s, i) => {
      const pv = new PrivValidator(s, memorySignerStateStore(), chainId)
      votes.push(pv.signVote({ type, height: 1, round, blockHash: null, timeMs: 1, validator: validators[i]?.address as Uint8Array }))
    })
  }
}

function run(isVerified: boolean): number {
  let state = consensus.genesisState({ validators, stateRoot: sha256(), timeMs: 0 })
  state = consensus.step(state, { type: 'start', nowMs: 1 }).state
  // Fresh copies: the reducer memoises sign bytes per vote object, as a node receiving each vote once would not benefit.
  for (const v of votes) state = consensus.step(state, { type: 'vote', vote: { ...v }, nowMs: 1, isVerified }).state
  if (state.round !== rounds - 1) throw new Error(`expected round ${rounds - 1}, got ${state.round}`)
  return votes.length
}

/** Operations per second of CPU time (steadier than wall time on a shared machine). */
function perCpuSecond(fn: () => number, rounds: number): number {
  const start = process.cpuUsage()
  let ops = 0
  for (let i = 0; i < rounds; i++) ops += fn()
  const used = process.cpuUsage(start)
  return ops / ((used.user + used.system) / 1e6)
}
const sample = votes.slice(0, 500)
const verifyPerCpuS = perCpuSecond(() => {
  sample.forEach((v, i) => {
    if (!defaultVerifySignature(chainId, 'vote', validators[i % validatorsCount]?.publicKey as Uint8Array, voteSignBytes(v), v.signature))
      throw new Error('bad signature')
  })
  return sample.length
}, 6)
const checkedPerCpuS = perCpuSecond(() => run(false), 3)

const limit = ed25519VerifyLimitPerSecond()
const checked = measure(() => run(false), { durationMsMin: 3000 })
const trusted = measure(() => run(true), { durationMsMin: 2000 })
report('consensus-reducer', [
  {
    name: `votes processed, signatures checked (${validatorsCount} validators, 1 core)`,
    value: checked.opsPerSecond,
    unit: 'votes/s',
    ratio: checked.opsPerSecond / limit,
    ratioTo: 'ed25519 verify/s, 1 core',
  },
  { name: 'votes processed, pre-verified (reducer only)', value: trusted.opsPerSecond, unit: 'votes/s' },
  { name: 'ed25519 verify limit (this machine, 1 core)', value: limit, unit: 'verify/s' },
  {
    name: 'votes processed per CPU second, signatures checked',
    value: checkedPerCpuS,
    unit: 'votes/s',
    ratio: checkedPerCpuS / verifyPerCpuS,
    ratioTo: 'ed25519 verify per CPU second',
  },
  { name: 'ed25519 verify per CPU second (same run)', value: verifyPerCpuS, unit: 'verify/s' },
])
