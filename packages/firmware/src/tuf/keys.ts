import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import { canonicalize } from '@tufjs/canonical-json'
import { FirmwareError } from '../errors.ts'

/** A TUF public key as it appears in root metadata (TUF spec section 4.2, ed25519). */
export interface TufPublicKey {
  readonly keytype: 'ed25519'
  readonly scheme: 'ed25519'
  readonly keyval: { readonly public: string }
}

export interface TufSigner {
  readonly keyid: string
  readonly publicKey: TufPublicKey
  /** Ed25519 signature over the canonical JSON bytes, hex. */
  sign(bytes: Uint8Array): string
}

// RFC 8410 PKCS#8 prefix for a raw 32-byte Ed25519 seed.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')

/** The key id: SHA-256 of the canonical JSON of the public key (TUF spec section 4.2). */
export function tufKeyId(publicKey: TufPublicKey): string {
  return createHash('sha256').update(canonicalize(publicKey)).digest('hex')
}

/** An Ed25519 TUF signer from a 32-byte seed (keep seeds offline for root and targets). */
export function ed25519Signer(seed: Uint8Array): TufSigner {
  if (seed.length !== 32) throw new FirmwareError('FIRMWARE_BAD_INPUT', 'Ed25519 seed must be 32 bytes')
  const privateKey: KeyObject = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey: TufPublicKey = {
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: spki.subarray(spki.length - 32).toString('hex') },
  }
  return { keyid: tufKeyId(publicKey), publicKey, sign: (bytes) => sign(null, bytes, privateKey).toString('hex') }
}
