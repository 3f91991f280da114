import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { accountIdOfPublicKey, type Signer } from '@terrane/crypto'
import type { chainErrorCodes } from '../src/index.ts'
import { capPowers, type ChainApp } from '../src/index.ts'
import { addressOf, codeName, fixture, Harness, signerOf, TRN } from './helpers.ts'

type Code = keyof typeof chainErrorCodes

function assertOk(h: Harness): void {
  const r = h.app.checkInvariants()
  assert.ok(r.isOk, r.violations.join('; '))
}

function tokensOf(app: ChainApp, op: Signer): bigint {
  return app.validator(addressOf(op))?.tokensMicro ?? -1n
}

describe('staking', () => {
  it('initChain returns the genesis set with consensus addresses and stake-proportional power', () => {
    const h = new Harness(fixture())
    assert.equal(h.genesisValidators.length, 4)
    for (const v of h.genesisValidators) {
      assert.deepEqual(v.address, accountIdOfPublicKey(v.publicKey))
      assert.equal(v.power, 100) // 100 TRN / powerReductionMicro (1 TRN)
    }
    assertOk(h)
  })

  it('registers a validator that joins the active set at the next epoch boundary', async () => {
    const h = new Harness(fixture())
    const [alice] = h.fx.users as [Signer]
    const key = signerOf(9, 3).publicKey
    const res = await h.block([
      h.tx(alice, [{ type: 'staking/create-validator', consensusKey: key, commissionBps: 500, selfStakeMicro: 200n * TRN }]),
    ])
    assert.equal(res.txResults[0]?.code, 0, res.txResults[0]?.log)
    assert.equal(res.validatorUpdates.length, 0)
    assert.equal(h.app.validators().length, 5)
    const updates = []
    for (let i = 2; i <= 10; i++) updates.push(...(await h.block([])).validatorUpdates)
    // Epoch boundary at height 10: the newcomer enters; with 5 validators (200, 100 x4) the 30% cap binds:
    // 600 -> cap 180, 580 -> 174, 574 -> 172, 572 -> 171, 571 -> 171 (stable; 171/571 < 30%).
    assert.deepEqual(
      updates.map((u) => u.power),
      [171],
    )
    assert.deepEqual(updates[0]?.publicKey, key)
    assert.equal(h.app.activeSet().length, 5)
    assertOk(h)
  })

  it('refuses bad validator registrations with typed codes', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [Signer, Signer]
    const op0 = h.fx.operators[0] as Signer
    const takenKey = (h.fx.consensus[1] as Signer).publicKey
    const msg = (consensusKey: Uint8Array, commissionBps: number, selfStakeMicro: bigint) => ({
      type: 'staking/create-validator',
      consensusKey,
      commissionBps,
      selfStakeMicro,
    })
    const cases: Array<[Uint8Array, Code]> = [
      [h.tx(op0, [msg(signerOf(20, 3).publicKey, 0, 2n * TRN)]), 'CHAIN_VALIDATOR_EXISTS'],
      [h.tx(alice, [msg(new Uint8Array(32), 0, 2n * TRN)]), 'CHAIN_BAD_KEY'],
      [h.tx(alice, [msg(takenKey, 0, 2n * TRN)]), 'CHAIN_CONSENSUS_KEY_IN_USE'],
      [h.tx(alice, [msg(signerOf(21, 3).publicKey, 10_001, 2n * TRN)]), 'CHAIN_BAD_COMMISSION'],
      [h.tx(bob, [msg(signerOf(22, 3).publicKey, 0, 1n)]), 'CHAIN_SELF_STAKE_TOO_LOW'],
      [h.tx(bob, [{ type: 'staking/edit-validator', commissionBps: 5 }]), 'CHAIN_VALIDATOR_NOT_FOUND'],
    ]
    const res = await h.block(cases.map((c) => c[0]))
    cases.forEach(([, code], i) => assert.equal(codeName(res.txResults[i]?.code as number), code, res.txResults[i]?.log))
  })

  it('delegates, undelegates through the unbonding period and refuses bad amounts', async () => {
    const h = new Harness(fixture())
    const [alice] = h.fx.users as [Signer]
    const v0 = addressOf(h.fx.operators[0] as Signer)
    const a = addressOf(alice)
    let res = await h.block([
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 50n * TRN }]),
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 0n }]),
      h.tx(alice, [{ type: 'staking/delegate', validator: addressOf(signerOf(70)), amountMicro: 1n }]),
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 10_000n * TRN }]),
      h.tx(alice, [{ type: 'staking/undelegate', validator: addressOf(h.fx.operators[1] as Signer), amountMicro: 1n }]),
    ])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['OK', 'CHAIN_ZERO_AMOUNT', 'CHAIN_VALIDATOR_NOT_FOUND', 'CHAIN_INSUFFICIENT_FUNDS', 'CHAIN_DELEGATION_NOT_FOUND'],
    )
    assert.equal(h.app.delegation(a, v0)?.tokensMicro, 50n * TRN)
    assert.equal(tokensOf(h.app, h.fx.operators[0] as Signer), 150n * TRN)
    res = await h.block([
      h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: 51n * TRN }]),
      h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: 20n * TRN }]),
    ])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['CHAIN_INSUFFICIENT_SHARES', 'OK'],
    )
    const unb = h.app.unbondings(a)
    assert.equal(unb.length, 1)
    assert.equal(unb[0]?.entries[0]?.completionHeight, 2 + 20)
    assert.equal(h.app.pools().unbondingMicro, 20n * TRN)
    const balanceBefore = h.app.account(a).balanceMicro
    await h.blocks(19) // heights 3..21
    assert.equal(h.app.account(a).balanceMicro, balanceBefore)
    await h.block([]) // height 22: matures
    assert.equal(h.app.account(a).balanceMicro, balanceBefore + 20n * TRN)
    assert.equal(h.app.unbondings(a).length, 0)
    assertOk(h)
  })

  it('caps unbonding entries per pair at unbondingEntriesMax', async () => {
    const h = new Harness(fixture({ params: { unbondingEntriesMax: 2 } }))
    const [alice] = h.fx.users as [Signer]
    const v0 = addressOf(h.fx.operators[0] as Signer)
    await h.block([h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 10n * TRN }])])
    const und = () => h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: TRN }])
    const res = await h.block([und(), und(), und()])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['OK', 'OK', 'CHAIN_TOO_MANY_ENTRIES'],
    )
  })

  it('redelegates, refusing self and transitive redelegation', async () => {
    const h = new Harness(fixture())
    const [alice] = h.fx.users as [Signer]
    const [v0, v1, v2] = h.fx.operators.map(addressOf) as [Uint8Array, Uint8Array, Uint8Array]
    await h.block([h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 10n * TRN }])])
    const res = await h.block([
      h.tx(alice, [{ type: 'staking/redelegate', source: v0, destination: v0, amountMicro: TRN }]),
      h.tx(alice, [{ type: 'staking/redelegate', source: v0, destination: v1, amountMicro: 4n * TRN }]),
      h.tx(alice, [{ type: 'staking/redelegate', source: v1, destination: v2, amountMicro: TRN }]),
    ])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['CHAIN_SELF_REDELEGATION', 'OK', 'CHAIN_REDELEGATION_TRANSITIVE'],
    )
    assert.equal(h.app.delegation(addressOf(alice), v1)?.tokensMicro, 4n * TRN)
    assert.equal(h.app.delegation(addressOf(alice), v0)?.tokensMicro, 6n * TRN)
    assert.equal(h.app.redelegations(addressOf(alice)).length, 1)
    await h.blocks(20)
    assert.equal(h.app.redelegations(addressOf(alice)).length, 0)
    const after = await h.block([h.tx(alice, [{ type: 'staking/redelegate', source: v1, destination: v2, amountMicro: TRN }])])
    assert.equal(after.txResults[0]?.code, 0, after.txResults[0]?.log)
    assertOk(h)
  })
})

describe('slashing', () => {
  it('double-sign: slashes 5% of the validator and of stake unbonding or redelegated since the offence, jails and tombstones once', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [Signer, Signer]
    const op0 = h.fx.operators[0] as Signer
    const [v0, v1] = h.fx.operators.map(addressOf) as [Uint8Array, Uint8Array]
    const cons0 = accountIdOfPublicKey((h.fx.consensus[0] as Signer).publicKey)
    await h.block([
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 40n * TRN }]),
      h.tx(bob, [{ type: 'staking/delegate', validator: v0, amountMicro: 40n * TRN }]),
    ]) // height 1
    await h.block([h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: 10n * TRN }])]) // height 2: before the offence
    await h.block([
      h.tx(alice, [{ type: 'staking/undelegate', validator: v0, amountMicro: 20n * TRN }]),
      h.tx(bob, [{ type: 'staking/redelegate', source: v0, destination: v1, amountMicro: 20n * TRN }]),
    ]) // height 3: after
    assert.equal(tokensOf(h.app, op0), 130n * TRN)
    const supplyBefore = h.app.supply()
    const misbehavior = [{ kind: 'duplicate-vote' as const, validator: cons0, height: 3, timeMs: 0, validatorPower: 150, totalPower: 450 }]
    const res = await h.block([], { misbehavior }) // height 4
    // 5% of 130 = 6.5 from the validator; 5% of the 20 unbonding at height 3 = 1; 5% of the 20 redelegated = 1 from v1.
    assert.equal(tokensOf(h.app, op0), 123_500_000n)
    const unb = h.app.unbondings(addressOf(alice))[0]?.entries ?? []
    assert.deepEqual(
      unb.map((e) => e.balanceMicro),
      [10n * TRN, 19n * TRN],
    )
    assert.equal(h.app.delegation(addressOf(bob), v1)?.tokensMicro, 19n * TRN)
    assert.equal(tokensOf(h.app, h.fx.operators[1] as Signer), 119n * TRN)
    assert.equal(h.app.supply().burnedMicro - supplyBefore.burnedMicro, 8_500_000n)
    const v = h.app.validator(v0)
    assert.equal(v?.isJailed, true)
    assert.equal(v?.isTombstoned, true)
    assert.deepEqual(
      res.validatorUpdates.map((u) => [Buffer.from(u.publicKey).toString('hex'), u.power]),
      [[Buffer.from((h.fx.consensus[0] as Signer).publicKey).toString('hex'), 0]],
    )
    assert.ok(res.events.some((e) => e.type === 'slash' && e.attributes.reason === 'double-sign'))
    // The same offence again: no second slash.
    await h.block([], { misbehavior })
    assert.equal(tokensOf(h.app, op0), 123_500_000n)
    const unjail = await h.block([h.tx(op0, [{ type: 'slashing/unjail' }])])
    assert.equal(codeName(unjail.txResults[0]?.code as number), 'CHAIN_TOMBSTONED')
    assertOk(h)
  })

  it('ignores misbehaviour older than evidenceAgeBlocksMax', async () => {
    const h = new Harness(fixture({ params: { evidenceAgeBlocksMax: 2 } }))
    const cons0 = accountIdOfPublicKey((h.fx.consensus[0] as Signer).publicKey)
    await h.blocks(5)
    await h.block([], {
      misbehavior: [{ kind: 'duplicate-vote', validator: cons0, height: 1, timeMs: 0, validatorPower: 1, totalPower: 4 }],
    })
    assert.equal(h.app.validator(addressOf(h.fx.operators[0] as Signer))?.isJailed, false)
  })

  it('downtime: missing more than half the window slashes 1% and jails; unjail after the jail period', async () => {
    const h = new Harness(fixture())
    const op3 = h.fx.operators[3] as Signer
    const cons3 = accountIdOfPublicKey((h.fx.consensus[3] as Signer).publicKey)
    const updates = []
    for (let i = 0; i < 12 && h.app.validator(addressOf(op3))?.isJailed !== true; i++) {
      updates.push(...(await h.block([], { absent: [cons3] })).validatorUpdates)
    }
    const v = h.app.validator(addressOf(op3))
    assert.equal(v?.isJailed, true)
    assert.equal(v?.isTombstoned, false)
    assert.equal(v?.tokensMicro, 99n * TRN)
    assert.deepEqual(
      updates.map((u) => u.power),
      [0],
    )
    assert.equal(h.app.activeSet().length, 3)
    const early = await h.block([h.tx(op3, [{ type: 'slashing/unjail' }])])
    assert.equal(codeName(early.txResults[0]?.code as number), 'CHAIN_JAIL_NOT_EXPIRED')
    const notJailed = await h.block([h.tx(h.fx.operators[0] as Signer, [{ type: 'slashing/unjail' }])])
    assert.equal(codeName(notJailed.txResults[0]?.code as number), 'CHAIN_NOT_JAILED')
    await h.blocks(5)
    const ok = await h.block([h.tx(op3, [{ type: 'slashing/unjail' }])])
    assert.equal(ok.txResults[0]?.code, 0, ok.txResults[0]?.log)
    // Back in the set at the next epoch boundary.
    while (h.height % 10 !== 0) await h.block([])
    assert.equal(h.app.activeSet().length, 4)
    assertOk(h)
  })
})

describe('rewards', () => {
  it('pays issuance and fees by power with commission, a proposer bonus, lazily withdrawn', async () => {
    const h = new Harness(fixture({ params: { feeBurnBps: 5000 } }))
    const [alice, bob] = h.fx.users as [Signer, Signer]
    const op0 = h.fx.operators[0] as Signer
    const v0 = addressOf(op0)
    await h.block([h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: 100n * TRN }])])
    const burnedBefore = h.app.supply().burnedMicro
    await h.block([h.send(bob, addressOf(alice), 1n, { feeMicro: 10_000n })])
    assert.equal(h.app.supply().burnedMicro - burnedBefore, 5_000n)
    await h.blocks(5)
    const d = h.app.delegation(addressOf(alice), v0)
    assert.ok(d !== undefined && d.pendingRewardsMicro > 0n)
    const v = h.app.validator(v0)
    assert.ok(v !== undefined && v.commissionPendingMicro > 0n)
    const before = h.app.account(addressOf(alice)).balanceMicro
    // The withdrawal sees one more block of rewards than the query above, so compare against the query in the same state.
    const res = await h.block([h.tx(alice, [{ type: 'distribution/withdraw-rewards', validator: v0 }])])
    assert.equal(res.txResults[0]?.code, 0, res.txResults[0]?.log)
    const paid = BigInt(res.txResults[0]?.events?.find((e) => e.type === 'withdraw-rewards')?.attributes.amountMicro ?? '-1')
    assert.ok(paid >= (d?.pendingRewardsMicro ?? 0n))
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, before - 1_000n + paid)
    const opBefore = h.app.account(v0).balanceMicro
    const c = await h.block([h.tx(op0, [{ type: 'distribution/withdraw-commission' }])])
    const commission = BigInt(c.txResults[0]?.events?.[0]?.attributes.amountMicro ?? '-1')
    assert.ok(commission > 0n)
    assert.equal(h.app.account(v0).balanceMicro, opBefore - 1_000n + commission)
    // Alice holds half of v0's shares: her reward per block is close to the operator's net share.
    assertOk(h)
  })

  it('gives nothing earned to the community pool when nobody signed', async () => {
    const h = new Harness(fixture())
    await h.block([]) // height 1: empty last commit
    assert.equal(h.app.pools().communityMicro, h.app.params().blockRewardMicro)
  })

  it('pays the DePIN emission to registered sinks within their allowance at epoch boundaries', async () => {
    const fx = fixture({ params: { emissionPerEpochMicro: '1000000' } })
    const device = addressOf(signerOf(80))
    const calls: Array<[number, bigint]> = []
    const h = new Harness(fx, {
      emissionSinks: [
        {
          name: 'coverage',
          weightBps: 6000,
          distribute(_ctx, epoch, allowance, pay) {
            calls.push([epoch, allowance])
            pay(device, 100_000n)
            assert.throws(() => pay(device, allowance), /allowance/)
          },
        },
      ],
    })
    await h.blocks(20)
    assert.deepEqual(calls, [
      [1, 600_000n],
      [2, 1_140_000n],
    ])
    assert.equal(h.app.account(device).balanceMicro, 200_000n)
    assert.equal(h.app.pools().emissionMicro, 1_800_000n)
    assertOk(h)
  })
})

describe('capPowers', () => {
  it('keeps every validator below a third of the total', () => {
    for (const powers of [
      [100, 1, 1, 1],
      [1000, 900, 5, 5, 5, 5],
      [50, 50, 50, 50],
      [7, 3, 2, 1, 1, 1, 1, 1, 1, 1],
    ]) {
      const capped = capPowers(powers, 3000)
      const total = capped.reduce((a, b) => a + b, 0)
      for (const p of capped) assert.ok(3 * p < total, `${capped} from ${powers}`)
      capped.forEach((p, i) => assert.ok(p <= (powers[i] as number) && p >= 1))
    }
  })

  it('equalises sets too small for any cap', () => {
    assert.deepEqual(capPowers([10, 5, 3], 3000), [3, 3, 3])
    assert.deepEqual(capPowers([], 3000), [])
  })
})

describe('active set', () => {
  it('keeps the previous set rather than hand consensus an empty one', async () => {
    const h = new Harness(fixture({ validators: 1 }))
    const cons0 = accountIdOfPublicKey((h.fx.consensus[0] as Signer).publicKey)
    const res = await h.block([], {
      misbehavior: [{ kind: 'duplicate-vote', validator: cons0, height: 0, timeMs: 0, validatorPower: 1, totalPower: 1 }],
    })
    assert.equal(h.app.validator(addressOf(h.fx.operators[0] as Signer))?.isTombstoned, true)
    assert.deepEqual(res.validatorUpdates, [])
    assert.ok(res.events.some((e) => e.type === 'active-set-empty'))
    assert.equal(h.app.activeSet().length, 1)
  })
})

describe('remaining rejection paths', () => {
  it('refuses delegations to a validator slashed to zero tokens, and withdrawals without a delegation; edits commission', async () => {
    const h = new Harness(fixture({ params: { slashDoubleSignBps: 10_000 } }))
    const [alice] = h.fx.users as [Signer]
    const op1 = h.fx.operators[1] as Signer
    const [v0, v1] = h.fx.operators.map(addressOf) as [Uint8Array, Uint8Array]
    const cons0 = accountIdOfPublicKey((h.fx.consensus[0] as Signer).publicKey)
    await h.block([], {
      misbehavior: [{ kind: 'duplicate-vote', validator: cons0, height: 0, timeMs: 0, validatorPower: 1, totalPower: 4 }],
    })
    assert.equal(h.app.validator(v0)?.tokensMicro, 0n)
    const res = await h.block([
      h.tx(alice, [{ type: 'staking/delegate', validator: v0, amountMicro: TRN }]),
      h.tx(alice, [{ type: 'distribution/withdraw-rewards', validator: v1 }]),
      h.tx(op1, [{ type: 'staking/edit-validator', commissionBps: 2_500 }]),
      h.tx(op1, [{ type: 'staking/edit-validator', commissionBps: 10_001 }]),
    ])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['CHAIN_VALIDATOR_SLASHED_OUT', 'CHAIN_DELEGATION_NOT_FOUND', 'OK', 'CHAIN_BAD_COMMISSION'],
    )
    assert.equal(h.app.validator(v1)?.commissionBps, 2_500)
    assertOk(h)
  })
})
