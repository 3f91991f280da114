import { accountIdOfPublicKey, type Signer } from '@terrane/crypto'
import type { Msg } from '@terrane/chain'
import { slaFiguresOf, uptimeOfEpoch, type ProbeResult } from '@terrane/service'
import type { Agreement, SettlementOutcome, SlaTerms } from './schemas.ts'

/**
 * What the scenario needs from a chain: an SDK-like surface the integrator implements over the node
 * API (submit a signed transaction and wait for its block, read heights, balances and agreements).
 */
export interface ScenarioClient {
  readonly chainId: string
  readonly epochBlocks: number
  /**
   * Builds, signs and submits one transaction; resolves once it is in a committed block with its
   * result code and log (a client that only has the result's reason name puts that in `log`).
   */
  submit(signer: Signer, messages: Msg[]): Promise<{ code: number; log: string }>
  /** Last committed height. */
  height(): Promise<number>
  /** Resolves once `height` is committed. */
  waitForHeight(height: number): Promise<void>
  balance(address: Uint8Array): Promise<bigint>
  agreement(id: number): Promise<Agreement | undefined>
  /** Ids of the agreements where `party` is the customer or the provider (the module's party index). */
  agreementIdsOf(party: Uint8Array): Promise<number[]>
  /** Ids of the channels where `party` is the payer or the payee (the module's party index). */
  channelIdsOf(party: Uint8Array): Promise<Uint8Array[]>
}

/** Voucher signing lives in @terrane/channels (same layer as this package): the caller passes it in. */
export interface ScenarioPayments {
  signVoucher(payer: Signer, voucher: { channelId: Uint8Array; lane: number; nonce: number; amountMicro: bigint }): unknown
}

export interface ScenarioActors {
  customer: Signer
  /** The provider account of the simulated device (payee of the channel, provider of the agreement). */
  device: Signer
  /** The device id the prober probes (any `tdev1...` id on a devnet). */
  deviceId: string
  prober: Signer
}

export interface ScenarioInit {
  /** @default 1_000_000n (1 TRN) */
  pricePerEpochMicro?: bigint
  /** @default 4 */
  epochs?: number
  /** The device misses its SLA from this covered epoch on (0-based). @default 2 */
  missFromEpoch?: number
  /** Paid through the channel per epoch of service (per MB relayed, per reading...). @default 200_000n */
  channelPerEpochMicro?: bigint
  /** @default 100_000_000n (100 TRN, the default prober minimum) */
  proberBondMicro?: bigint
  /** @default 10_000_000n */
  providerBondMicro?: bigint
  /** @default 2_000 (20% of the bond per breached epoch) */
  penaltyBps?: number
  /** Heartbeat interval of the simulated device, ms. @default 60_000 */
  heartbeatIntervalMs?: number
  /** Block time, to place heartbeats in epochs. @default 1_000 */
  blockMs?: number
}

/** What one settlement boundary did to the agreement, as observed in its state before and after. */
export interface ScenarioSettlement {
  /** The epoch settled (the last one, if the observer fell behind and several settled in between). */
  epoch: number
  /** Epochs settled since the previous observation (1 unless the observer fell behind). */
  epochsSettled: number
  /** The outcome when exactly one epoch settled; otherwise `mixed` (see the counts). */
  outcome: SettlementOutcome | 'mixed'
  met: number
  breached: number
  noData: number
  /** Paid from escrow to the provider (price x met epochs). */
  paidMicro: bigint
  /** Refunded from escrow to the customer (price x breached or no-data epochs). */
  refundMicro: bigint
  /** Slashed from the provider's bond to the customer. */
  penaltyMicro: bigint
}

export interface ScenarioReport {
  agreementId: number
  channelId: Uint8Array
  startEpoch: number
  endEpoch: number
  /** Figures the prober submitted, per covered epoch. */
  figures: Array<{ epoch: number; uptimeBps: number; latencyP95Ms: number; bandwidthKbps: number }>
  /** Per settlement boundary, in order. */
  settlements: ScenarioSettlement[]
  final: Agreement
  providerDeltaMicro: bigint
  customerDeltaMicro: bigint
  redeemedMicro: bigint
}

export const scenarioTerms: SlaTerms = { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 5_000 }

function must(r: { code: number; log: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.log}`)
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** The settlement between two observations of an agreement, or undefined if none happened. */
export function settlementBetween(before: Agreement, after: Agreement): ScenarioSettlement | undefined {
  const epochsSettled =
    after.epochsMet + after.epochsBreached + after.epochsNoData - (before.epochsMet + before.epochsBreached + before.epochsNoData)
  if (epochsSettled === 0) return undefined
  const met = after.epochsMet - before.epochsMet
  const breached = after.epochsBreached - before.epochsBreached
  const noData = after.epochsNoData - before.epochsNoData
  const outcome: ScenarioSettlement['outcome'] = epochsSettled > 1 ? 'mixed' : met === 1 ? 'met' : breached === 1 ? 'breached' : 'no-data'
  // While active the bond only moves by penalties (observed). When the agreement ends the rest of the
  // bond goes back in the same block, so the penalty is the module's rule: per breach
  // bondInitial x penaltyBps, capped at what is left.
  let penaltyMicro = before.bondMicro - after.bondMicro
  if (after.status !== 'active') {
    const due = (after.bondInitialMicro * BigInt(after.penaltyBps)) / 10_000n
    let left = before.bondMicro
    penaltyMicro = 0n
    for (let k = 0; k < breached; k++) {
      const p = due < left ? due : left
      penaltyMicro += p
      left -= p
    }
  }
  return {
    epoch: after.lastSettledEpoch,
    epochsSettled,
    outcome,
    met,
    breached,
    noData,
    paidMicro: after.pricePerEpochMicro * BigInt(met),
    refundMicro: after.pricePerEpochMicro * BigInt(breached + noData),
    penaltyMicro,
  }
}

/**
 * Devnet demo: a customer opens a channel and an agreement with a device; each epoch the customer
 * pays the device through the channel, a prober feeds proof-of-service figures (uptime from the
 * device's heartbeats, latency and bandwidth from probes, aggregated by @terrane/service), and from
 * `missFromEpoch` the device misses its SLA (heartbeat gaps and slow probes). The agreement settles
 * each epoch on chain; the report says what it paid, refunded and slashed.
 */
export async function runServiceScenario(
  client: ScenarioClient,
  payments: ScenarioPayments,
  actors: ScenarioActors,
  init: ScenarioInit = {},
): Promise<ScenarioReport> {
  const price = init.pricePerEpochMicro ?? 1_000_000n
  const epochs = init.epochs ?? 4
  const missFrom = init.missFromEpoch ?? 2
  const perEpoch = init.channelPerEpochMicro ?? 200_000n
  const blockMs = init.blockMs ?? 1_000
  const intervalMs = init.heartbeatIntervalMs ?? 60_000
  const E = client.epochBlocks
  const deviceAddress = accountIdOfPublicKey(actors.device.publicKey)
  const customerAddress = accountIdOfPublicKey(actors.customer.publicKey)
  const proberAddress = accountIdOfPublicKey(actors.prober.publicKey)

  const registered = await client.submit(actors.prober, [
    { type: 'agreements/register-prober', publicKey: actors.prober.publicKey, bondMicro: init.proberBondMicro ?? 100_000_000n },
  ])
  if (registered.code !== 0 && !registered.log.includes('prober-exists')) must(registered, 'register prober')

  const channelsBefore = new Set((await client.channelIdsOf(customerAddress)).map(hex))
  const agreementsBefore = new Set(await client.agreementIdsOf(customerAddress))
  const opened = await client.submit(actors.customer, [
    { type: 'channels/open', payee: deviceAddress, payerKey: actors.customer.publicKey, amountMicro: perEpoch * BigInt(epochs) },
    {
      type: 'agreements/open',
      provider: deviceAddress,
      service: 'data-relay',
      pricePerEpochMicro: price,
      durationEpochs: epochs,
      terms: scenarioTerms,
      penaltyBps: init.penaltyBps ?? 2_000,
      breachesMax: epochs,
      bondMicro: init.providerBondMicro ?? 10_000_000n,
    },
  ])
  must(opened, 'open channel and agreement')
  // The new ids, from the modules' party indexes (what any API client can read).
  const channelId = (await client.channelIdsOf(customerAddress)).find((id) => !channelsBefore.has(hex(id)))
  const agreementId = (await client.agreementIdsOf(customerAddress)).find((id) => !agreementsBefore.has(id))
  if (channelId === undefined || agreementId === undefined) throw new Error('the new channel or agreement is not in the party index')
  const providerStart = await client.balance(deviceAddress)
  const customerStart = await client.balance(customerAddress)

  const accepted = await client.submit(actors.device, [{ type: 'agreements/accept', agreementId }])
  must(accepted, 'accept')
  const a0 = await client.agreement(agreementId)
  if (a0 === undefined) throw new Error('agreement not found after accept')
  const figures: ScenarioReport['figures'] = []
  const settlements: ScenarioSettlement[] = []
  let seen = a0
  const observe = async (): Promise<Agreement> => {
    const now = await client.agreement(agreementId)
    if (now === undefined) throw new Error('agreement vanished')
    const s = settlementBetween(seen, now)
    if (s !== undefined) settlements.push(s)
    seen = now
    return now
  }

  for (let i = 0; i < epochs; i++) {
    const epoch = a0.startEpoch + i
    await client.waitForHeight((epoch - 1) * E + 1)
    await observe()
    const isMissing = i >= missFrom
    // The device's heartbeats over the epoch: a healthy device beats every interval; a failing one
    // is down for the second half of the epoch.
    const epochStartMs = ((epoch - 1) * E + 1) * blockMs
    const window = { startMs: epochStartMs, endMs: epochStartMs + E * blockMs }
    const beats: number[] = []
    for (let t = window.startMs; t < window.endMs; t += Math.min(intervalMs, E * blockMs))
      if (!isMissing || t < window.startMs + (E * blockMs) / 2) beats.push(t)
    const uptime = uptimeOfEpoch(beats, window, Math.min(intervalMs, E * blockMs))
    // Probe results as the prober measured them (a failing device answers slowly and rarely).
    const probes: ProbeResult[] = Array.from({ length: 10 }, (_, k) => ({
      prober: proberAddress,
      target: actors.deviceId,
      epoch,
      timeMs: window.startMs + k,
      nonce: new Uint8Array(32).fill(k),
      isAvailable: !isMissing || k % 2 === 0,
      latencyMs: isMissing ? 450 : 40 + k,
      bandwidthKbps: isMissing ? 1_000 : 20_000,
    }))
    const [sla] = slaFiguresOf(probes)
    if (sla === undefined) throw new Error('no SLA figures')
    const f = { epoch, uptimeBps: uptime.uptimeBps, latencyP95Ms: sla.latencyP95Ms, bandwidthKbps: sla.bandwidthKbps }
    figures.push(f)
    // The prober's figures and the customer's payment (a cumulative voucher the device submits) go in
    // together: two signers, so neither waits for the other's block.
    const voucher = payments.signVoucher(actors.customer, { channelId, lane: 0, nonce: i + 1, amountMicro: perEpoch * BigInt(i + 1) })
    const [submitted, updated] = await Promise.all([
      client.submit(actors.prober, [
        {
          type: 'agreements/submit-figures',
          epoch,
          figures: [{ agreementId, uptimeBps: f.uptimeBps, latencyP95Ms: f.latencyP95Ms, bandwidthKbps: f.bandwidthKbps }],
        },
      ]),
      client.submit(actors.device, [{ type: 'channels/update', channelId, voucher }]),
    ])
    must(submitted, `figures for epoch ${epoch}`)
    must(updated, `voucher ${i + 1}`)
  }
  must(await client.submit(actors.device, [{ type: 'channels/redeem', channelId }]), 'redeem')
  // Each remaining epoch settles at the end of the epoch after it; observe each boundary.
  for (let epoch = Math.max(a0.startEpoch, seen.lastSettledEpoch + 1); epoch < a0.startEpoch + epochs; epoch++) {
    await client.waitForHeight((epoch + 1) * E)
    await observe()
  }
  const final = seen
  return {
    agreementId,
    channelId,
    startEpoch: a0.startEpoch,
    endEpoch: a0.endEpoch,
    figures,
    settlements,
    final,
    providerDeltaMicro: (await client.balance(deviceAddress)) - providerStart,
    customerDeltaMicro: (await client.balance(customerAddress)) - customerStart,
    redeemedMicro: perEpoch * BigInt(epochs),
  }
}
