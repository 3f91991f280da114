import type { Signer } from '@terrane/crypto'
import type { ChannelRejectReason } from './errors.ts'
import { applyVoucher, checkVoucher, signVoucher, type LaneState, type SignedVoucher } from './voucher.ts'

/**
 * Hub-and-spoke routing (off chain). A customer opens ONE channel to a hub; the hub keeps one channel
 * open to each device it serves. To pay device D an amount x, the customer sends the hub a voucher on
 * its channel raising the cumulative amount by x + fee; the hub checks it exactly as the chain would
 * (`checkVoucher`), then signs a voucher on its own channel to D raising that channel's cumulative
 * amount by x, and hands it to D (which checks it offline with `verifyVoucher` / `checkVoucher`).
 * Both vouchers are redeemable on chain independently.
 *
 * Trust: without hashed time-locks the two legs are not atomic. The customer's exposure to a hub
 * that takes the voucher and does not forward is one payment (it stops paying); the hub's exposure
 * is nil (it forwards only after holding a valid voucher). HTLC forwarding is not implemented.
 */
export interface HubInit {
  chainId: string
  /** The hub's account key: it is the payer of its outbound channels. */
  signer: Signer
  /** Routing fee in basis points of the forwarded amount. @default 0 */
  feeBps?: number
}

export interface HubChannel {
  channelId: Uint8Array
  payerKey: Uint8Array
  depositMicro: bigint
  lanes?: LaneState[]
}

export interface RouteRequest {
  /** The customer's channel to the hub. */
  inboundChannelId: Uint8Array
  /** Voucher raising that channel's cumulative amount by at least amountMicro + fee. */
  voucher: SignedVoucher
  /** Payee address (hex) of the destination device's channel. */
  destination: string
  amountMicro: bigint
}

export type RouteVerdict =
  | { isRouted: true; voucher: SignedVoucher; feeMicro: bigint }
  | { isRouted: false; reason: ChannelRejectReason | 'no-route' | 'underpaid' | 'outbound-over-balance' }

interface Outbound {
  channelId: Uint8Array
  depositMicro: bigint
  /** The hub pays on lane 0 of each outbound channel. */
  nonce: number
  amountMicro: bigint
}

export interface Hub {
  /** Registers a customer's channel whose payee is the hub. */
  addInbound(channel: HubChannel): void
  /** Registers the hub's own channel to a device (the hub is its payer). */
  addOutbound(destination: string, channel: { channelId: Uint8Array; depositMicro: bigint }): void
  route(request: RouteRequest): RouteVerdict
  /** The best voucher received on an inbound channel (to redeem on chain). */
  bestInbound(channelId: Uint8Array): SignedVoucher[]
}

const key = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export function createHub(init: HubInit): Hub {
  const feeBps = BigInt(init.feeBps ?? 0)
  const inbound = new Map<string, HubChannel & { lanes: LaneState[]; best: Map<number, SignedVoucher> }>()
  const outbound = new Map<string, Outbound>()
  return {
    addInbound(channel) {
      inbound.set(key(channel.channelId), { ...channel, lanes: [...(channel.lanes ?? [])], best: new Map() })
    },
    addOutbound(destination, channel) {
      outbound.set(destination, { channelId: channel.channelId, depositMicro: channel.depositMicro, nonce: 0, amountMicro: 0n })
    },
    route(request) {
      const inn = inbound.get(key(request.inboundChannelId))
      const out = outbound.get(request.destination)
      if (inn === undefined || out === undefined) return { isRouted: false, reason: 'no-route' }
      const feeMicro = (request.amountMicro * feeBps) / 10_000n
      const verdict = checkVoucher(init.chainId, inn, request.voucher)
      if (!verdict.isAccepted) return { isRouted: false, reason: verdict.reason }
      if (verdict.deltaMicro < request.amountMicro + feeMicro) return { isRouted: false, reason: 'underpaid' }
      const amountMicro = out.amountMicro + request.amountMicro
      if (amountMicro > out.depositMicro) return { isRouted: false, reason: 'outbound-over-balance' }
      inn.lanes = applyVoucher(inn.lanes, request.voucher.voucher)
      inn.best.set(request.voucher.voucher.lane, request.voucher)
      out.nonce += 1
      out.amountMicro = amountMicro
      const voucher = signVoucher(init.chainId, init.signer, { channelId: out.channelId, lane: 0, nonce: out.nonce, amountMicro })
      return { isRouted: true, voucher, feeMicro }
    },
    bestInbound(channelId) {
      const inn = inbound.get(key(channelId))
      return inn === undefined ? [] : [...inn.best.values()]
    },
  }
}
