import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { verifyDeviceSignature } from '@terrane/attestation'
import { createSignaturePool, packBatch, unpackBatch, type SignatureItem } from '../src/index.ts'
import { testDevice } from './fixtures.ts'

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = publicKey.export({ format: 'der', type: 'spki' })
  const raw = Uint8Array.from(spki.subarray(spki.length - 65))
  const signWith = (m: Uint8Array) => new Uint8Array(sign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }))
  return { raw, compressed: Uint8Array.from([0x02 | ((raw[64] ?? 0) & 1), ...raw.subarray(1, 33)]), sign: signWith }
}

/** Items of every kind, with the verdict each must get. */
function mixedItems(count: number): { item: SignatureItem; isValid: boolean }[] {
  const keys = [keyPair(), keyPair(), keyPair()]
  const out: { item: SignatureItem; isValid: boolean }[] = []
  for (let i = 0; i < count; i++) {
    const k = keys[i % keys.length]!
    const message = new TextEncoder().encode(`report ${i}`)
    const signature = k.sign(message)
    switch (i % 7) {
      case 0:
        out.push({ item: { publicKey: k.raw, message, signature }, isValid: true })
        break
      case 1:
        out.push({ item: { publicKey: k.compressed, message, signature }, isValid: true })
        break
      case 2: // another key
        out.push({ item: { publicKey: keys[(i + 1) % keys.length]!.raw, message, signature }, isValid: false })
        break
      case 3: // tampered message
        out.push({ item: { publicKey: k.raw, message: Uint8Array.from([...message, 0]), signature }, isValid: false })
        break
      case 4: // truncated signature
        out.push({ item: { publicKey: k.raw, message, signature: signature.subarray(0, 63) }, isValid: false })
        break
      case 5: // not a point
        out.push({ item: { publicKey: Uint8Array.of(0x04, ...new Uint8Array(64).fill(7)), message, signature }, isValid: false })
        break
      default: // empty message signed properly
        out.push({ item: { publicKey: k.raw, message: new Uint8Array(0), signature: k.sign(new Uint8Array(0)) }, isValid: true })
    }
  }
  return out
}

describe('signature pool', () => {
  const pool = createSignaturePool({ workers: 2, batchSize: 16 })
  after(() => pool.close())

  it('packs and unpacks items losslessly (what the workers read)', () => {
    const items = mixedItems(14).map((m) => m.item)
    const seen: SignatureItem[] = []
    unpackBatch(packBatch(items), (item) =>
      seen.push({
        publicKey: Uint8Array.from(item.publicKey),
        message: Uint8Array.from(item.message),
        signature: Uint8Array.from(item.signature),
      }),
    )
    assert.equal(seen.length, items.length)
    for (const [i, item] of items.entries()) {
      assert.deepEqual(seen[i]?.publicKey, item.publicKey)
      assert.deepEqual(seen[i]?.message, item.message)
      // A signature of the wrong length travels as zeros: never valid.
      assert.deepEqual(seen[i]?.signature, item.signature.length === 64 ? item.signature : new Uint8Array(64))
    }
  })

  it('verifies a batch split across workers exactly as the inline verifier does', async () => {
    const mixed = mixedItems(100)
    const results = await pool.verifyBatch(mixed.map((m) => m.item))
    assert.deepEqual(
      results,
      mixed.map((m) => m.isValid),
    )
    assert.deepEqual(
      results,
      mixed.map((m) => verifyDeviceSignature(m.item.publicKey, m.item.message, m.item.signature)),
    )
    assert.equal(pool.pending, 0)
  })

  it('answers single items queued one by one, in any batch they land in', async () => {
    const mixed = mixedItems(40)
    const answers = await Promise.all(mixed.map((m) => pool.tryVerify(m.item)))
    assert.deepEqual(
      answers,
      mixed.map((m) => m.isValid),
    )
  })

  it('refuses items beyond queueMax (returns undefined) and still answers the queued ones', async () => {
    const small = createSignaturePool({ workers: 1, batchSize: 1000, queueMax: 2 })
    try {
      const device = testDevice('queue')
      const message = Uint8Array.of(1, 2, 3)
      const item = { publicKey: device.publicKey, message, signature: device.sign(message) }
      const a = small.tryVerify(item)
      const b = small.tryVerify(item)
      assert.equal(small.tryVerify(item), undefined)
      assert.equal(small.pending, 2)
      assert.deepEqual(await Promise.all([a, b]), [true, true])
    } finally {
      await small.close()
    }
  })

  it('refuses a bad configuration with INGEST_CONFIG', () => {
    assert.throws(() => createSignaturePool({ workers: 0 }), { code: 'INGEST_CONFIG' })
    assert.throws(() => createSignaturePool({ batchSize: 0 }), { code: 'INGEST_CONFIG' })
  })
})
