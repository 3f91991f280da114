import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encode, merkleProof } from '@terrane/codec'
import { ChainError, type Msg } from '@terrane/chain'
import { encodeAddress, signInDomain, type Signer } from '@terrane/crypto'
import { appealSchema } from '@terrane/verifier'
import {
  acceptedPayouts,
  coverageErrorCodeOfLog,
  coverageErrorCodes,
  epochState,
  escrowTotalMicro,
  parseCoverageGenesis,
  reserve,
  shareBpsAt,
  submissions,
  verifierOf,
  verifiers,
} from '../src/index.ts'
import { addressOf, chainId, chunks, codeOf, digestMsg, Harness, leavesOf, payout, settle, signerOf, TRN } from './harness.ts'

describe('settlement', () => {
  it('settles a digest once more than 2/3 of the bond signed it, and pays exactly the agreed payouts', async () => {
    const h = new Harness()
    const [v0, v1, v2, v3] = h.verifiers as [Signer, Signer, Signer, Signer]
    const [alice, bob] = h.owners as [Signer, Signer]
    await h.toNextEpoch() // chain epoch 1: epoch 0 is over
    const payouts = [payout('tdev1a', alice, 10n * TRN), payout('tdev1b', bob, 20n * TRN), payout('tdev1c', alice, 5n * TRN)]
    const digest = digestMsg(0, payouts)
    assert.equal(codeOf((await h.send([v0, { ...digest, epoch: 1 }]))[0]), 'COVERAGE_EPOCH_NOT_OVER')
    assert.equal(codeOf((await h.send([h.outsider, digest]))[0]), 'COVERAGE_NOT_VERIFIER')
    assert.deepEqual((await h.send([v0, digest], [v1, digest])).map(codeOf), ['OK', 'OK'])
    assert.equal(codeOf((await h.send([v0, digest]))[0]), 'COVERAGE_ALREADY_SUBMITTED')
    assert.equal(epochState(h.moduleStore, 0), undefined, '2 of 4 equal bonds is not a quorum')
    assert.equal(codeOf((await h.send([v0, chunks(0, payouts, 2)[0]!]))[0]), 'COVERAGE_NOT_AGREED')
    const agreedRes = await h.block([h.tx(v2, [digest])])
    assert.ok(agreedRes.txResults[0]?.code === 0)
    assert.equal(epochState(h.moduleStore, 0)?.status, 'agreed')

    // A tampered list does not match the agreed root; chunks must come in order.
    const tampered = payouts.map((p, i) => (i === 1 ? payout(p.deviceId, bob, 25n * TRN) : p))
    const [t0, t1] = chunks(0, tampered, 2) as [Msg, Msg]
    assert.equal(codeOf((await h.send([v0, t1]))[0]), 'COVERAGE_BAD_CHUNK')
    assert.equal(codeOf((await h.send([v0, t0]))[0]), 'OK')
    assert.equal(codeOf((await h.send([v0, t1]))[0]), 'COVERAGE_PAYOUTS_ROOT_MISMATCH')
    assert.equal(codeOf((await h.send([v0, { type: 'coverage/reset-payouts', epoch: 0 }]))[0]), 'OK')
    const inconsistent = [{ ...payouts[0]!, paidMicro: 11n * TRN }]
    assert.equal(codeOf((await h.send([v0, chunks(0, inconsistent, 2)[0]!]))[0]), 'COVERAGE_BAD_PAYOUT')
    for (const m of chunks(0, payouts, 2)) assert.equal(codeOf((await h.send([v0, m]))[0]), 'OK')
    assert.equal(epochState(h.moduleStore, 0)?.status, 'complete')
    assert.deepEqual(acceptedPayouts(h.moduleStore, 0), payouts)

    const poolBefore = h.app.pools().emissionMicro
    await h.toNextEpoch()
    assert.equal(h.balance(alice), 15n * TRN)
    assert.equal(h.balance(bob), 20n * TRN)
    assert.equal(h.app.pools().emissionMicro, poolBefore + 1000n * TRN - 35n * TRN)
    assert.equal(epochState(h.moduleStore, 0)?.status, 'paid')
    assert.equal(epochState(h.moduleStore, 0)?.paidMicro, 35n * TRN)

    // A late, disagreeing digest is recorded (it is what a fraud proof points at).
    const other = await h.block([h.tx(v3, [digestMsg(0, tampered)])])
    assert.ok(other.txResults[0]?.events?.some((e) => e.type === 'coverage-disagreement'))
    assert.equal(submissions(h.moduleStore, 0).length, 4)
    assert.equal(codeOf((await h.send([v1, chunks(0, payouts, 2)[0]!]))[0]), 'COVERAGE_ALREADY_COMPLETE')
    // Nothing more is paid for the same epoch.
    await h.toNextEpoch()
    assert.equal(h.balance(alice), 15n * TRN)
  })

  it('does not settle a minority digest, nor a digest outside the submission window', async () => {
    const h = new Harness({ coverage: { params: { submitWindowEpochs: 1 } } })
    const [v0, v1, v2, v3] = h.verifiers as [Signer, Signer, Signer, Signer]
    const [alice] = h.owners as [Signer]
    await h.toNextEpoch()
    const honest = [payout('tdev1a', alice, 10n * TRN)]
    const forged = [payout('tdev1a', alice, 99n * TRN)]
    assert.deepEqual(
      (await h.send([v0, digestMsg(0, honest)], [v1, digestMsg(0, honest)], [v2, digestMsg(0, forged)], [v3, digestMsg(0, forged)])).map(
        codeOf,
      ),
      ['OK', 'OK', 'OK', 'OK'],
    )
    assert.equal(epochState(h.moduleStore, 0), undefined)
    await h.toNextEpoch()
    await h.toNextEpoch()
    assert.equal(h.balance(alice), 0n)
    assert.equal(codeOf((await h.send([v0, digestMsg(0, honest)]))[0]), 'COVERAGE_EPOCH_TOO_OLD')
  })

  it('caps payouts at the schedule share with a deterministic pro-rata remainder, and pays nothing in the data-only phase', async () => {
    const h = new Harness({
      emissionPerEpochMicro: 100n * TRN,
      coverage: {
        schedule: [
          { fromEpoch: 0, shareBps: 3_000 },
          { fromEpoch: 1, shareBps: 0 },
        ],
      },
    })
    const [alice, bob] = h.owners as [Signer, Signer]
    await h.toNextEpoch()
    const poolBefore = h.app.pools().emissionMicro + 100n * TRN // the boundary mints first
    // Cap = 30% of the pool (200 TRN) = 60 TRN; payouts ask 120 TRN: each is scaled by 1/2, rounded down.
    await settle(
      h,
      0,
      [payout('tdev1a', alice, 71n), payout('tdev1b', bob, 49n)].map((p) => ({
        ...p,
        earnedMicro: p.earnedMicro * TRN + 1n,
        paidMicro: p.paidMicro * TRN + 1n,
      })),
    )
    assert.equal(h.balance(alice), ((71n * TRN + 1n) * ((poolBefore * 3n) / 10n)) / (120n * TRN + 2n))
    assert.equal(h.balance(alice) + h.balance(bob) <= (poolBefore * 3n) / 10n, true)
    assert.equal(epochState(h.moduleStore, 0)?.paidMicro, h.balance(alice) + h.balance(bob))
    // Data-only phase from epoch 1: an agreed epoch pays nothing and the emission stays in the pool.
    const aliceBefore = h.balance(alice)
    await settle(h, 1, [payout('tdev1a', alice, 10n * TRN)])
    assert.equal(h.balance(alice), aliceBefore)
    assert.equal(epochState(h.moduleStore, 1)?.status, 'paid')
    assert.equal(epochState(h.moduleStore, 1)?.paidMicro, 0n)
  })
})

describe('escrow', () => {
  it('holds flagged payouts, releases them on a later re-check and forfeits them after N epochs', async () => {
    const h = new Harness({ coverage: { params: { escrowHoldEpochs: 2 } } })
    const [alice, bob] = h.owners as [Signer, Signer]
    await h.toNextEpoch()
    await settle(h, 0, [
      payout('tdev1a', alice, 10n * TRN, { escrowedMicro: 10n * TRN }),
      payout('tdev1b', bob, 5n * TRN, { escrowedMicro: 5n * TRN }),
    ])
    assert.equal(h.balance(alice), 0n)
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1a'), 10n * TRN)
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1b'), 5n * TRN)
    // Epoch 1: the verifier's re-check clears device a (released), b stays flagged and earns nothing.
    await settle(h, 1, [payout('tdev1a', alice, 2n * TRN, { releasedMicro: 10n * TRN })])
    assert.equal(h.balance(alice), 12n * TRN)
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1a'), 0n)
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1b'), 5n * TRN)
    // Epoch 2: b's epoch-0 escrow is 2 epochs old: forfeited to the reserve, never paid to bob.
    await settle(h, 2, [payout('tdev1a', alice, 1n * TRN)])
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1b'), 0n)
    assert.equal(reserve(h.moduleStore).forfeitedMicro, 5n * TRN)
    assert.equal(h.balance(bob), 0n)
    assert.equal(h.balance(alice), 13n * TRN)
  })

  it('releases escrow on an appeal signed by an appointed reviewer, once', async () => {
    const reviewer = signerOf(0, 8)
    const h = new Harness({ coverage: { reviewerKeys: [Buffer.from(reviewer.publicKey).toString('hex')] } })
    const [alice] = h.owners as [Signer]
    await h.toNextEpoch()
    await settle(h, 0, [payout('tdev1a', alice, 10n * TRN, { escrowedMicro: 10n * TRN })])
    const ruling = (signer: typeof reviewer, deviceId = 'tdev1a') => {
      const fields = { deviceId, epoch: 1, evidenceHash: new Uint8Array(32).fill(9) }
      return {
        type: 'coverage/appeal',
        ...fields,
        reviewerKey: signer.publicKey,
        signature: signInDomain(signer, { chainId, kind: 'coverage-appeal' }, encode(appealSchema, fields)),
      }
    }
    const impostor = signerOf(1, 8)
    assert.equal(codeOf((await h.send([h.outsider, ruling(impostor)]))[0]), 'COVERAGE_UNKNOWN_REVIEWER')
    assert.equal(codeOf((await h.send([h.outsider, { ...ruling(reviewer), epoch: 2 }]))[0]), 'COVERAGE_BAD_APPEAL_SIGNATURE')
    assert.equal(codeOf((await h.send([h.outsider, ruling(reviewer, 'tdev1z')]))[0]), 'COVERAGE_NO_ESCROW')
    assert.equal(codeOf((await h.send([h.outsider, ruling(reviewer)]))[0]), 'OK')
    assert.equal(h.balance(alice), 10n * TRN)
    assert.equal(escrowTotalMicro(h.moduleStore, 'tdev1a'), 0n)
    assert.equal(codeOf((await h.send([h.outsider, ruling(reviewer)]))[0]), 'COVERAGE_APPEAL_USED')
  })
})

describe('verifiers and fraud proofs', () => {
  it('slashes the bond of a verifier whose signed digest is proven wrong by a Merkle proof', async () => {
    const h = new Harness()
    const [v0, , , v3] = h.verifiers as [Signer, Signer, Signer, Signer]
    const [alice, bob] = h.owners as [Signer, Signer]
    await h.toNextEpoch()
    const honest = [payout('tdev1a', alice, 10n * TRN), payout('tdev1b', bob, 20n * TRN), payout('tdev1c', bob, 1n * TRN)]
    const wrong = [payout('tdev1a', alice, 10n * TRN), payout('tdev1b', bob, 90n * TRN), payout('tdev1c', bob, 1n * TRN)]
    assert.equal(codeOf((await h.send([v3, digestMsg(0, wrong)]))[0]), 'OK')
    await settle(h, 0, honest)
    const proofOf = (list: typeof honest, i: number) => ({ payout: list[i]!, proof: merkleProof(leavesOf(list), i) })
    const claim = (i: number, j = i, verifier = v3) => ({
      type: 'coverage/prove-wrong-payout',
      epoch: 0,
      verifier: addressOf(verifier),
      claimed: proofOf(wrong, i).payout,
      claimedProof: proofOf(wrong, i).proof,
      agreed: proofOf(honest, j).payout,
      agreedProof: proofOf(honest, j).proof,
    })
    assert.equal(codeOf((await h.send([h.challenger, claim(1, 1, v0)]))[0]), 'COVERAGE_NOT_DISAGREEING')
    assert.equal(codeOf((await h.send([h.challenger, claim(0)]))[0]), 'COVERAGE_PAYOUT_NOT_WRONG')
    assert.equal(codeOf((await h.send([h.challenger, claim(1, 2)]))[0]), 'COVERAGE_PAYOUT_NOT_WRONG')
    assert.equal(
      codeOf((await h.send([h.challenger, { ...claim(1), claimedProof: merkleProof(leavesOf(wrong), 0) }]))[0]),
      'COVERAGE_BAD_PROOF',
    )
    const challengerBefore = h.balance(h.challenger)
    assert.equal(codeOf((await h.send([h.challenger, claim(1)]))[0]), 'OK')
    // 10% of the 100 TRN bond slashed; half to the prover, half to the reserve.
    assert.equal(h.balance(h.challenger), challengerBefore - 1000n + 5n * TRN)
    assert.equal(reserve(h.moduleStore).slashedMicro, 5n * TRN)
    const slashed = verifierOf(h.moduleStore, addressOf(v3))
    assert.equal(slashed?.bondMicro, 90n * TRN)
    assert.equal(slashed?.isSlashed, true)
    assert.equal(codeOf((await h.send([h.challenger, claim(1)]))[0]), 'COVERAGE_ALREADY_SLASHED')
    assert.equal(codeOf((await h.send([v3, digestMsg(1, honest)]))[0]), 'COVERAGE_NOT_VERIFIER')
    // The rest of the bond is returned after unbondingEpochs (4).
    const v3Before = h.balance(v3)
    for (let i = 0; i < 4; i++) await h.toNextEpoch()
    assert.equal(h.balance(v3), v3Before + 90n * TRN)
    assert.equal(verifierOf(h.moduleStore, addressOf(v3)), undefined)
  })

  it('registers verifiers with a bond and returns it after unbonding', async () => {
    const h = new Harness()
    const before = h.balance(h.outsider)
    const register = (bondMicro: bigint) => ({ type: 'coverage/register-verifier', bondMicro })
    assert.equal(codeOf((await h.send([h.outsider, register(99n * TRN)]))[0]), 'COVERAGE_BOND_TOO_LOW')
    assert.equal(codeOf((await h.send([h.outsider, register(100n * TRN)]))[0]), 'OK')
    assert.equal(codeOf((await h.send([h.outsider, register(100n * TRN)]))[0]), 'COVERAGE_VERIFIER_EXISTS')
    assert.equal(verifiers(h.moduleStore).length, 5)
    assert.equal(h.balance(h.outsider), before - 3000n - 100n * TRN)
    assert.equal(codeOf((await h.send([h.outsider, { type: 'coverage/unregister-verifier' }]))[0]), 'OK')
    assert.equal(codeOf((await h.send([h.outsider, { type: 'coverage/unregister-verifier' }]))[0]), 'COVERAGE_NOT_VERIFIER')
    for (let i = 0; i < 5; i++) await h.toNextEpoch()
    assert.equal(h.balance(h.outsider), before - 5000n) // five transaction fees
    assert.equal(verifiers(h.moduleStore).length, 4)
  })
})

describe('genesis and codes', () => {
  it('parses the schedule and names the offending field', () => {
    const expectPath = (doc: unknown, path: string) =>
      assert.throws(
        () => parseCoverageGenesis(doc),
        (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_GENESIS' && e.path === path,
      )
    expectPath({ extra: 1 }, 'modules.coverage.extra')
    expectPath({ params: { quorumBps: 5000 } }, 'modules.coverage.params.quorumBps')
    expectPath(
      {
        schedule: [
          { fromEpoch: 5, shareBps: 1 },
          { fromEpoch: 5, shareBps: 0 },
        ],
      },
      'modules.coverage.schedule[1].fromEpoch',
    )
    expectPath({ verifiers: [{ address: encodeAddress(new Uint8Array(20)), bond: '1' }] }, 'modules.coverage.verifiers[0].bond')
    expectPath({ reviewerKeys: ['zz'] }, 'modules.coverage.reviewerKeys[0]')
    const g = parseCoverageGenesis(undefined)
    assert.equal(shareBpsAt(g.schedule, 0), 3000)
    assert.equal(shareBpsAt(g.schedule, 1460), 2000)
    assert.equal(shareBpsAt(g.schedule, 10_000), 0)
  })

  it('maps every module code to a chain code', () => {
    for (const [code, chainCode] of Object.entries(coverageErrorCodes)) {
      assert.match(chainCode, /^CHAIN_/)
      assert.equal(coverageErrorCodeOfLog(`${chainCode}: ${code}: detail`), code)
    }
  })
})
