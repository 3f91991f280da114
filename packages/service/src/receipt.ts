import { encode, sha256, t, type Infer } from '@terrane/codec'
import { accountIdOfPublicKey, signInDomain, verifyInDomain, type Signer } from '@terrane/crypto'
import { deviceIdFromPublicKey, verifyDeviceSignature } from '@terrane/attestation'

/** Units a receipt counts (bytes relayed, data points delivered, compute units). */
export const receiptUnits = ['bytes', 'data-points', 'compute-units'] as const
export type ReceiptUnit = (typeof receiptUnits)[number]

export const deliveryReceiptSchema = t.struct({
  /** The payment channel that pays for this service (customer = payer, device's owner = payee). */
  channelId: t.bytes({ length: 32 }),
  /** The customer's 20-byte account id. */
  customer: t.bytes({ length: 20 }),
  deviceId: t.string({ bytesMax: 90, pattern: /^tdev1[02-9ac-hj-np-z]{6,}$/ }),
  unit: t.enumOf(receiptUnits),
  /** Units delivered during [periodStartMs, periodEndMs). */
  quantity: t.u64(),
  periodStartMs: t.uint(),
  periodEndMs: t.uint(),
  /** Strictly increasing per (channel, device). */
  seq: t.uint(),
  /** Cumulative amount the customer's latest voucher on the channel pays: binds the receipt to a payment. */
  paidMicro: t.u64(),
})
export type DeliveryReceipt = Infer<typeof deliveryReceiptSchema>

export const signedReceiptSchema = t.struct({
  receipt: deliveryReceiptSchema,
  /** The customer's Ed25519 key (must hash to `receipt.customer`). */
  customerKey: t.bytes({ length: 32 }),
  /** Ed25519 over the receipt in domain { chainId, kind: 'receipt' }; empty if missing. */
  customerSignature: t.bytes({ lengthMax: 64 }),
  /** P-256 by the device over receiptCountersignBytes; empty if missing. */
  deviceSignature: t.bytes({ lengthMax: 64 }),
})
export type SignedReceipt = Infer<typeof signedReceiptSchema>

const tag = new TextEncoder().encode('TERRANE-RECEIPT-COUNTERSIGN-V1')
const utf8 = new TextEncoder()

/** The bytes the customer signs (inside the `{ chainId, kind: 'receipt' }` domain): the canonical receipt. */
export function receiptBytes(receipt: DeliveryReceipt): Uint8Array {
  return encode(deliveryReceiptSchema, receipt)
}

/** The id of a receipt: SHA-256 of its canonical bytes (never of a signature: ECDSA is malleable). */
export function receiptId(receipt: DeliveryReceipt): Uint8Array {
  return sha256(receiptBytes(receipt))
}

/**
 * What the device countersigns: tag || u8 len(chainId) || chainId || SHA-256(receipt) || customer signature.
 * Covering the customer's signature means the device countersigns exactly what the customer signed.
 */
export function receiptCountersignBytes(chainId: string, receipt: DeliveryReceipt, customerSignature: Uint8Array): Uint8Array {
  const chain = utf8.encode(chainId)
  const out = new Uint8Array(tag.length + 1 + chain.length + 32 + customerSignature.length)
  let at = 0
  out.set(tag, at)
  at += tag.length
  out[at++] = chain.length
  out.set(chain, at)
  at += chain.length
  out.set(receiptId(receipt), at)
  out.set(customerSignature, at + 32)
  return out
}

/** Step 1, by the customer: signs the receipt. */
export function signReceiptAsCustomer(chainId: string, customer: Signer, receipt: DeliveryReceipt): SignedReceipt {
  return {
    receipt,
    customerKey: customer.publicKey,
    customerSignature: signInDomain(customer, { chainId, kind: 'receipt' }, receiptBytes(receipt)),
    deviceSignature: new Uint8Array(0),
  }
}

/** Step 2, by the device (its secure element signs P-256): countersigns the customer-signed receipt. */
export function countersignReceipt(chainId: string, signed: SignedReceipt, deviceSign: (bytes: Uint8Array) => Uint8Array): SignedReceipt {
  return { ...signed, deviceSignature: deviceSign(receiptCountersignBytes(chainId, signed.receipt, signed.customerSignature)) }
}

export type ReceiptRejectReason =
  | 'missing-customer-signature'
  | 'missing-device-signature'
  | 'customer-key-mismatch'
  | 'bad-customer-signature'
  | 'device-key-mismatch'
  | 'bad-device-signature'
  | 'bad-period'
  | 'replayed'
  | 'stale-seq'
  | 'overlapping-period'
  | 'paid-decreased'

export type ReceiptVerdict = { isValid: true } | { isValid: false; reason: ReceiptRejectReason }

/**
 * Both signatures, each by the right key: the customer's key hashes to `receipt.customer` and signed
 * the receipt; the device key is the one of `receipt.deviceId` and countersigned it. A receipt signed
 * by one side only is refused, so neither side alone can inflate delivered amounts. Never throws.
 */
export function verifyReceipt(chainId: string, signed: SignedReceipt, devicePublicKey: Uint8Array): ReceiptVerdict {
  const r = signed.receipt
  if (signed.customerSignature.length === 0) return { isValid: false, reason: 'missing-customer-signature' }
  if (signed.deviceSignature.length === 0) return { isValid: false, reason: 'missing-device-signature' }
  if (!(r.periodEndMs > r.periodStartMs)) return { isValid: false, reason: 'bad-period' }
  if (Buffer.compare(accountIdOfPublicKey(signed.customerKey), r.customer) !== 0) return { isValid: false, reason: 'customer-key-mismatch' }
  let deviceId: string
  try {
    deviceId = deviceIdFromPublicKey(devicePublicKey)
  } catch {
    return { isValid: false, reason: 'device-key-mismatch' }
  }
  if (deviceId !== r.deviceId) return { isValid: false, reason: 'device-key-mismatch' }
  let bytes: Uint8Array
  try {
    bytes = receiptBytes(r)
  } catch {
    return { isValid: false, reason: 'bad-customer-signature' }
  }
  if (!verifyInDomain(signed.customerKey, { chainId, kind: 'receipt' }, bytes, signed.customerSignature))
    return { isValid: false, reason: 'bad-customer-signature' }
  if (!verifyDeviceSignature(devicePublicKey, receiptCountersignBytes(chainId, r, signed.customerSignature), signed.deviceSignature))
    return { isValid: false, reason: 'bad-device-signature' }
  return { isValid: true }
}

/** Bound on receipts remembered for replay detection by one ledger. */
export const receiptLedgerEntriesMax = 1_000_000

/**
 * Accepts receipts at most once: by id, by strictly increasing seq per (channel, device), by
 * non-overlapping periods (a period cannot be billed twice under two seqs), and by a paid amount that
 * never decreases. Sums delivered units per device and unit.
 */
export class ReceiptLedger {
  private readonly seen = new Set<string>()
  private readonly lanes = new Map<string, { seq: number; periodEndMs: number; paidMicro: bigint }>()
  private readonly totals = new Map<string, bigint>()

  constructor(
    readonly chainId: string,
    private readonly keyOfDevice: (deviceId: string) => Uint8Array | undefined,
  ) {}

  accept(signed: SignedReceipt): ReceiptVerdict | { isValid: false; reason: 'unknown-device' } {
    const r = signed.receipt
    const key = this.keyOfDevice(r.deviceId)
    if (key === undefined) return { isValid: false, reason: 'unknown-device' }
    const verdict = verifyReceipt(this.chainId, signed, key)
    if (!verdict.isValid) return verdict
    const id = Buffer.from(receiptId(r)).toString('hex')
    if (this.seen.has(id)) return { isValid: false, reason: 'replayed' }
    const laneKey = `${Buffer.from(r.channelId).toString('hex')}/${r.deviceId}`
    const lane = this.lanes.get(laneKey)
    if (lane !== undefined) {
      if (r.seq <= lane.seq) return { isValid: false, reason: 'stale-seq' }
      if (r.periodStartMs < lane.periodEndMs) return { isValid: false, reason: 'overlapping-period' }
      if (r.paidMicro < lane.paidMicro) return { isValid: false, reason: 'paid-decreased' }
    }
    if (this.seen.size >= receiptLedgerEntriesMax) this.seen.clear()
    this.seen.add(id)
    this.lanes.set(laneKey, { seq: r.seq, periodEndMs: r.periodEndMs, paidMicro: r.paidMicro })
    const totalKey = `${r.deviceId}/${r.unit}`
    this.totals.set(totalKey, (this.totals.get(totalKey) ?? 0n) + r.quantity)
    return { isValid: true }
  }

  /** Units delivered by a device, over every accepted receipt. */
  delivered(deviceId: string, unit: ReceiptUnit): bigint {
    return this.totals.get(`${deviceId}/${unit}`) ?? 0n
  }
}
