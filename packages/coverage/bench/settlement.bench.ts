// Payouts settled per second: uploading an agreed payout list in 60-payout chunks (each chunk a
// transaction; the last one re-hashes the whole list against the agreed root) and paying it at
// the epoch boundary, on a real chain app (one core).
import { performance } from 'node:perf_hooks'
import { report } from '@terrane/bench'
import { encodeAddress } from '@terrane/crypto'
import type { Payout } from '@terrane/verifier'
import { payoutsPerChunkMax } from '../src/index.ts'
import { addressOf, chunks, digestMsg, Harness, signerOf } from '../test/harness.ts'

const payoutCount = 6_000
const h = new Harness({ emissionPerEpochMicro: 10n ** 15n })
const [v0, v1, v2] = h.verifiers as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
const owners = Array.from({ length: 500 }, (_, i) => encodeAddress(addressOf(signerOf(i, 11))))
const payouts: Payout[] = Array.from({ length: payoutCount }, (_, i) => {
  const earnedMicro = BigInt(1_000 + i)
  const escrowedMicro = i % 20 === 0 ? earnedMicro : 0n
  return {
    deviceId: `tdev1bench${String(i).padStart(8, '0')}`,
    owner: owners[i % owners.length] as string,
    earnedMicro,
    paidMicro: earnedMicro - escrowedMicro,
    escrowedMicro,
    releasedMicro: 0n,
    forfeitedMicro: 0n,
  }
})
await h.toNextEpoch()
const digest = digestMsg(0, payouts)
await h.send([v0, digest], [v1, digest], [v2, digest])
const txs = chunks(0, payouts, payoutsPerChunkMax).map((m) => h.tx(v0, [m]))
let start = performance.now()
for (let i = 0; i < txs.length; i += 20) {
  const res = await h.block(txs.slice(i, i + 20))
  const failed = res.txResults.find((r) => r.code !== 0)
  if (failed !== undefined) throw new Error(failed.log)
}
const uploadMs = performance.now() - start
while (h.height % 10 !== 9) await h.block()
start = performance.now()
await h.block()
const payMs = performance.now() - start
report('coverage-settlement', [
  {
    name: `payout list upload (${payoutCount} payouts, ${txs.length} chunk txs, root check)`,
    value: Math.round((payoutCount * 1000) / uploadMs),
    unit: 'payouts/s',
  },
  { name: `epoch boundary paying ${payoutCount} payouts (5% to escrow)`, value: Math.round(payMs), unit: 'ms' },
  { name: 'payouts paid per second at the boundary', value: Math.round((payoutCount * 1000) / payMs), unit: 'payouts/s' },
])
