import { t, type Infer } from '@terrane/codec'
import { domainMessage, signInDomain, verifySignature, type Signer } from '@terrane/crypto'
import type { ChannelRejectReason } from './errors.ts'

/** Bytes of a channel id (SHA-256). */
export const channelIdBytes = 32
/** Lanes per channel: the upper bound of `voucher.lane` (exclusive) and of stored lane states. */
export const lanesMax = 64

export const voucherSchema = t.struct({
  channelId: t.bytes({ length: channelIdBytes }),
  /** Independent sub-ledger of the channel (Filecoin lanes), 0 .. lanesMax - 1. */
  lane: t.uint({ max: lanesMax - 1 }),
  /** Strictly increasing per lane: a voucher with a nonce at or below the last accepted one is stale. */
  nonce: t.uint(),
  /** Cumulative amount owed on this lane (never decreases). */
  amountMicro: t.u64(),
})
export type Voucher = Infer<typeof voucherSchema>

export const signedVoucherSchema = t.struct({
  voucher: voucherSchema,
  /** Ed25519 by the payer over voucherSigningBytes. */
  signature: t.bytes({ length: 64 }),
})
export type SignedVoucher = Infer<typeof signedVoucherSchema>

/** Bytes of the fixed voucher payload: channelId(32) || lane u32 BE || nonce u64 BE || amount u64 BE. */
export const voucherPayloadBytes = channelIdBytes + 4 + 8 + 8

const u64Max = (1n << 64n) - 1n
const prefixCache = new Map<string, Uint8Array>()

/** The domain prefix of `{ chainId, kind: 'voucher' }` (cached: the hot path is the signature, not the bytes). */
function domainPrefix(chainId: string): Uint8Array {
  let p = prefixCache.get(chainId)
  if (p === undefined) {
    p = domainMessage({ chainId, kind: 'voucher' }, new Uint8Array(0))
    if (prefixCache.size >= 64) prefixCache.clear()
    prefixCache.set(chainId, p)
  }
  return p
}

/**
 * The exact bytes a payer signs: the @terrane/crypto domain message for `{ chainId, kind: 'voucher' }`
 * over a fixed 52-byte payload. Fixed layout rather than CBOR so a device builds it in a few hundred
 * nanoseconds and verification costs one signature check.
 */
export function voucherSigningBytes(chainId: string, voucher: Voucher): Uint8Array {
  const prefix = domainPrefix(chainId)
  const out = new Uint8Array(prefix.length + voucherPayloadBytes)
  out.set(prefix, 0)
  let at = prefix.length
  out.set(voucher.channelId.subarray(0, channelIdBytes), at)
  at += channelIdBytes
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint32(at, voucher.lane)
  view.setBigUint64(at + 4, BigInt(voucher.nonce))
  view.setBigUint64(at + 12, voucher.amountMicro & u64Max)
  return out
}

/**
 * Signs a voucher as the payer.
 *
 * @example
 * const sv = signVoucher('terrane-devnet', payer, { channelId, lane: 0, nonce: 7, amountMicro: 7_000n })
 */
export function signVoucher(chainId: string, payer: Signer, voucher: Voucher): SignedVoucher {
  const payload = voucherSigningBytes(chainId, voucher).subarray(domainPrefix(chainId).length)
  return { voucher, signature: signInDomain(payer, { chainId, kind: 'voucher' }, payload) }
}

/**
 * Pure, offline check of a voucher's signature by the payer's Ed25519 key (libsodium, strict RFC 8032).
 * Shape checks first (channel id length, lane range, u64 amount), so it never throws.
 */
export function verifyVoucher(chainId: string, signed: SignedVoucher, payerPublicKey: Uint8Array): boolean {
  const v = signed.voucher
  if (v.channelId.length !== channelIdBytes || !Number.isSafeInteger(v.lane) || v.lane < 0 || v.lane >= lanesMax) return false
  if (!Number.isSafeInteger(v.nonce) || v.nonce < 0 || v.amountMicro < 0n || v.amountMicro > u64Max) return false
  return verifySignature(payerPublicKey, voucherSigningBytes(chainId, v), signed.signature)
}

/** A lane's last accepted voucher. */
export interface LaneState {
  lane: number
  nonce: number
  amountMicro: bigint
}

/** What a payee (device, hub or chain) knows of a channel to judge a voucher. */
export interface ChannelView {
  channelId: Uint8Array
  payerKey: Uint8Array
  depositMicro: bigint
  lanes: readonly LaneState[]
}

export type VoucherVerdict =
  | { isAccepted: true; /** Newly owed by this voucher. */ deltaMicro: bigint; /** Owed over all lanes after it. */ totalMicro: bigint }
  | { isAccepted: false; reason: ChannelRejectReason }

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The voucher rules, shared by the chain module and offline payees so both decide alike: right
 * channel, lane in range, nonce above the lane's, cumulative amount not below the lane's, all lanes
 * within the deposit, and the payer's signature (checked last: it is the expensive part).
 */
export function checkVoucher(chainId: string, channel: ChannelView, signed: SignedVoucher): VoucherVerdict {
  const v = signed.voucher
  if (!sameBytes(v.channelId, channel.channelId)) return { isAccepted: false, reason: 'wrong-channel' }
  if (!Number.isSafeInteger(v.lane) || v.lane < 0 || v.lane >= lanesMax) return { isAccepted: false, reason: 'lane-out-of-range' }
  const current = channel.lanes.find((l) => l.lane === v.lane)
  if (current !== undefined && v.nonce <= current.nonce) return { isAccepted: false, reason: 'stale-nonce' }
  const previousMicro = current?.amountMicro ?? 0n
  if (v.amountMicro < previousMicro) return { isAccepted: false, reason: 'amount-decreased' }
  let totalMicro = v.amountMicro
  for (const l of channel.lanes) if (l.lane !== v.lane) totalMicro += l.amountMicro
  if (totalMicro > channel.depositMicro) return { isAccepted: false, reason: 'over-balance' }
  if (!verifyVoucher(chainId, signed, channel.payerKey)) return { isAccepted: false, reason: 'bad-signature' }
  return { isAccepted: true, deltaMicro: v.amountMicro - previousMicro, totalMicro }
}

/** The lanes after accepting `voucher` (a fresh array, sorted by lane). */
export function applyVoucher(lanes: readonly LaneState[], voucher: Voucher): LaneState[] {
  const next = lanes.filter((l) => l.lane !== voucher.lane)
  next.push({ lane: voucher.lane, nonce: voucher.nonce, amountMicro: voucher.amountMicro })
  return next.sort((a, b) => a.lane - b.lane)
}

/** Sum of the lanes' cumulative amounts: what the payer owes the payee in total. */
export function creditedMicro(lanes: readonly LaneState[]): bigint {
  let total = 0n
  for (const l of lanes) total += l.amountMicro
  return total
}
