import { createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { CryptoError } from './errors.ts'

// libsodium through sodium-native (prebuilt binaries ship inside the npm package).
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean
}

export const publicKeyBytes = 32
export const seedBytes = 32
export const signatureBytes = 64

const pkcs8Prefix = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

/**
 * Encodings of the small-order points (with the sign bit cleared), including the
 * non-canonical ones for 0 and 1: libsodium's list (crypto_sign/ed25519/ref10/open.c).
 * OpenSSL accepts a signature (R = identity, S = 0) under the identity key for
 * every message; libsodium does not. Terrane follows libsodium so that every node
 * decides every signature alike.
 */
const smallOrderEncodings = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')))

function isSmallOrder(point: Uint8Array, offset: number): boolean {
  outer: for (const candidate of smallOrderEncodings) {
    for (let i = 0; i < 31; i++) if (point[offset + i] !== candidate[i]) continue outer
    if (((point[offset + 31] as number) & 0x7f) === candidate[31]) return true
  }
  return false
}

/** y >= p = 2^255 - 19 is a non-canonical encoding (RFC 8032 section 5.1.3 decoding rule 1). */
function isNonCanonicalPoint(point: Uint8Array, offset: number): boolean {
  if (((point[offset + 31] as number) & 0x7f) !== 0x7f) return false
  for (let i = 30; i > 0; i--) if (point[offset + i] !== 0xff) return false
  return (point[offset] as number) >= 0xed
}

/** Whether a public key is one Terrane accepts at all (length, canonical, not small order). */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === publicKeyBytes && !isNonCanonicalPoint(publicKey, 0) && !isSmallOrder(publicKey, 0)
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * The one Ed25519 verifier of every consensus path: libsodium's
 * crypto_sign_verify_detached (strict RFC 8032: S < L, canonical A and R, no
 * small-order A or R). Measured 1.7x faster than node:crypto with cached
 * KeyObjects on this machine (see README), and OpenSSL alone accepts
 * small-order keys, so node:crypto is not used for verification anywhere.
 * The edge-case vectors in test/ed25519.test.ts pin these rules. Never throws.
 */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== signatureBytes || publicKey.length !== publicKeyBytes) return false
  try {
    return sodium.crypto_sign_verify_detached(view(signature), view(message), view(publicKey))
  } catch {
    return false
  }
}

/** An Ed25519 key pair derived from a 32-byte seed (RFC 8032 section 5.1.5). */
export interface KeyPair {
  seed: Uint8Array
  publicKey: Uint8Array
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== seedBytes) throw new CryptoError('CRYPTO_BAD_KEY', `seed must be ${seedBytes} bytes, got ${seed.length}`)
  const der = new Uint8Array(pkcs8Prefix.length + seedBytes)
  der.set(pkcs8Prefix)
  der.set(seed, pkcs8Prefix.length)
  return createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' })
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const privateKey = privateKeyObject(seed)
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { seed: Uint8Array.from(seed), publicKey: Uint8Array.from(spki.subarray(spki.length - publicKeyBytes)) }
}

/** Something that signs with one Ed25519 key (a key in memory, a keystore, an HSM). */
export interface Signer {
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

/** A signer holding its key in memory, with the parsed private key cached. */
export function seedSigner(seed: Uint8Array): Signer {
  const privateKey = privateKeyObject(seed)
  const { publicKey } = keyPairFromSeed(seed)
  return {
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, privateKey)),
  }
}
