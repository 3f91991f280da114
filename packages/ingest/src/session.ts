import { createHmac, timingSafeEqual } from 'node:crypto'
import { t, decode, encode, encodeCanonical, CodecError } from '@terrane/codec'
import { verifyDeviceSignature } from '@terrane/attestation'
import { IngestError } from './errors.ts'
import { deviceIdPattern } from './topics.ts'
import type { Clock, DeviceDirectory } from './components.ts'

/**
 * Session tokens for plain-TCP MQTT (loopback, or behind a TLS-terminating proxy).
 *
 * 1. The device asks for a challenge (a server nonce) for its device id.
 * 2. It signs `sessionSigningBytes(chainId, deviceId, nonce)` with its device key.
 * 3. It connects with MQTT username = device id, password = encodeSessionToken({ nonce, signature }).
 *
 * The nonce is stateless: issued-at time (8 bytes, big-endian ms) || HMAC-SHA-256(server secret,
 * domain || device id || issued-at) truncated to 24 bytes. The server keeps no state per challenge,
 * only per token used (single use, until the challenge expires).
 */
export const sessionDomainTag = 'TERRANE-MQTT-SESSION-V1'
const challengeDomainTag = 'TERRANE-MQTT-CHALLENGE-V1'
export const sessionNonceBytes = 32
const nonceMacBytes = 24
/** A token is a 2-field struct: 32-byte nonce and 64-byte signature, plus CBOR framing. */
export const sessionTokenBytesMax = 128

export const sessionTokenSchema = t.struct({
  nonce: t.bytes({ length: sessionNonceBytes }),
  signature: t.bytes({ length: 64 }),
})
export interface SessionToken {
  nonce: Uint8Array
  signature: Uint8Array
}

/** The bytes a device signs to open a session (domain tag, chain id, device id, nonce). */
export function sessionSigningBytes(chainId: string, deviceId: string, nonce: Uint8Array): Uint8Array {
  return encodeCanonical([sessionDomainTag, chainId, deviceId, nonce])
}

export function encodeSessionToken(token: SessionToken): Uint8Array {
  return encode(sessionTokenSchema, token)
}

/** Strictly decodes a token (the MQTT password); throws IngestError INGEST_BAD_TOKEN. */
export function decodeSessionToken(bytes: Uint8Array): SessionToken {
  if (bytes.length > sessionTokenBytesMax) throw new IngestError('INGEST_BAD_TOKEN', `token exceeds ${sessionTokenBytesMax} bytes`)
  try {
    return decode(sessionTokenSchema, bytes)
  } catch (err) {
    if (err instanceof CodecError) throw new IngestError('INGEST_BAD_TOKEN', err.message, { cause: err })
    throw err
  }
}

/** Builds the MQTT password for a device: signs the session bytes with `sign`. */
export function createSessionToken(
  chainId: string,
  deviceId: string,
  nonce: Uint8Array,
  sign: (bytes: Uint8Array) => Uint8Array,
): Uint8Array {
  return encodeSessionToken({ nonce, signature: sign(sessionSigningBytes(chainId, deviceId, nonce)) })
}

export type AuthRejectReason =
  | 'token_malformed' // the password is not a session token
  | 'username_invalid' // the username is not a device id
  | 'challenge_forged' // the nonce was not issued by this server (or for another device)
  | 'challenge_expired' // issued more than challengeTtlMs ago (or in the future)
  | 'challenge_reused' // the token was already used to open a session
  | 'unknown_device' // not in the device directory
  | 'device_inactive' // suspended or revoked
  | 'bad_signature' // not signed by the registered key
  | 'busy' // too many live tokens to remember: refused rather than forget one
  | 'certificate_missing' // TLS mode: no client certificate
  | 'certificate_rejected' // TLS mode: the chain did not verify against a registered manufacturer
  | 'certificate_key_mismatch' // TLS mode: certificate key is not the registered device key
  | 'client_id_mismatch' // the MQTT client id is not the device id (or `<deviceId>-<suffix>`)

export type AuthVerdict = { ok: true; deviceId: string } | { ok: false; reason: AuthRejectReason; deviceId?: string }

export interface SessionAuthorityInit {
  chainId: string
  /** HMAC key for stateless challenges, at least 32 random bytes; keep it across restarts of one process only. */
  secret: Uint8Array
  /** How long a challenge stays usable. @default 60_000 */
  challengeTtlMs?: number
  /** Tokens remembered to refuse reuse; beyond it new sessions are refused ('busy'). @default 100_000 */
  usedTokensMax?: number
}

export interface SessionAuthorityComponents {
  clock: Clock
  directory: DeviceDirectory
}

export interface SessionAuthority {
  /** A fresh nonce for `deviceId`, valid for challengeTtlMs. */
  challenge(deviceId: string): Uint8Array
  /** Checks MQTT credentials (username = device id, password = session token). */
  authenticate(username: string | undefined, password: Uint8Array | undefined): AuthVerdict
}

export function sessionAuthority(init: SessionAuthorityInit) {
  return (components: SessionAuthorityComponents): SessionAuthority => new DefaultSessionAuthority(components, init)
}

class DefaultSessionAuthority implements SessionAuthority {
  readonly #components: SessionAuthorityComponents
  readonly #chainId: string
  readonly #secret: Uint8Array
  readonly #challengeTtlMs: number
  readonly #usedTokensMax: number
  /** nonce (latin1 string) -> expiry ms; insertion order is issue order within a TTL. */
  readonly #used = new Map<string, number>()

  constructor(components: SessionAuthorityComponents, init: SessionAuthorityInit) {
    if (init.secret.length < 32) throw new IngestError('INGEST_CONFIG', 'session secret must be at least 32 bytes')
    this.#components = components
    this.#chainId = init.chainId
    this.#secret = Uint8Array.from(init.secret)
    this.#challengeTtlMs = init.challengeTtlMs ?? 60_000
    this.#usedTokensMax = init.usedTokensMax ?? 100_000
    if (!(this.#challengeTtlMs > 0)) throw new IngestError('INGEST_CONFIG', 'challengeTtlMs must be positive')
  }

  #mac(deviceId: string, issuedAt: Uint8Array): Uint8Array {
    const mac = createHmac('sha256', this.#secret)
      .update(challengeDomainTag)
      .update('\0')
      .update(deviceId)
      .update('\0')
      .update(issuedAt)
      .digest()
    return new Uint8Array(mac.buffer, mac.byteOffset, nonceMacBytes)
  }

  challenge(deviceId: string): Uint8Array {
    const nonce = new Uint8Array(sessionNonceBytes)
    new DataView(nonce.buffer).setBigUint64(0, BigInt(this.#components.clock.nowMs()))
    nonce.set(this.#mac(deviceId, nonce.subarray(0, 8)), 8)
    return nonce
  }

  authenticate(username: string | undefined, password: Uint8Array | undefined): AuthVerdict {
    if (username === undefined || !deviceIdPattern.test(username)) return { ok: false, reason: 'username_invalid' }
    const deviceId = username
    let token: SessionToken
    try {
      token = decodeSessionToken(password ?? new Uint8Array(0))
    } catch {
      return { ok: false, reason: 'token_malformed', deviceId }
    }
    const expected = this.#mac(deviceId, token.nonce.subarray(0, 8))
    if (!timingSafeEqual(expected, token.nonce.subarray(8))) return { ok: false, reason: 'challenge_forged', deviceId }
    const issuedAtMs = Number(new DataView(token.nonce.buffer, token.nonce.byteOffset, 8).getBigUint64(0))
    const nowMs = this.#components.clock.nowMs()
    if (issuedAtMs > nowMs || nowMs - issuedAtMs > this.#challengeTtlMs) return { ok: false, reason: 'challenge_expired', deviceId }
    const record = this.#components.directory.get(deviceId)
    if (record === undefined) return { ok: false, reason: 'unknown_device', deviceId }
    if (record.status !== 'active') return { ok: false, reason: 'device_inactive', deviceId }
    if (!verifyDeviceSignature(record.publicKey, sessionSigningBytes(this.#chainId, deviceId, token.nonce), token.signature))
      return { ok: false, reason: 'bad_signature', deviceId }
    const key = Buffer.from(token.nonce).toString('latin1')
    this.#prune(nowMs)
    if (this.#used.has(key)) return { ok: false, reason: 'challenge_reused', deviceId }
    if (this.#used.size >= this.#usedTokensMax) return { ok: false, reason: 'busy', deviceId }
    this.#used.set(key, issuedAtMs + this.#challengeTtlMs)
    return { ok: true, deviceId }
  }

  #prune(nowMs: number): void {
    for (const [key, expiresAtMs] of this.#used) {
      if (expiresAtMs >= nowMs) break
      this.#used.delete(key)
    }
  }
}
