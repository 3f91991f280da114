import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { accountIdOfPublicKey, type Signer } from '@terrane/crypto'
import {
  capPowers,
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  signTx,
  type ChainApp,
  type FinalizeBlockRequest,
  type Msg,
} from '../src/index.ts'
import { addressOf, chainId, fixture, TRN } from './helpers.ts'

const fx = fixture({
  users: 5,
  validators: 4,
  params: { epochBlocks: 4, unbondingBlocks: 5, signedBlocksWindow: 4, downtimeJailBlocks: 2, txFeePerByteMicro: '1' },
})
const genesis = parseGenesis(fx.genesisJson)
const validatorOps = fx.operators.map(addressOf)
const consensusAddresses = fx.consensus.map((c) => accountIdOfPublicKey(c.publicKey))

type Op =
  | { kind: 'send'; from: number; to: number; amount: bigint }
  | { kind: 'delegate'; from: number; validator: number; amount: bigint }
  | { kind: 'undelegate'; from: number; validator: number; amount: bigint }
  | { kind: 'redelegate'; from: number; source: number; destination: number; amount: bigint }
  | { kind: 'withdraw'; from: number; validator: number }

interface BlockPlan {
  ops: Op[]
  absent: number[]
  doubleSigner: number | null
}

const user = fc.integer({ min: 0, max: 4 })
const validator = fc.integer({ min: 0, max: 3 })
// Few (user, validator) pairs, so that undelegations and redelegations often find a delegation.
const pairUser = fc.integer({ min: 0, max: 1 })
const pairValidator = fc.integer({ min: 0, max: 1 })
const amount = fc.bigInt({ min: 0n, max: 300n * TRN })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: user, to: user, amount }),
  fc.record({ kind: fc.constant('delegate' as const), from: user, validator, amount }),
  fc.record({ kind: fc.constant('delegate' as const), from: pairUser, validator: pairValidator, amount }),
  fc.record({
    kind: fc.constant('undelegate' as const),
    from: pairUser,
    validator: pairValidator,
    amount: fc.bigInt({ min: 0n, max: 60n * TRN }),
  }),
  fc.record({
    kind: fc.constant('redelegate' as const),
    from: pairUser,
    source: pairValidator,
    destination: validator,
    amount: fc.bigInt({ min: 0n, max: 60n * TRN }),
  }),
  fc.record({ kind: fc.constant('withdraw' as const), from: user, validator }),
)
const block: fc.Arbitrary<BlockPlan> = fc.record({
  ops: fc.array(op, { maxLength: 6 }),
  absent: fc.uniqueArray(validator, { maxLength: 1 }),
  doubleSigner: fc.oneof({ arbitrary: fc.constant(null), weight: 10 }, { arbitrary: validator, weight: 1 }),
})

function message(o: Op): Msg {
  switch (o.kind) {
    case 'send':
      return { type: 'bank/send', to: addressOf(fx.users[o.to] as Signer), amountMicro: o.amount }
    case 'delegate':
      return { type: 'staking/delegate', validator: validatorOps[o.validator] as Uint8Array, amountMicro: o.amount }
    case 'undelegate':
      return { type: 'staking/undelegate', validator: validatorOps[o.validator] as Uint8Array, amountMicro: o.amount }
    case 'redelegate':
      return {
        type: 'staking/redelegate',
        source: validatorOps[o.source] as Uint8Array,
        destination: validatorOps[o.destination] as Uint8Array,
        amountMicro: o.amount,
      }
    case 'withdraw':
      return { type: 'distribution/withdraw-rewards', validator: validatorOps[o.validator] as Uint8Array }
  }
}

/** Builds the requests of a run once, from app A's view (nonces), so both apps see identical bytes. */
function requestFor(
  app: ChainApp,
  plan: BlockPlan,
  height: number,
  lastCommitVotes: FinalizeBlockRequest['lastCommitVotes'],
): FinalizeBlockRequest {
  const nonces = new Map<number, number>()
  const txs = plan.ops.map((o) => {
    const signer = fx.users[o.from] as Signer
    const sender = addressOf(signer)
    const nonce = nonces.get(o.from) ?? app.account(sender).nonce
    nonces.set(o.from, nonce + 1)
    return signTx(app.txBodySchema, { chainId, sender, nonce, feeMicro: 2_000n, expiryHeight: 0, messages: [message(o)] }, [signer])
  })
  const misbehavior: FinalizeBlockRequest['misbehavior'] =
    plan.doubleSigner === null || height < 2
      ? []
      : [
          {
            kind: 'duplicate-vote',
            validator: consensusAddresses[plan.doubleSigner] as Uint8Array,
            height: height - 1,
            timeMs: 0,
            validatorPower: 1,
            totalPower: 4,
          },
        ]
  return { height, timeMs: height * 1000, proposer: consensusAddresses[height % 4] as Uint8Array, txs, lastCommitVotes, misbehavior }
}

function votesAfter(app: ChainApp, absent: number[]): FinalizeBlockRequest['lastCommitVotes'] {
  const missing = new Set(absent.map((i) => Buffer.from(consensusAddresses[i] as Uint8Array).toString('hex')))
  return app.activeSet().map((m) => {
    const validator = accountIdOfPublicKey(m.consensusKey)
    return { validator, power: m.power, signed: !missing.has(Buffer.from(validator).toString('hex')) }
  })
}

describe('state machine properties', () => {
  it('random transfers, delegations, undelegations, redelegations and slashes keep the supply invariant; two apps (one restarted) agree on every root', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { minLength: 1, maxLength: 14 }), fc.nat({ max: 12 }), async (plans, restartAt) => {
        const storeA = new MemoryChainStore()
        const storeB = new MemoryChainStore()
        const a = createChainApp({ genesis, store: storeA })
        let b = createChainApp({ genesis, store: storeB })
        const genesisA = a.initChain()
        assert.deepEqual(genesisA, b.initChain())
        let votes: FinalizeBlockRequest['lastCommitVotes'] = []
        for (let i = 0; i < plans.length; i++) {
          const plan = plans[i] as BlockPlan
          const height = i + 1
          if (height === restartAt) {
            b = createChainApp({ genesis, store: storeB })
            const resumed = b.initChain()
            // Before the first commit the store is empty and genesis runs again; later, the app resumes from the store.
            assert.deepEqual(resumed.stateRoot, height === 1 ? genesisA.stateRoot : storeA.root())
            assert.deepEqual(
              resumed.validators,
              a.activeSet().map((m) => ({ address: accountIdOfPublicKey(m.consensusKey), publicKey: m.consensusKey, power: m.power })),
            )
          }
          const req = requestFor(a, plan, height, votes)
          const ra = await a.finalizeBlock(req)
          const rb = await b.finalizeBlock(req)
          assert.deepEqual(ra, rb)
          await a.commit()
          await b.commit()
          const inv = a.checkInvariants()
          assert.ok(inv.isOk, `height ${height}: ${inv.violations.join('; ')}`)
          votes = votesAfter(a, plan.absent)
        }
        assert.deepEqual(a.info(), b.info())
      }),
      { numRuns: 20, seed: 20261124 },
    )
  })

  it('capPowers: with 4+ validators nobody keeps a third of the power, nobody gains, nobody drops to 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000_000 }), { minLength: 4, maxLength: 150 }),
        fc.integer({ min: 1000, max: 3333 }),
        (powers, capBps) => {
          const capped = capPowers(powers, capBps)
          const total = capped.reduce((a, b) => a + b, 0)
          capped.forEach((p, i) => {
            assert.ok(3 * p < total)
            assert.ok(p >= 1 && p <= (powers[i] as number))
          })
          // Order by power is preserved (a cap never reorders validators).
          for (let i = 0; i < powers.length; i++)
            for (let j = 0; j < powers.length; j++)
              if ((powers[i] as number) >= (powers[j] as number)) assert.ok((capped[i] as number) >= (capped[j] as number))
        },
      ),
      { numRuns: 300, seed: 7 },
    )
  })
})
