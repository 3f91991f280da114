import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Signer } from '@terrane/crypto'
import { committedModuleStore } from '@terrane/chain'
import { channelIds, channelsModule, readChannel, signVoucher, type Voucher } from '@terrane/channels'
import { agreementIds, agreementsModule, readAgreement, runServiceScenario, type ScenarioClient } from '../src/index.ts'
import { addressOf, advanceTo, testChainId as chainId, TestChain, TRN } from '@terrane/chain/testing'

/** The in-process implementation of the scenario's client: a real chain app, one tx per block. */
function inProcessClient(h: TestChain, epochBlocks: number): ScenarioClient {
  let queue: Promise<unknown> = Promise.resolve()
  return {
    chainId,
    epochBlocks,
    // One block at a time: concurrent submissions queue behind each other.
    submit(signer, messages) {
      const done = queue.then(() => h.run(signer, messages)).then((r) => ({ code: r.code, log: r.log }))
      queue = done.then(
        () => undefined,
        () => undefined,
      )
      return done
    },
    height: async () => h.height,
    async waitForHeight(height) {
      await advanceTo(h, height + 1)
    },
    balance: async (address) => h.balance(address),
    agreement: async (id) => readAgreement((k) => h.read(k), id),
    agreementIdsOf: async (party) => agreementIds(committedModuleStore(h.store, 'agreements'), { party, limit: 1_000 }).ids,
    channelIdsOf: async (party) =>
      channelIds(committedModuleStore(h.store, 'channels'), { party, limit: 1_000 }).items.map((c) => c.channelId),
  }
}

describe('devnet scenario (in-process chain)', () => {
  it('pays the device through a channel, settles each epoch from proof-of-service figures, penalises missed SLA', async () => {
    const E = 10
    const h = new TestChain({
      users: 3,
      epochBlocks: E,
      modules: [channelsModule(), agreementsModule()],
      moduleGenesis: { channels: { settleDelayBlocks: 5 } },
    })
    const [customer, device, prober] = h.users as [Signer, Signer, Signer]
    const report = await runServiceScenario(
      inProcessClient(h, E),
      { signVoucher: (payer, v: Voucher) => signVoucher(chainId, payer, v) },
      { customer, device, prober, deviceId: 'tdev1scenariodevice' },
      { epochs: 4, missFromEpoch: 2, pricePerEpochMicro: TRN, providerBondMicro: 10n * TRN, penaltyBps: 2_000, heartbeatIntervalMs: 1_000 },
    )
    assert.deepEqual(
      report.figures.map((f) => [f.uptimeBps, f.latencyP95Ms, f.bandwidthKbps]),
      [
        [10_000, 49, 20_000],
        [10_000, 49, 20_000],
        [5_000, 450, 1_000],
        [5_000, 450, 1_000],
      ],
    )
    const a = report.final
    assert.deepEqual([a.status, a.epochsMet, a.epochsBreached, a.epochsNoData], ['ended', 2, 2, 0])
    // One observation per boundary: met epochs paid the price, breached ones refunded it and took 20% of the bond.
    assert.deepEqual(
      report.settlements.map((s) => [s.epoch, s.epochsSettled, s.outcome, s.paidMicro, s.refundMicro, s.penaltyMicro]),
      [
        [report.startEpoch, 1, 'met', TRN, 0n, 0n],
        [report.startEpoch + 1, 1, 'met', TRN, 0n, 0n],
        [report.startEpoch + 2, 1, 'breached', 0n, TRN, 2n * TRN],
        [report.startEpoch + 3, 1, 'breached', 0n, TRN, 2n * TRN],
      ],
    )
    const channel = readChannel((k) => h.read(k), report.channelId)
    assert.equal(channel?.paidMicro, report.redeemedMicro)
    // Device: 2 epochs paid (2 TRN) + 0.8 TRN through the channel, less 2 x 2 TRN penalties from its
    // bond (returned less the penalties at the end), less its fees.
    const fees = 6n * 1_000n // accept, 4 voucher updates, redeem
    assert.equal(report.providerDeltaMicro, 2n * TRN + 800_000n - 4n * TRN - fees)
    assert.equal(a.bondMicro, 0n)
    assert.equal(a.escrowMicro, 0n)
    assert.equal(addressOf(device).length, 20)
    h.assertInvariants()
  })
})
