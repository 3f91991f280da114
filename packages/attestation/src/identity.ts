import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { sha256 } from '@terrane/codec'
import { bech32m } from '@scure/base'
import { AttestationError } from './errors.ts'

/** Device ids are bech32m (BIP-350) with this human-readable prefix, e.g. `tdev1...`. */
export const deviceIdPrefix = 'tdev'
/** Bytes of SHA-256(compressed point) kept in a device id (as account addresses: 160 bits). */
export const deviceIdBytes = 20
/** Longest accepted device id string (BIP-350 allows 90; ours are 43). */
export const deviceIdCharsMax = 90
/** SEC1 sizes for P-256: 0x02/0x03 || x, and 0x04 || x || y (SEC 1 v2, section 2.3.3). */
export const p256CompressedBytes = 33
export const p256UncompressedBytes = 65
/** IEEE P1363 signature: r || s, 32 bytes each. */
export const p256SignatureBytes = 64
/** Parsed device keys kept (least recently used evicted). 4096 KeyObjects is about 2 MiB. */
export const deviceKeyCacheEntriesMax = 4096

// DER prefixes of a SubjectPublicKeyInfo for id-ecPublicKey + prime256v1 (RFC 5480), followed by
// the BIT STRING content: lets OpenSSL parse (and check on-curve) a raw SEC1 point without JWK.
const spkiPrefixUncompressed = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00,
])
const spkiPrefixCompressed = Uint8Array.from([
  0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x22, 0x00,
])

interface CachedKey {
  keyObject: KeyObject
  compressed: Uint8Array
}
const keyCache = new Map<string, CachedKey>()

function cacheKeyOf(publicKey: Uint8Array): string {
  return Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')
}

/** Parses a SEC1 P-256 point (checked on the curve by OpenSSL), or returns undefined. */
function lookupKey(publicKey: Uint8Array): CachedKey | undefined {
  const id = cacheKeyOf(publicKey)
  const hit = keyCache.get(id)
  if (hit !== undefined) {
    keyCache.delete(id) // LRU: re-insert as newest
    keyCache.set(id, hit)
    return hit
  }
  let prefix: Uint8Array
  if (publicKey.length === p256UncompressedBytes && publicKey[0] === 0x04) prefix = spkiPrefixUncompressed
  else if (publicKey.length === p256CompressedBytes && (publicKey[0] === 0x02 || publicKey[0] === 0x03)) prefix = spkiPrefixCompressed
  else return undefined
  let keyObject: KeyObject
  try {
    keyObject = createPublicKey({ key: Buffer.concat([prefix, publicKey]), format: 'der', type: 'spki' })
  } catch {
    return undefined // not on the curve, or the point at infinity
  }
  const compressed =
    publicKey.length === p256CompressedBytes
      ? Uint8Array.from(publicKey)
      : Uint8Array.from([0x02 | ((publicKey[64] ?? 0) & 1), ...publicKey.subarray(1, 33)])
  const entry = { keyObject, compressed }
  if (keyCache.size >= deviceKeyCacheEntriesMax) {
    const oldest = keyCache.keys().next().value
    if (oldest !== undefined) keyCache.delete(oldest)
  }
  keyCache.set(id, entry)
  return entry
}

/** The 33-byte compressed SEC1 form of a P-256 public key; throws ATTESTATION_BAD_KEY if invalid. */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  const entry = lookupKey(publicKey)
  if (entry === undefined) throw new AttestationError('ATTESTATION_BAD_KEY', 'not a valid SEC1 P-256 public key')
  return Uint8Array.from(entry.compressed)
}

/** True if the bytes are a 33- or 65-byte SEC1 P-256 point on the curve. */
export function isValidDevicePublicKey(publicKey: Uint8Array): boolean {
  return lookupKey(publicKey) !== undefined
}

/**
 * The device id of a P-256 public key: bech32m with prefix `tdev` over the first 20 bytes of
 * SHA-256 of the compressed point. The compressed and uncompressed forms give the same id.
 * Throws ATTESTATION_BAD_KEY for anything that is not a valid point.
 *
 * @example
 * deviceIdFromPublicKey(publicKey) // 'tdev1...'
 */
export function deviceIdFromPublicKey(publicKey: Uint8Array): string {
  const entry = lookupKey(publicKey)
  if (entry === undefined) throw new AttestationError('ATTESTATION_BAD_KEY', 'not a valid SEC1 P-256 public key')
  return bech32m.encode(deviceIdPrefix, bech32m.toWords(sha256(entry.compressed).subarray(0, deviceIdBytes)))
}

/** The 20 bytes inside a device id; throws ATTESTATION_BAD_DEVICE_ID on a bad prefix, checksum or length. */
export function decodeDeviceId(deviceId: string): Uint8Array {
  let bytes: Uint8Array
  try {
    const decoded = bech32m.decode(deviceId as `${string}1${string}`, deviceIdCharsMax)
    if (decoded.prefix !== deviceIdPrefix) throw new Error(`expected prefix ${deviceIdPrefix}, got ${decoded.prefix}`)
    bytes = bech32m.fromWords(decoded.words)
  } catch (err) {
    throw new AttestationError('ATTESTATION_BAD_DEVICE_ID', `invalid device id: ${(err as Error).message}`, { cause: err })
  }
  if (bytes.length !== deviceIdBytes)
    throw new AttestationError('ATTESTATION_BAD_DEVICE_ID', `device id must hold ${deviceIdBytes} bytes, got ${bytes.length}`)
  return bytes
}

/**
 * Verifies an ECDSA P-256 / SHA-256 signature (IEEE P1363 r || s, 64 bytes) by a device key.
 * Never throws: a malformed key or signature is simply not valid.
 *
 * High-S signatures are ACCEPTED: secure elements (ATECC608, TPM 2.0) do not normalise s, so
 * rejecting high-S would refuse about half of honest signatures. ECDSA malleability (r, n - s)
 * is harmless here because replay protection keys on the signed message (its nonce or hash),
 * never on the signature bytes. r and s must each lie in [1, n - 1] (OpenSSL checks it).
 */
export function verifyDeviceSignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== p256SignatureBytes) return false
  return verifyWithDeviceKeyObject(lookupKey(publicKey)?.keyObject, message, signature)
}

/**
 * `verifyDeviceSignature` with the device's KeyObject already in hand (from `deviceKeyObject`), for
 * callers that verify many reports of one device: the same rules, without the per-call key lookup.
 */
export function verifyWithDeviceKeyObject(key: KeyObject | undefined, message: Uint8Array, signature: Uint8Array): boolean {
  if (key === undefined || signature.length !== p256SignatureBytes) return false
  try {
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    return false
  }
}

/** The cached KeyObject of a device key (for callers that feed node:crypto directly), or undefined. */
export function deviceKeyObject(publicKey: Uint8Array): KeyObject | undefined {
  return lookupKey(publicKey)?.keyObject
}
