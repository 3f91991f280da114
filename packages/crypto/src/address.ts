import { bech32m } from '@scure/base'
import { sha256 } from '@terrane/codec'
import { CryptoError } from './errors.ts'

/** Account addresses: bech32m (BIP-350) over 20 bytes, e.g. `trn1...`. */
export const addressPrefix = 'trn'
export const addressBytes = 20

/** The 20-byte account id of an Ed25519 public key: the first 20 bytes of its SHA-256. */
export function accountIdOfPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, addressBytes)
}

export function encodeAddress(accountId: Uint8Array, prefix = addressPrefix): string {
  if (accountId.length !== addressBytes) throw new CryptoError('CRYPTO_BAD_ADDRESS', `account id must be ${addressBytes} bytes`)
  return bech32m.encode(prefix, bech32m.toWords(accountId))
}

export function addressOfPublicKey(publicKey: Uint8Array, prefix = addressPrefix): string {
  return encodeAddress(accountIdOfPublicKey(publicKey), prefix)
}

/** Parses an address, checking prefix, checksum and length. */
export function decodeAddress(address: string, prefix = addressPrefix): Uint8Array {
  let decoded: { prefix: string; words: number[] }
  try {
    decoded = bech32m.decode(address as `${string}1${string}`, 90)
  } catch (err) {
    throw new CryptoError('CRYPTO_BAD_ADDRESS', `invalid address: ${(err as Error).message}`)
  }
  if (decoded.prefix !== prefix) throw new CryptoError('CRYPTO_BAD_ADDRESS', `expected prefix ${prefix}, got ${decoded.prefix}`)
  let bytes: Uint8Array
  try {
    bytes = bech32m.fromWords(decoded.words)
  } catch (err) {
    throw new CryptoError('CRYPTO_BAD_ADDRESS', `invalid address: ${(err as Error).message}`)
  }
  if (bytes.length !== addressBytes)
    throw new CryptoError('CRYPTO_BAD_ADDRESS', `address must hold ${addressBytes} bytes, got ${bytes.length}`)
  return bytes
}
