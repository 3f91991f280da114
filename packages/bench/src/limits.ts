import { generateKeyPairSync, sign, verify, randomBytes } from 'node:crypto'
import { measure, type MeasureInit } from './measure.ts'

/**
 * The machine's physical limits that other benchmarks report their ratio to.
 * Measured with node:crypto directly (KeyObject cached), the same primitive the
 * consensus path uses, so a ratio of 1.0 means "as fast as raw verification".
 */
export function ed25519VerifyLimitPerSecond(init: MeasureInit = {}): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const message = randomBytes(128)
  const signature = sign(null, message, privateKey)
  return measure(() => {
    for (let i = 0; i < 64; i++) if (!verify(null, message, publicKey, signature)) throw new Error('verify failed')
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
