import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from '@terrane/codec'
import { encodeAddress } from '@terrane/crypto'
import type { chainErrorCodes } from '../src/index.ts'
import {
  ChainError,
  decodeTx,
  multisigAddress,
  multisigConfig,
  signTx,
  txBytesMax,
  txEnvelopeSchema,
  buildTransfer,
  coreTxBodySchema,
} from '../src/index.ts'
import { addressOf, chainId, codeName, fixture, Harness, signerOf, TRN } from './helpers.ts'

function expectCode(actual: number, expected: keyof typeof chainErrorCodes): void {
  assert.equal(codeName(actual), expected)
}

describe('transactions', () => {
  it('applies a transfer: balances, nonce, fee into the rewards pool, supply unchanged', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const supplyBefore = h.app.supply().totalMicro
    const res = await h.block([h.send(alice, addressOf(bob), 5n * TRN, { feeMicro: 2_000n })])
    assert.equal(res.txResults[0]?.code, 0, res.txResults[0]?.log)
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, 995n * TRN - 2_000n)
    assert.equal(h.app.account(addressOf(bob)).balanceMicro, 1005n * TRN)
    assert.equal(h.app.account(addressOf(alice)).nonce, 1)
    assert.equal(h.app.account(addressOf(alice)).kind, 'key')
    assert.deepEqual(h.app.account(addressOf(alice)).publicKey, alice.publicKey)
    // Supply grows only by the block reward.
    assert.equal(h.app.supply().totalMicro, supplyBefore + h.app.params().blockRewardMicro)
    assert.ok(h.app.checkInvariants().isOk, h.app.checkInvariants().violations.join('; '))
    assert.deepEqual(res.txResults[0]?.events?.[0]?.type, 'transfer')
  })

  it('rejects a replayed transaction (nonce already used) and a future nonce', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const tx = h.send(alice, addressOf(bob), 1n)
    const r1 = await h.block([tx])
    assert.equal(r1.txResults[0]?.code, 0)
    const r2 = await h.block([tx])
    expectCode(r2.txResults[0]?.code as number, 'CHAIN_BAD_NONCE')
    const r3 = await h.block([h.send(alice, addressOf(bob), 1n, { nonce: 5 })])
    expectCode(r3.txResults[0]?.code as number, 'CHAIN_BAD_NONCE')
    // Once alice's key is stored, another key signing for her is refused by comparison with it.
    const r4 = await h.block([
      h.txFrom(addressOf(alice), [bob], [{ type: 'bank/send', to: addressOf(bob), amountMicro: 1n }], { nonce: 1 }),
    ])
    expectCode(r4.txResults[0]?.code as number, 'CHAIN_BAD_SIGNATURE')
    assert.equal(h.app.account(addressOf(alice)).nonce, 1)
  })

  it('rejects every ante failure with its code, without charging a fee', async () => {
    const h = new Harness(fixture({ params: { txFeeMinMicro: '500' } }))
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const poor = signerOf(99)
    const to = addressOf(bob)
    const msg = [{ type: 'bank/send', to, amountMicro: 1n }]
    const cases: Array<[Uint8Array, keyof typeof chainErrorCodes]> = [
      [h.tx(alice, msg, { chainId: 'other-chain', nonce: 0 }), 'CHAIN_WRONG_CHAIN'],
      [h.tx(alice, msg, { expiryHeight: 0 + 0, nonce: 0, feeMicro: 499n }), 'CHAIN_FEE_TOO_LOW'],
      [h.txFrom(addressOf(alice), [bob], msg, { nonce: 0 }), 'CHAIN_BAD_SIGNATURE'],
      [h.txFrom(addressOf(alice), [alice, bob], msg, { nonce: 0 }), 'CHAIN_BAD_SIGNATURE'],
      [h.tx(poor, msg, { nonce: 0 }), 'CHAIN_INSUFFICIENT_FUNDS'],
      [h.tx(alice, [{ type: 'bank/send', to, amountMicro: 1n }], { nonce: 0, expiryHeight: 1 }), 'CHAIN_EXPIRED'],
    ]
    await h.block([])
    const res = await h.block(cases.map((c) => c[0]))
    cases.forEach(([, code], i) => expectCode(res.txResults[i]?.code as number, code))
    assert.equal(h.app.account(addressOf(alice)).nonce, 0)
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, 1000n * TRN)
  })

  it('rejects a signature over other bytes (tampered body)', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const good = decodeTx(h.send(alice, addressOf(bob), 1n), h.app.txBodySchema)
    const otherBody = decodeTx(h.send(alice, addressOf(bob), 2n, { nonce: 0 }), h.app.txBodySchema)
    const forged = encode(txEnvelopeSchema, { body: otherBody.envelope.body, signatures: good.envelope.signatures })
    const res = await h.block([forged])
    expectCode(res.txResults[0]?.code as number, 'CHAIN_BAD_SIGNATURE')
  })

  it('charges fee and nonce but rolls back every message when one fails', async () => {
    const h = new Harness(fixture())
    const [alice, bob, carol] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const tx = h.tx(alice, [
      { type: 'bank/send', to: addressOf(bob), amountMicro: 10n * TRN },
      { type: 'bank/send', to: addressOf(carol), amountMicro: 10_000n * TRN },
    ])
    const res = await h.block([tx])
    expectCode(res.txResults[0]?.code as number, 'CHAIN_INSUFFICIENT_FUNDS')
    assert.equal(h.app.account(addressOf(bob)).balanceMicro, 1000n * TRN)
    assert.equal(h.app.account(addressOf(alice)).balanceMicro, 1000n * TRN - 1_000n)
    assert.equal(h.app.account(addressOf(alice)).nonce, 1)
    assert.ok(h.app.checkInvariants().isOk)
  })

  it('rejects a zero transfer with CHAIN_ZERO_AMOUNT', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const res = await h.block([h.send(alice, addressOf(bob), 0n)])
    expectCode(res.txResults[0]?.code as number, 'CHAIN_ZERO_AMOUNT')
  })

  it('refuses oversized, malformed and unknown-message transactions at decode', () => {
    const h = new Harness(fixture())
    const [alice] = h.fx.users as [ReturnType<typeof signerOf>]
    const big = new Uint8Array(txBytesMax + 1)
    assert.equal(codeName(h.app.checkTx(big).code), 'CHAIN_TX_TOO_LARGE')
    assert.equal(codeName(h.app.checkTx(Uint8Array.of(0xff, 0x00)).code), 'CHAIN_BAD_ENCODING')
    // An unknown message type: sign a body built by hand with a permissive schema.
    const unknown = signTx(
      { description: 'any', parse: (v) => v as never },
      { chainId, sender: addressOf(alice), nonce: 0, feeMicro: 1000n, expiryHeight: 0, messages: [{ type: 'nft/mint', id: 1 }] },
      [alice],
    )
    assert.equal(codeName(h.app.checkTx(unknown).code), 'CHAIN_UNKNOWN_MESSAGE')
    assert.throws(
      () => decodeTx(unknown, h.app.txBodySchema),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_UNKNOWN_MESSAGE',
    )
    assert.equal(h.app.processProposal({ height: 1, timeMs: 0, txs: [unknown] }), false)
    assert.equal(h.app.processProposal({ height: 1, timeMs: 0, txs: [h.send(alice, addressOf(alice), 1n)] }), true)
  })

  it('checkTx admits a window of future nonces and reports sender, nonce and fee', () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const r = h.app.checkTx(h.send(alice, addressOf(bob), 1n, { nonce: 3, feeMicro: 1234n }))
    assert.equal(r.code, 0, r.log)
    assert.deepEqual(r.sender, addressOf(alice))
    assert.equal(r.nonce, 3)
    assert.equal(r.fee, 1234n)
    assert.equal(codeName(h.app.checkTx(h.send(alice, addressOf(bob), 1n, { nonce: 64 })).code), 'CHAIN_BAD_NONCE')
  })

  it('prepareProposal keeps nonce order per sender, drops gaps and respects bytesMax', () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const t0 = h.send(alice, addressOf(bob), 1n, { nonce: 0 })
    const t1 = h.send(alice, addressOf(bob), 1n, { nonce: 1 })
    const t3 = h.send(alice, addressOf(bob), 1n, { nonce: 3 })
    const b0 = h.send(bob, addressOf(alice), 1n, { nonce: 0 })
    assert.deepEqual(h.app.prepareProposal({ height: 1, timeMs: 0, txs: [t0, t1, t3, b0], bytesMax: 1_000_000 }), [t0, t1, b0])
    assert.deepEqual(h.app.prepareProposal({ height: 1, timeMs: 0, txs: [t0, t1, b0], bytesMax: t0.length + t1.length }), [t0, t1])
  })

  it('buildTransfer produces a transaction the chain accepts', async () => {
    const h = new Harness(fixture())
    const [alice, bob] = h.fx.users as [ReturnType<typeof signerOf>, ReturnType<typeof signerOf>]
    const tx = buildTransfer({ chainId, signer: alice, to: addressOf(bob), amountMicro: 7n, nonce: 0 }, coreTxBodySchema)
    assert.equal((await h.block([tx])).txResults[0]?.code, 0)
  })
})

describe('multisig accounts', () => {
  const k1 = signerOf(1, 7)
  const k2 = signerOf(2, 7)
  const k3 = signerOf(3, 7)
  const config = multisigConfig(3, [
    { publicKey: k1.publicKey, weight: 2 },
    { publicKey: k2.publicKey, weight: 1 },
    { publicKey: k3.publicKey, weight: 1 },
  ])
  const msAddress = multisigAddress(config)
  const genesisMultisig = {
    threshold: 3,
    keys: config.keys.map((k) => ({ publicKey: Buffer.from(k.publicKey).toString('hex'), weight: k.weight })),
    balance: String(100n * TRN),
  }

  it('derives the address from the config and accepts signatures reaching the threshold', async () => {
    const h = new Harness(fixture({ multisigAccounts: [genesisMultisig] }))
    assert.equal(h.app.account(msAddress).kind, 'multisig')
    const to = addressOf(signerOf(50))
    const ok = h.txFrom(msAddress, [k1, k2], [{ type: 'bank/send', to, amountMicro: 5n }])
    const res = await h.block([ok])
    assert.equal(res.txResults[0]?.code, 0, res.txResults[0]?.log)
    assert.equal(h.app.account(to).balanceMicro, 5n)
  })

  it('rejects weights below the threshold, foreign keys and duplicate signers', async () => {
    const h = new Harness(fixture({ multisigAccounts: [genesisMultisig] }))
    const to = addressOf(signerOf(50))
    const msg = [{ type: 'bank/send', to, amountMicro: 5n }]
    const res = await h.block([
      h.txFrom(msAddress, [k2, k3], msg, { nonce: 0 }),
      h.txFrom(msAddress, [k1, signerOf(9, 7)], msg, { nonce: 0 }),
      h.txFrom(msAddress, [k1, k1], msg, { nonce: 0 }),
    ])
    expectCode(res.txResults[0]?.code as number, 'CHAIN_MULTISIG_THRESHOLD')
    expectCode(res.txResults[1]?.code as number, 'CHAIN_BAD_SIGNATURE')
    expectCode(res.txResults[2]?.code as number, 'CHAIN_BAD_SIGNATURE')
  })

  it('lets a multisig address funded by transfer reveal its config on first use', async () => {
    const h = new Harness(fixture())
    const [alice] = h.fx.users as [ReturnType<typeof signerOf>]
    await h.block([h.send(alice, msAddress, 10n * TRN)])
    assert.equal(h.app.account(msAddress).kind, 'unknown')
    const to = addressOf(signerOf(51))
    const msg = [{ type: 'bank/send', to, amountMicro: 1n }]
    const other = multisigConfig(1, [{ publicKey: k1.publicKey, weight: 1 }])
    const res = await h.block([
      h.txFrom(msAddress, [k1, k2], msg, { nonce: 0 }),
      h.txFrom(msAddress, [k1], msg, { nonce: 0, multisig: other }),
      h.txFrom(msAddress, [k1, k3], msg, { nonce: 0, multisig: config }),
    ])
    expectCode(res.txResults[0]?.code as number, 'CHAIN_BAD_SIGNATURE')
    expectCode(res.txResults[1]?.code as number, 'CHAIN_BAD_MULTISIG')
    assert.equal(res.txResults[2]?.code, 0, res.txResults[2]?.log)
    assert.equal(h.app.account(msAddress).kind, 'multisig')
  })

  it('refuses configs with unsorted keys or an unreachable threshold', () => {
    assert.throws(
      () => multisigAddress({ threshold: 5, keys: config.keys }),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_MULTISIG',
    )
    assert.throws(
      () => multisigAddress({ threshold: 1, keys: [...config.keys].reverse() }),
      (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_MULTISIG',
    )
    void encodeAddress
  })
})
