import { AttestationError } from './errors.ts'

/**
 * Domain tag at the start of every attestation challenge, so that a device signature over a
 * challenge can never be mistaken for (or replayed as) a signature over a report or transaction.
 */
export const challengeDomainTag = 'terrane/attestation/challenge/v1'
export const challengeNonceBytes = 32
/** Default: a challenge must be answered within 5 minutes of issue. */
export const challengeAgeMsMaxDefault = 5 * 60_000

const tagBytes = new TextEncoder().encode(challengeDomainTag)
/** tag || 0x00 || issuedAtMs (u64 big-endian) || nonce (32 bytes) */
export const challengeBytes = tagBytes.length + 1 + 8 + challengeNonceBytes

export interface Challenge {
  readonly nonce: Uint8Array
  readonly issuedAtMs: number
}

/**
 * The bytes a device signs to prove it holds its key. The verifier draws `nonce` from its own
 * randomness (32 bytes) and keeps `issuedAtMs` from its clock: both are inputs here.
 */
export function encodeChallenge(challenge: Challenge): Uint8Array {
  if (challenge.nonce.length !== challengeNonceBytes)
    throw new AttestationError('ATTESTATION_BAD_INPUT', `nonce must be ${challengeNonceBytes} bytes`)
  if (!Number.isSafeInteger(challenge.issuedAtMs) || challenge.issuedAtMs < 0)
    throw new AttestationError('ATTESTATION_BAD_INPUT', 'issuedAtMs must be a non-negative safe integer')
  const out = new Uint8Array(challengeBytes)
  out.set(tagBytes, 0)
  new DataView(out.buffer).setBigUint64(tagBytes.length + 1, BigInt(challenge.issuedAtMs))
  out.set(challenge.nonce, tagBytes.length + 9)
  return out
}

/** Parses challenge bytes; undefined if the length, domain tag or separator is wrong. */
export function decodeChallenge(bytes: Uint8Array): Challenge | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== challengeBytes) return undefined
  for (let i = 0; i < tagBytes.length; i++) if (bytes[i] !== tagBytes[i]) return undefined
  if (bytes[tagBytes.length] !== 0) return undefined
  const issuedAt = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(tagBytes.length + 1)
  if (issuedAt > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return { issuedAtMs: Number(issuedAt), nonce: bytes.slice(tagBytes.length + 9) }
}

/**
 * The caller-owned record of challenges (and TPM nonces) already answered, keyed by the nonce
 * in hex. A `Set<string>` satisfies it; a node prunes entries older than the age limit, since
 * stale challenges are refused anyway. Verifiers read it and add to it only on success.
 */
export interface UsedNonces {
  has(nonceHex: string): boolean
  add(nonceHex: string): unknown
}
