import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createVerifierPool, seedSigner, verifySignature, type SignedItem } from '../src/index.ts'

test('the pool gives the same verdicts as the inline verifier, in order', async () => {
  const pool = createVerifierPool({ workers: 2, batchSize: 16, inlineBelow: 4 })
  try {
    const items: SignedItem[] = []
    for (let i = 0; i < 200; i++) {
      const signer = seedSigner(new Uint8Array(32).fill(i % 7))
      const message = Uint8Array.of(i, i >> 8)
      const signature = signer.sign(message).slice()
      if (i % 3 === 0) signature[5] = (signature[5] as number) ^ 1
      items.push({ publicKey: signer.publicKey, message, signature: i % 50 === 1 ? signature.subarray(0, 10) : signature })
    }
    const results = await pool.verifyBatch(items)
    assert.deepEqual(
      results,
      items.map((x) => verifySignature(x.publicKey, x.message, x.signature)),
    )
    assert.ok(results.includes(true) && results.includes(false))
  } finally {
    await pool.close()
  }
})
