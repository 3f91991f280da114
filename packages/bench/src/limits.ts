import { generateKeyPairSync, sign, verify, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { measure, type MeasureInit } from './measure.ts'

// libsodium through sodium-native: the fastest Ed25519 verifier on this machine and
// the one every Terrane consensus path uses (@terrane/crypto), so a ratio of 1.0 means
// "as fast as raw verification".
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void
  crypto_sign_detached(sig: Buffer, message: Buffer, sk: Buffer): void
  crypto_sign_verify_detached(sig: Buffer, message: Buffer, pk: Buffer): boolean
}

/** The machine's physical limit for Ed25519: verifications per second on one core. */
export function ed25519VerifyLimitPerSecond(init: MeasureInit = {}): number {
  const publicKey = Buffer.alloc(32)
  const secretKey = Buffer.alloc(64)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, randomBytes(32))
  const message = randomBytes(128)
  const signature = Buffer.alloc(64)
  sodium.crypto_sign_detached(signature, message, secretKey)
  return measure(() => {
    for (let i = 0; i < 64; i++) if (!sodium.crypto_sign_verify_detached(signature, message, publicKey)) throw new Error('verify failed')
    return 64
  }, init).opsPerSecond
}

/** P-256 ECDSA verifications per second on one core (device secure-element signatures). */
export function p256VerifyLimitPerSecond(init: MeasureInit = {}): number {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const message = randomBytes(128)
  const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return measure(() => {
    for (let i = 0; i < 64; i++) {
      if (!verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('verify failed')
    }
    return 64
  }, init).opsPerSecond
}
