import { createCipheriv, createDecipheriv, scryptSync } from 'node:crypto'
import { CryptoError } from './errors.ts'
import { keyPairFromSeed, seedBytes } from './ed25519.ts'

/** A source of secret random bytes (node:crypto randomBytes in the node; seeded in tests). */
export type RandomBytes = (length: number) => Uint8Array

/** An encrypted key file (scrypt + AES-256-GCM), safe to store on disk. */
export interface Keystore {
  version: 1
  algorithm: 'ed25519'
  publicKey: string
  kdf: { name: 'scrypt'; n: number; r: number; p: number; salt: string }
  cipher: { name: 'aes-256-gcm'; iv: string; tag: string; ciphertext: string }
}

export interface KeystoreInit {
  /** scrypt cost; 2^17 as in Ethereum's default keystores. @default 131072 */
  n?: number
  /** @default 8 */
  r?: number
  /** @default 1 */
  p?: number
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function deriveKey(password: string, salt: Uint8Array, n: number, r: number, p: number): Buffer {
  return scryptSync(password.normalize('NFKC'), salt, 32, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 })
}

export function encryptKeystore(seed: Uint8Array, password: string, random: RandomBytes, init: KeystoreInit = {}): Keystore {
  const n = init.n ?? 131072
  const r = init.r ?? 8
  const p = init.p ?? 1
  const { publicKey } = keyPairFromSeed(seed)
  const salt = random(32)
  const iv = random(12)
  const cipher = createCipheriv('aes-256-gcm', deriveKey(password, salt, n, r, p), iv)
  // The public key is authenticated data: a file whose key was swapped fails to open.
  cipher.setAAD(publicKey)
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()])
  return {
    version: 1,
    algorithm: 'ed25519',
    publicKey: hex(publicKey),
    kdf: { name: 'scrypt', n, r, p, salt: hex(salt) },
    cipher: { name: 'aes-256-gcm', iv: hex(iv), tag: hex(cipher.getAuthTag()), ciphertext: hex(ciphertext) },
  }
}

function isHex(v: unknown, bytes?: number): v is string {
  return typeof v === 'string' && /^[0-9a-f]*$/.test(v) && v.length % 2 === 0 && (bytes === undefined || v.length === bytes * 2)
}

/** Checks the shape of an untrusted keystore object. */
export function parseKeystore(value: unknown): Keystore {
  const k = value as Partial<Keystore> | null
  const ok =
    typeof k === 'object' &&
    k !== null &&
    k.version === 1 &&
    k.algorithm === 'ed25519' &&
    isHex(k.publicKey, 32) &&
    k.kdf?.name === 'scrypt' &&
    [k.kdf.n, k.kdf.r, k.kdf.p].every((x) => Number.isSafeInteger(x) && (x as number) > 0) &&
    (k.kdf.n & (k.kdf.n - 1)) === 0 &&
    k.kdf.n <= 1 << 20 &&
    isHex(k.kdf.salt) &&
    k.cipher?.name === 'aes-256-gcm' &&
    isHex(k.cipher.iv, 12) &&
    isHex(k.cipher.tag, 16) &&
    isHex(k.cipher.ciphertext, seedBytes)
  if (!ok) throw new CryptoError('CRYPTO_BAD_KEYSTORE', 'not a Terrane version 1 keystore')
  return k as Keystore
}

/** Decrypts a keystore; a wrong password raises CRYPTO_WRONG_PASSWORD. */
export function decryptKeystore(value: unknown, password: string): Uint8Array {
  const k = parseKeystore(value)
  const key = deriveKey(password, Buffer.from(k.kdf.salt, 'hex'), k.kdf.n, k.kdf.r, k.kdf.p)
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(k.cipher.iv, 'hex'))
  decipher.setAAD(Buffer.from(k.publicKey, 'hex'))
  decipher.setAuthTag(Buffer.from(k.cipher.tag, 'hex'))
  let seed: Buffer
  try {
    seed = Buffer.concat([decipher.update(Buffer.from(k.cipher.ciphertext, 'hex')), decipher.final()])
  } catch {
    throw new CryptoError('CRYPTO_WRONG_PASSWORD', 'wrong password, or the keystore was tampered with')
  }
  return new Uint8Array(seed)
}
