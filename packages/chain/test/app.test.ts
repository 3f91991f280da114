import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { t } from '@terrane/codec'
import { verifySignature, type Signer } from '@terrane/crypto'
import {
  ChainError,
  chainErrorCodeOf,
  chainErrorCodes,
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  type BatchVerifier,
  type ChainModule,
} from '../src/index.ts'
import { addressOf, codeName, fixture, Harness, TRN } from './helpers.ts'

const depositSchema = t.struct({ amountMicro: t.u64() })
const channelSchema = t.struct({ owner: t.bytes({ length: 20 }), depositMicro: t.u64() })

/** A small escrow module, as the payment-channel module will be. */
const channels: ChainModule = {
  name: 'channels',
  messages: { open: depositSchema, close: t.struct({}) },
  deliver(ctx, msg) {
    if (msg.type === 'channels/open') {
      const { amountMicro } = msg as unknown as { amountMicro: bigint }
      if (ctx.store.get(channelSchema, ctx.sender) !== undefined) throw new ChainError('CHAIN_BAD_MESSAGE', 'channel already open')
      ctx.bank.lock(ctx.sender, amountMicro)
      ctx.store.set(channelSchema, ctx.sender, { owner: ctx.sender, depositMicro: amountMicro })
      ctx.emit({ type: 'channel-open', attributes: { amountMicro: String(amountMicro) } })
    } else {
      const ch = ctx.store.get(channelSchema, ctx.sender)
      if (ch === undefined) throw new ChainError('CHAIN_BAD_MESSAGE', 'no channel')
      ctx.bank.unlock(ctx.sender, ch.depositMicro)
      ctx.store.delete(ctx.sender)
    }
  },
  initGenesis(ctx, genesis) {
    ctx.store.set(t.struct({ note: t.string() }), 'genesis', { note: String((genesis as { note?: string } | undefined)?.note ?? '') })
  },
}

describe('modules', () => {
  it('runs a registered module with scoped state and escrow, keeping the supply invariant', async () => {
    const fx = fixture()
    fx.genesisJson.modules = { channels: { note: 'hello' } }
    const h = new Harness(fx, { modules: [channels] })
    const [alice] = h.fx.users as [Signer]
    let res = await h.block([h.tx(alice, [{ type: 'channels/open', amountMicro: 5n * TRN }])])
    assert.equal(res.txResults[0]?.code, 0, res.txResults[0]?.log)
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, 995n * TRN - 1000n)
    assert.ok(h.app.checkInvariants().isOk, h.app.checkInvariants().violations.join())
    res = await h.block([h.tx(alice, [{ type: 'channels/open', amountMicro: TRN }]), h.tx(alice, [{ type: 'channels/close' }])])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['CHAIN_BAD_MESSAGE', 'OK'],
    )
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, 1000n * TRN - 3000n)
    assert.ok(h.app.checkInvariants().isOk)
  })

  it('refuses duplicate module names and bad names', () => {
    const genesis = parseGenesis(fixture().genesisJson)
    for (const modules of [[channels, channels], [{ ...channels, name: 'bank' }], [{ ...channels, name: 'Bad Name' }]]) {
      assert.throws(
        () => createChainApp({ genesis, store: new MemoryChainStore(), modules }),
        (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_MODULE_CONFLICT',
      )
    }
  })
})

describe('driver contract', () => {
  it('refuses out-of-order heights and commit without a finalized block', async () => {
    const h = new Harness(fixture())
    await h.block([])
    await assert.rejects(h.app.commit(), (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_STATE')
    await assert.rejects(
      h.app.finalizeBlock({ height: 3, timeMs: 0, proposer: new Uint8Array(20), txs: [], lastCommitVotes: [], misbehavior: [] }),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_HEIGHT',
    )
  })

  it('resumes from a committed store: same root, validators and height', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [Signer, Signer]
    await h.block([h.send(alice, addressOf(bob), 3n)])
    await h.block([])
    const again = createChainApp({ genesis: parseGenesis(h.fx.genesisJson), store: h.store })
    const init = again.initChain()
    assert.deepEqual(init.stateRoot, h.app.info().stateRoot)
    assert.deepEqual(again.info(), h.app.info())
    assert.equal(again.account(addressOf(bob)).balanceMicro, 1000n * TRN + 3n)
    const next = await again.finalizeBlock({
      height: 3,
      timeMs: 0,
      proposer: new Uint8Array(20),
      txs: [],
      lastCommitVotes: [],
      misbehavior: [],
    })
    assert.equal(next.stateRoot.length, 32)
  })

  it('uses a batch verifier before execution and trusts its results', async () => {
    const seen: number[] = []
    const rejectAll: BatchVerifier = {
      verifyBatch: async (items) => {
        seen.push(items.length)
        return items.map(() => false)
      },
    }
    const h = new Harness(fixture(), { verifier: rejectAll })
    const [alice, bob] = h.fx.users as [Signer, Signer]
    const res = await h.block([h.send(alice, addressOf(bob), 1n), h.send(bob, addressOf(alice), 1n)])
    assert.deepEqual(seen, [2])
    assert.deepEqual(
      res.txResults.map((r) => codeName(r.code)),
      ['CHAIN_BAD_SIGNATURE', 'CHAIN_BAD_SIGNATURE'],
    )
    const honest: BatchVerifier = { verifyBatch: async (items) => items.map((i) => verifySignature(i.publicKey, i.message, i.signature)) }
    const h2 = new Harness(fixture(), { verifier: honest })
    const ok = await h2.block([h2.send(alice, addressOf(bob), 1n)])
    assert.equal(ok.txResults[0]?.code, 0)
  })

  it('maps every numeric code back to its name', () => {
    for (const [name, n] of Object.entries(chainErrorCodes)) assert.equal(chainErrorCodeOf(n), name)
    assert.equal(chainErrorCodeOf(0), undefined)
  })
})

describe('genesis', () => {
  const base = () =>
    fixture().genesisJson as Record<string, unknown> & {
      accounts: Array<Record<string, unknown>>
      validators: Array<Record<string, unknown>>
    }

  function expectPath(doc: unknown, path: string): void {
    assert.throws(
      () => parseGenesis(doc),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_GENESIS' && e.path === path,
    )
  }

  it('parses a valid document (object or JSON text) with parameter defaults', () => {
    const g = parseGenesis(JSON.stringify(base()))
    assert.equal(g.validators.length, 4)
    assert.equal(g.params.slashDoubleSignBps, 500)
    assert.equal(g.params.epochBlocks, 10)
  })

  it('names the offending field', () => {
    expectPath('{', '')
    expectPath({ ...base(), chainId: 'Bad Chain' }, 'chainId')
    expectPath({ ...base(), extra: 1 }, 'extra')
    expectPath({ ...base(), params: { epochBlocks: 0 } }, 'params.epochBlocks')
    expectPath({ ...base(), params: { blockRewardMicro: 5 } }, 'params.blockRewardMicro')
    expectPath({ ...base(), params: { nope: 1 } }, 'params.nope')
    const badAmount = base()
    ;(badAmount.accounts[0] as Record<string, unknown>).balance = '1.5'
    expectPath(badAmount, 'accounts[0].balance')
    const badAddress = base()
    ;(badAddress.accounts[1] as Record<string, unknown>).address = 'trn1qqqq'
    expectPath(badAddress, 'accounts[1].address')
    const dup = base()
    dup.accounts.push({ ...(dup.accounts[0] as Record<string, unknown>) })
    expectPath(dup, `accounts[${dup.accounts.length - 1}].address`)
    const unfunded = base()
    ;(unfunded.validators[0] as Record<string, unknown>).selfStake = String(10_000n * TRN)
    expectPath(unfunded, 'validators[0].selfStake')
    const dupKey = base()
    ;(dupKey.validators[1] as Record<string, unknown>).consensusKey = (dupKey.validators[0] as Record<string, unknown>).consensusKey
    expectPath(dupKey, 'validators[1].consensusKey')
    expectPath({ ...base(), validators: [] }, 'validators')
    expectPath(
      { ...base(), multisigAccounts: [{ threshold: 3, keys: [{ publicKey: '00'.repeat(32), weight: 1 }], balance: '1' }] },
      'multisigAccounts[0].keys[0]',
    )
  })
})
