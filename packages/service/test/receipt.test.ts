import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { seedSigner } from '@terrane/crypto'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { countersignReceipt, ReceiptLedger, signReceiptAsCustomer, verifyReceipt, type DeliveryReceipt } from '../src/index.ts'

const chainId = 'terrane-test-1'
const customer = seedSigner(new Uint8Array(32).fill(5))
const mallory = seedSigner(new Uint8Array(32).fill(6))
const device = deviceKeyFromSeed('receipt-device')
const otherDevice = deviceKeyFromSeed('receipt-other')
const channelId = new Uint8Array(32).fill(1)

function receipt(seq: number, fields: Partial<DeliveryReceipt> = {}): DeliveryReceipt {
  return {
    channelId,
    customer: accountIdOfPublicKey(customer.publicKey),
    deviceId: device.deviceId,
    unit: 'bytes',
    quantity: 1_000_000n,
    periodStartMs: seq * 60_000,
    periodEndMs: (seq + 1) * 60_000,
    seq,
    paidMicro: BigInt(seq) * 100n,
    ...fields,
  }
}

const both = (r: DeliveryReceipt, dev = device) =>
  countersignReceipt(chainId, signReceiptAsCustomer(chainId, customer, r), (b) => dev.sign(b))

describe('delivery receipts', () => {
  it('needs both signatures, each by the right key', () => {
    const r = receipt(1)
    assert.deepEqual(verifyReceipt(chainId, both(r), device.publicKey), { isValid: true })
    const customerOnly = signReceiptAsCustomer(chainId, customer, r)
    assert.deepEqual(verifyReceipt(chainId, customerOnly, device.publicKey), { isValid: false, reason: 'missing-device-signature' })
    // A device alone cannot make a receipt: it has no customer signature to countersign.
    const deviceOnly = { ...both(r), customerSignature: new Uint8Array(0) }
    assert.deepEqual(verifyReceipt(chainId, deviceOnly, device.publicKey), { isValid: false, reason: 'missing-customer-signature' })
    const signedByMallory = countersignReceipt(
      chainId,
      { ...signReceiptAsCustomer(chainId, mallory, r), customerKey: customer.publicKey },
      (b) => device.sign(b),
    )
    assert.deepEqual(verifyReceipt(chainId, signedByMallory, device.publicKey), { isValid: false, reason: 'bad-customer-signature' })
    assert.deepEqual(verifyReceipt(chainId, { ...both(r), customerKey: mallory.publicKey }, device.publicKey), {
      isValid: false,
      reason: 'customer-key-mismatch',
    })
    assert.deepEqual(verifyReceipt(chainId, both(r, otherDevice), device.publicKey), { isValid: false, reason: 'bad-device-signature' })
    assert.deepEqual(verifyReceipt(chainId, both(r), otherDevice.publicKey), { isValid: false, reason: 'device-key-mismatch' })
    assert.deepEqual(verifyReceipt('terrane-other-1', both(r), device.publicKey), { isValid: false, reason: 'bad-customer-signature' })
    assert.deepEqual(verifyReceipt(chainId, both(receipt(1, { periodEndMs: 60_000 })), device.publicKey), {
      isValid: false,
      reason: 'bad-period',
    })
  })

  it('refuses a forged (inflated) quantity from either side', () => {
    const honest = both(receipt(1))
    const inflated = { ...honest, receipt: { ...honest.receipt, quantity: 9_000_000n } }
    assert.deepEqual(verifyReceipt(chainId, inflated, device.publicKey), { isValid: false, reason: 'bad-customer-signature' })
    // The device re-countersigning an inflated receipt still lacks the customer's signature over it.
    const recountersigned = countersignReceipt(chainId, inflated, (b) => device.sign(b))
    assert.deepEqual(verifyReceipt(chainId, recountersigned, device.publicKey), { isValid: false, reason: 'bad-customer-signature' })
  })

  it('the ledger refuses replays, stale seqs, overlapping periods and decreasing payments; sums the rest', () => {
    const keys = new Map([[device.deviceId, device.publicKey]])
    const ledger = new ReceiptLedger(chainId, (id) => keys.get(id))
    const r1 = both(receipt(1))
    assert.deepEqual(ledger.accept(r1), { isValid: true })
    assert.deepEqual(ledger.accept(r1), { isValid: false, reason: 'replayed' })
    assert.deepEqual(ledger.accept(both(receipt(1, { quantity: 5n }))), { isValid: false, reason: 'stale-seq' })
    assert.deepEqual(ledger.accept(both(receipt(2, { periodStartMs: 90_000, periodEndMs: 100_000 }))), {
      isValid: false,
      reason: 'overlapping-period',
    })
    assert.deepEqual(ledger.accept(both(receipt(3, { paidMicro: 50n }))), { isValid: false, reason: 'paid-decreased' })
    assert.deepEqual(ledger.accept(both(receipt(4))), { isValid: true })
    assert.deepEqual(ledger.accept(both(receipt(5, { deviceId: otherDevice.deviceId }), otherDevice)), {
      isValid: false,
      reason: 'unknown-device',
    })
    assert.equal(ledger.delivered(device.deviceId, 'bytes'), 2_000_000n)
    assert.equal(ledger.delivered(device.deviceId, 'compute-units'), 0n)
  })
})
