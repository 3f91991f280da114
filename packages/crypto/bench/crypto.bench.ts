// Ed25519 on this machine: the physical limit every other benchmark is compared with.
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { measure, measureAsync, report, type BenchRow } from '@terrane/bench'
import { createVerifierPool, seedSigner, verifySignature, type SignedItem } from '../src/index.ts'

const require = createRequire(import.meta.url)
const sodium = require('sodium-native') as { crypto_sign_verify_detached(sig: Buffer, msg: Buffer, pk: Buffer): boolean }

const keys = Array.from({ length: 64 }, (_, i) => seedSigner(new Uint8Array(32).fill(i + 1)))
const items: SignedItem[] = keys.map((k, i) => {
  const message = new Uint8Array(150).fill(i) // about one transfer transaction
  return { publicKey: k.publicKey, message, signature: k.sign(message) }
})
const spki = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function loop(verify: (item: SignedItem) => boolean): () => number {
  return () => {
    for (const item of items) if (!verify(item)) throw new Error('verification failed')
    return items.length
  }
}

const rows: BenchRow[] = []
const chosen = measure(loop((i) => verifySignature(i.publicKey, i.message, i.signature))).opsPerSecond
rows.push({
  name: 'ed25519 verifySignature: libsodium via sodium-native (CHOSEN), 1 core',
  value: chosen,
  unit: 'ops/s',
  note: 'consensus verifier',
})
const cached = new Map<Uint8Array, ReturnType<typeof createPublicKey>>()
const withCache = measure(
  loop((i) => {
    let key = cached.get(i.publicKey)
    if (key === undefined)
      cached.set(i.publicKey, (key = createPublicKey({ key: Buffer.concat([spki, i.publicKey]), format: 'der', type: 'spki' })))
    return nodeVerify(null, i.message, key, i.signature)
  }),
).opsPerSecond
rows.push({
  name: 'ed25519 verify, node:crypto + cached KeyObject, 1 core',
  value: withCache,
  unit: 'ops/s',
  ratio: withCache / chosen,
  ratioTo: 'chosen',
})
const raw = measure(
  loop((i) =>
    nodeVerify(null, i.message, createPublicKey({ key: Buffer.concat([spki, i.publicKey]), format: 'der', type: 'spki' }), i.signature),
  ),
).opsPerSecond
rows.push({
  name: 'ed25519 verify, node:crypto importing the key each call, 1 core',
  value: raw,
  unit: 'ops/s',
  ratio: raw / chosen,
  ratioTo: 'chosen',
})
const sod = measure(
  loop((i) => sodium.crypto_sign_verify_detached(Buffer.from(i.signature), Buffer.from(i.message), Buffer.from(i.publicKey))),
).opsPerSecond
rows.push({
  name: 'ed25519 verify, raw sodium-native call (no pre-checks), 1 core',
  value: sod,
  unit: 'ops/s',
  ratio: sod / chosen,
  ratioTo: 'chosen',
})
const noble = measure(
  loop((i) => ed25519.verify(i.signature, i.message, i.publicKey, { zip215: false })),
  { durationMsMin: 500 },
).opsPerSecond
rows.push({
  name: 'ed25519 verify, @noble/curves (pure JS), 1 core',
  value: noble,
  unit: 'ops/s',
  ratio: noble / chosen,
  ratioTo: 'chosen',
})

const workers = availableParallelism()
const pool = createVerifierPool({ workers })
const big = Array.from({ length: 32 }, () => items).flat()
const pooled = (
  await measureAsync(async () => {
    const r = await pool.verifyBatch(big)
    if (r.includes(false)) throw new Error('verification failed')
    return big.length
  })
).opsPerSecond
await pool.close()
rows.push({
  name: `ed25519 verify, verifier pool, ${workers} workers, batches of 64`,
  value: pooled,
  unit: 'ops/s',
  ratio: pooled / chosen,
  ratioTo: 'chosen 1 core',
})

const signer = keys[0]!
const message = items[0]!.message
const signs = measure(() => {
  for (let i = 0; i < 64; i++) signer.sign(message)
  return 64
}).opsPerSecond
rows.push({ name: 'ed25519 sign, node:crypto, 1 core', value: signs, unit: 'ops/s' })
report('crypto', rows)
