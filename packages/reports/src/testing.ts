// Test and simulation fixtures: deterministic P-256 device keys from a seed.
// Never use these for real devices: real keys live in secure elements.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import { sha256 } from '@terrane/codec'
import { deviceIdFromPublicKey } from '@terrane/attestation'

/** P-256 group order n (SEC 2, section 2.4.2). */
const p256Order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

export interface TestDeviceKey {
  deviceId: string
  /** 65-byte uncompressed SEC1 point. */
  publicKey: Uint8Array
  privateKey: KeyObject
  /** ECDSA P-256 / SHA-256, IEEE P1363 r || s. */
  sign(message: Uint8Array): Uint8Array
}

const utf8 = new TextEncoder()
// PKCS#8 for id-ecPublicKey / prime256v1 around an ECPrivateKey (RFC 5915) with only the scalar:
// OpenSSL derives the public point.
const pkcs8Head = Uint8Array.from([
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
  0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
])

/** A deterministic P-256 device key derived from `seed` (SHA-256 of it, reduced into [1, n - 1]). */
export function deviceKeyFromSeed(seed: string | Uint8Array): TestDeviceKey {
  const seedBytes = typeof seed === 'string' ? utf8.encode(seed) : seed
  let scalar = 0n
  for (const b of sha256(utf8.encode('TERRANE-TEST-DEVICE-KEY'), seedBytes)) scalar = (scalar << 8n) | BigInt(b)
  scalar = (scalar % (p256Order - 1n)) + 1n
  const d = new Uint8Array(32)
  for (let i = 31, s = scalar; i >= 0; i--, s >>= 8n) d[i] = Number(s & 0xffn)
  const der = new Uint8Array(pkcs8Head.length + 32)
  der.set(pkcs8Head)
  der.set(d, pkcs8Head.length)
  const privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey = Uint8Array.from(spki.subarray(spki.length - 65))
  return {
    deviceId: deviceIdFromPublicKey(publicKey),
    publicKey,
    privateKey,
    sign: (message) => {
      const sig = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength)
    },
  }
}
