import { verify } from 'node:crypto'
import { compressPublicKey, deviceIdFromPublicKey, deviceKeyObject } from '../identity.ts'
import { challengeAgeMsMaxDefault, decodeChallenge, type UsedNonces } from '../challenge.ts'
import type { ManufacturerRegistry } from '../registry.ts'
import { reject, type Rejected } from '../verdict.ts'
import { verifyCertificateChain } from './chain.ts'

export interface X509Attestation {
  /** Device certificate first, then intermediates; the root may be left out. */
  readonly certificateChainDer: readonly Uint8Array[]
  /** The key the device claims (SEC1, 33 or 65 bytes); must be the certificate's key. */
  readonly publicKey: Uint8Array
  /** The challenge bytes issued by the verifier (see `encodeChallenge`). */
  readonly challenge: Uint8Array
  /** ECDSA P-256 / SHA-256 over `challenge`, IEEE P1363 r || s. */
  readonly challengeSignature: Uint8Array
}

export interface X509AttestationContext {
  readonly manufacturers: readonly ManufacturerRegistry[]
  readonly nowMs: number
  /** Read, and added to on success: the caller owns and persists it. */
  readonly usedNonces: UsedNonces
  /** @default 300_000 (5 minutes) */
  readonly challengeAgeMsMax?: number
}

export type X509Verdict =
  { readonly ok: true; readonly deviceId: string; readonly publicKey: Uint8Array; readonly manufacturerId: string } | Rejected

/**
 * Verifies an X.509 device attestation: the chain to a registered root (see
 * `verifyCertificateChain`), that the certificate is for the claimed key, and a fresh,
 * single-use challenge signed by that key (so a copied certificate is useless without the key).
 * Never throws on bad input: every refusal is a verdict with a reason.
 */
export function verifyX509Attestation(attestation: X509Attestation, context: X509AttestationContext): X509Verdict {
  const ageMsMax = context.challengeAgeMsMax ?? challengeAgeMsMaxDefault
  const { publicKey, challengeSignature } = attestation
  if (!(publicKey instanceof Uint8Array) || !(challengeSignature instanceof Uint8Array))
    return reject('malformed', 'publicKey and challengeSignature must be bytes')
  const challenge = decodeChallenge(attestation.challenge)
  if (challenge === undefined) return reject('malformed', 'challenge has the wrong length or domain tag')
  if (challenge.issuedAtMs > context.nowMs || context.nowMs - challenge.issuedAtMs > ageMsMax)
    return reject('stale_challenge', `challenge issued at ${challenge.issuedAtMs}, now ${context.nowMs}`)
  const nonceHex = Buffer.from(challenge.nonce).toString('hex')
  if (context.usedNonces.has(nonceHex)) return reject('replayed_challenge', 'challenge already answered')

  const deviceKey = deviceKeyObject(publicKey)
  if (deviceKey === undefined) return reject('malformed', 'publicKey is not a valid SEC1 P-256 point')

  const chain = verifyCertificateChain({
    certificateChainDer: attestation.certificateChainDer,
    manufacturers: context.manufacturers,
    nowMs: context.nowMs,
    profile: 'device',
  })
  if (!chain.ok) return chain

  if (!chain.leaf.publicKey.equals(deviceKey)) return reject('key_mismatch', 'the device certificate is for a different key')

  let isValid = false
  if (challengeSignature.length === 64) {
    try {
      isValid = verify('sha256', attestation.challenge, { key: deviceKey, dsaEncoding: 'ieee-p1363' }, challengeSignature)
    } catch {
      isValid = false
    }
  }
  if (!isValid) return reject('bad_challenge_signature', 'challenge not signed by the device key')

  context.usedNonces.add(nonceHex)
  return {
    ok: true,
    deviceId: deviceIdFromPublicKey(publicKey),
    publicKey: compressPublicKey(publicKey),
    manufacturerId: chain.manufacturerId,
  }
}
