// `terrane service demo`: runs @terrane/agreements' service scenario against a running devnet over
// its API, with fresh actors funded by a devnet faucet, and checks that no funds were created or lost.
import { decode } from '@terrane/codec'
import { keys } from '@terrane/chain'
import { accountIdOfPublicKey, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import type { TerraneClient } from '@terrane/sdk'
import {
  agreementKeys,
  proberSchema,
  runServiceScenario,
  type ScenarioInit,
  type ScenarioReport,
  type ScenarioSettlement,
} from '@terrane/agreements'
import { signVoucher, type Voucher } from '@terrane/channels'
import { CliError } from '../../errors.ts'
import { apiScenarioClient } from './scenario-client.ts'

/** What the faucet sends each actor: escrow, channel deposit and bonds of the default scenario, plus fees. */
export const demoFundingMicro = {
  customer: 10_000_000n, // 4 epochs x 1 TRN escrow + 0.8 TRN channel deposit + fees
  device: 11_000_000n, // 10 TRN provider bond + fees
  prober: 101_000_000n, // 100 TRN prober bond (the default minimum) + fees
} as const

export interface ServiceDemoInit {
  client: TerraneClient
  /** Funds the actors (a devnet faucet). */
  faucet: Signer
  /** 32 bytes the actors' keys derive from (fresh per run unless repeated on purpose). */
  actorsSeed: Uint8Array
  /** @default 4 */
  epochs?: number
  /** The device misses its SLA from this covered epoch on (0-based). @default 2 */
  missFromEpoch?: number
  /** The device the prober probes (a label in the probe results). */
  deviceId: string
  /** @default 60_000 */
  waitMsMax?: number
  /** Called with each line of progress. */
  onProgress?: (line: string) => void
}

export interface ServiceDemoResult {
  chainId: string
  epochBlocks: number
  customer: string
  device: string
  prober: string
  deviceId: string
  report: ScenarioReport
  /** What the device was paid through the channel, as the API reports the channel. */
  channelRedeemedMicro: bigint
  /** funded - (balances + fees + prober bond): 0 when no funds were created or lost. */
  unaccountedMicro: bigint
}

function actor(seed: Uint8Array, role: number): Signer {
  const s = Uint8Array.from(seed)
  s[31] = (s[31] as number) ^ role
  return seedSigner(s)
}

export async function runServiceDemo(init: ServiceDemoInit): Promise<ServiceDemoResult> {
  const { client } = init
  const progress = init.onProgress ?? (() => undefined)
  const api = await apiScenarioClient({ client, ...(init.waitMsMax === undefined ? {} : { waitMsMax: init.waitMsMax }) })
  const customer = actor(init.actorsSeed, 1)
  const device = actor(init.actorsSeed, 2)
  const prober = actor(init.actorsSeed, 3)
  const address = (s: Signer) => accountIdOfPublicKey(s.publicKey)

  progress(`Funding the customer, the device and the prober from the faucet ${encodeAddress(address(init.faucet))}`)
  const funded = await api.submit(init.faucet, [
    { type: 'bank/send', to: address(customer), amountMicro: demoFundingMicro.customer },
    { type: 'bank/send', to: address(device), amountMicro: demoFundingMicro.device },
    { type: 'bank/send', to: address(prober), amountMicro: demoFundingMicro.prober },
  ])
  if (funded.code !== 0) throw new CliError('CLI_TX_FAILED', `funding from the faucet failed: ${funded.log}`)

  const scenario: ScenarioInit = {
    epochs: init.epochs ?? 4,
    missFromEpoch: init.missFromEpoch ?? 2,
    // Simulated heartbeats once per block (1 s devnet blocks).
    heartbeatIntervalMs: 1_000,
    blockMs: 1_000,
  }
  progress(`Opening a channel and an agreement (epoch = ${api.epochBlocks} blocks); this takes about ${(scenario.epochs ?? 4) + 2} epochs`)
  const report = await runServiceScenario(
    api,
    { signVoucher: (payer, v: Voucher) => signVoucher(api.chainId, payer, v) },
    { customer, device, prober, deviceId: init.deviceId },
    scenario,
  )

  const channel = await client.channel(Buffer.from(report.channelId).toString('hex'))
  if (channel === null) throw new CliError('CLI_NOT_FOUND', 'the channel is not served by the API')
  const proberKey = keys.module('agreements', agreementKeys.prober(address(prober)))
  const proberState = await client.stateProof(Buffer.from(proberKey, 'latin1'))
  const proberBondMicro = proberState.value === null ? 0n : decode(proberSchema, Buffer.from(proberState.value, 'hex')).bondMicro
  let held = proberBondMicro
  for (const s of [customer, device, prober]) {
    held += await api.balance(address(s))
    held += api.feesPaidMicro.get(Buffer.from(address(s)).toString('hex')) ?? 0n
  }
  const total = demoFundingMicro.customer + demoFundingMicro.device + demoFundingMicro.prober
  return {
    chainId: api.chainId,
    epochBlocks: api.epochBlocks,
    customer: encodeAddress(address(customer)),
    device: encodeAddress(address(device)),
    prober: encodeAddress(address(prober)),
    deviceId: init.deviceId,
    report,
    channelRedeemedMicro: BigInt(channel.redeemed),
    unaccountedMicro: total - held,
  }
}

/** `1.5 TRN` from micro-TRN. */
export function trn(micro: bigint): string {
  const sign = micro < 0n ? '-' : ''
  const m = micro < 0n ? -micro : micro
  const frac = (m % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  return `${sign}${m / 1_000_000n}${frac === '' ? '' : '.' + frac} TRN`
}

function settlementLine(s: ScenarioSettlement, figures: ScenarioReport['figures']): string {
  const f = figures.find((x) => x.epoch === s.epoch)
  const measured = f === undefined ? '' : `uptime ${(f.uptimeBps / 100).toFixed(2)}%, p95 ${f.latencyP95Ms} ms, ${f.bandwidthKbps} kbps -> `
  const money = [
    s.paidMicro > 0n ? `paid ${trn(s.paidMicro)} to the device` : '',
    s.refundMicro > 0n ? `refunded ${trn(s.refundMicro)} to the customer` : '',
    s.penaltyMicro > 0n ? `penalty ${trn(s.penaltyMicro)} from the device's bond to the customer` : '',
  ].filter((x) => x !== '')
  const which = s.epochsSettled === 1 ? `epoch ${s.epoch}` : `epochs ${s.epoch - s.epochsSettled + 1}-${s.epoch}`
  const outcome = s.outcome === 'mixed' ? `${s.met} met, ${s.breached} breached, ${s.noData} no data` : s.outcome
  return `  ${which}: ${measured}${outcome}: ${money.join(', ')}`
}

/** The human summary of a demo run. */
export function demoSummary(r: ServiceDemoResult): string[] {
  const a = r.report.final
  return [
    `Service demo on ${r.chainId} (epoch = ${r.epochBlocks} blocks), probing device ${r.deviceId}`,
    `  customer ${r.customer}`,
    `  device   ${r.device} (provider and channel payee)`,
    `  prober   ${r.prober}`,
    `Agreement ${r.report.agreementId} covers epochs ${r.report.startEpoch}-${r.report.endEpoch - 1}; channel ${Buffer.from(r.report.channelId).toString('hex')}`,
    'Settlements (each epoch settles at the end of the next one):',
    ...r.report.settlements.map((s) => settlementLine(s, r.report.figures)),
    `Channel: ${trn(r.channelRedeemedMicro)} redeemed by the device (${r.report.figures.length} cumulative vouchers)`,
    `Final: ${a.status} (${a.epochsMet} met, ${a.epochsBreached} breached, ${a.epochsNoData} no data); ` +
      `device ${trn(r.report.providerDeltaMicro)}, customer ${trn(r.report.customerDeltaMicro)} since the agreement opened`,
    r.unaccountedMicro === 0n
      ? 'Funds: none created or lost (balances + fees + prober bond = what the faucet sent)'
      : `Funds: ${trn(r.unaccountedMicro)} UNACCOUNTED`,
  ]
}
