import { timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import type { UsedNonces } from '../challenge.ts'
import type { ManufacturerRegistry } from '../registry.ts'
import { reject, type Rejected } from '../verdict.ts'
import { verifyCertificateChain } from '../x509/chain.ts'
import { makeCredential, credentialSeedBytes } from './credential.ts'
import {
  eccKeyObject,
  parseEccPublic,
  parseEcdsaSignature,
  parseQuote,
  pcrCompositeDigest,
  pcrIndexMax,
  tpmAlgEcdsa,
  tpmAlgSha256,
  tpmEccNistP256,
  tpmGeneratedValue,
  tpmObjectName,
  objectDecrypt,
  objectFixedParent,
  objectFixedTpm,
  objectRestricted,
  objectSensitiveDataOrigin,
  objectSign,
  type TpmEccPublic,
} from './structures.ts'

/** Quote nonces are 32 bytes (the TPM accepts up to a digest size in extraData). */
export const tpmNonceBytes = 32

// A quote is worth something only if the AK can sign nothing but TPM-made structures
// (restricted + sign) and cannot leave this TPM (fixedTPM, fixedParent, sensitiveDataOrigin).
const requiredAkAttributes = objectFixedTpm | objectFixedParent | objectSensitiveDataOrigin | objectRestricted | objectSign

export function checkAttestationKey(akPublic: Uint8Array): { ak: TpmEccPublic; akName: Uint8Array; akKey: KeyObject } | Rejected {
  let ak: TpmEccPublic
  let akName: Uint8Array
  try {
    ak = parseEccPublic(akPublic)
    akName = tpmObjectName(ak)
  } catch (err) {
    return reject('malformed', `AK public: ${(err as Error).message}`)
  }
  if ((ak.objectAttributes & requiredAkAttributes) !== requiredAkAttributes || (ak.objectAttributes & objectDecrypt) !== 0)
    return reject(
      'bad_attestation_key',
      `AK attributes 0x${ak.objectAttributes.toString(16)} are not restricted/sign/fixedTPM/fixedParent/sensitiveDataOrigin`,
    )
  if (ak.scheme !== tpmAlgEcdsa || ak.schemeHash !== tpmAlgSha256 || ak.curve !== tpmEccNistP256)
    return reject('bad_attestation_key', 'AK must be ECDSA P-256 with SHA-256')
  let akKey: KeyObject
  try {
    akKey = eccKeyObject(ak)
  } catch (err) {
    return reject('malformed', `AK public: ${(err as Error).message}`)
  }
  return { ak, akName, akKey }
}

export interface TpmCredentialRequest {
  /** EK certificate first, then the TPM vendor's intermediates. */
  readonly ekCertificateChainDer: readonly Uint8Array[]
  /** TPM2B_PUBLIC of the attestation key (`tpm2_createak -u`). */
  readonly akPublic: Uint8Array
}

export interface TpmCredentialContext {
  /** TPM vendors, registered like device manufacturers. */
  readonly manufacturers: readonly ManufacturerRegistry[]
  readonly nowMs: number
  /** Fresh random secret (1..32 bytes) the TPM must give back; keep it to verify the answer. */
  readonly secret: Uint8Array
  /** Fresh random 32 bytes for MakeCredential. */
  readonly seed: Uint8Array
}

export type TpmCredentialVerdict =
  | {
      readonly ok: true
      readonly akName: Uint8Array
      readonly manufacturerId: string
      readonly credentialBlob: Uint8Array
      readonly encryptedSecret: Uint8Array
    }
  | Rejected

/**
 * Step 1 of TPM attestation (verifier side): checks the EK chain and the AK's attributes, then
 * encrypts `secret` to the EK, bound to the AK's Name (TPM2_MakeCredential). Only the TPM that
 * holds the EK, with that very AK loaded, can recover it: this binds the AK to the EK.
 */
export function issueTpmCredential(request: TpmCredentialRequest, context: TpmCredentialContext): TpmCredentialVerdict {
  const key = checkAttestationKey(request.akPublic)
  if ('ok' in key) return key
  const chain = verifyCertificateChain({
    certificateChainDer: request.ekCertificateChainDer,
    manufacturers: context.manufacturers,
    nowMs: context.nowMs,
    profile: 'tpm_ek',
  })
  if (!chain.ok) return chain
  if (context.seed.length !== credentialSeedBytes) return reject('malformed', 'seed must be 32 bytes')
  let made
  try {
    made = makeCredential(chain.leaf.publicKey, key.akName, context.secret, context.seed)
  } catch (err) {
    return reject('malformed', `MakeCredential: ${(err as Error).message}`)
  }
  return { ok: true, akName: key.akName, manufacturerId: chain.manufacturerId, ...made }
}

export interface TpmAttestation {
  readonly ekCertificateChainDer: readonly Uint8Array[]
  readonly akPublic: Uint8Array
  /** The secret TPM2_ActivateCredential returned. */
  readonly activatedSecret: Uint8Array
  /** TPMS_ATTEST (`tpm2_quote -m`). */
  readonly quote: Uint8Array
  /** TPMT_SIGNATURE (`tpm2_quote -s`). */
  readonly quoteSignature: Uint8Array
}

export interface TpmAttestationContext {
  readonly manufacturers: readonly ManufacturerRegistry[]
  readonly nowMs: number
  /** The secret given to `issueTpmCredential`. */
  readonly expectedSecret: Uint8Array
  /** The fresh 32-byte nonce the device was asked to quote over. */
  readonly nonce: Uint8Array
  /** Expected SHA-256 PCR values by index (e.g. from `@terrane/firmware` measured boot). */
  readonly expectedPcrs: ReadonlyMap<number, Uint8Array>
  /** Read, and added to on success: the caller owns and persists it. */
  readonly usedNonces: UsedNonces
}

export type TpmVerdict =
  | {
      readonly ok: true
      readonly manufacturerId: string
      readonly akName: Uint8Array
      /** SEC1 uncompressed AK point */
      readonly akPublicKey: Uint8Array
      readonly ekFingerprint: string
      readonly resetCount: number
      readonly restartCount: number
    }
  | Rejected

/**
 * Step 2 of TPM attestation: EK chain, AK attributes, the activated credential, then the quote:
 * TPM_GENERATED magic, ECDSA signature by the AK, extraData == nonce (single use), and the PCR
 * selection and digest against the expected PCR values. Never throws on bad input.
 */
export function verifyTpmAttestation(attestation: TpmAttestation, context: TpmAttestationContext): TpmVerdict {
  const key = checkAttestationKey(attestation.akPublic)
  if ('ok' in key) return key
  const chain = verifyCertificateChain({
    certificateChainDer: attestation.ekCertificateChainDer,
    manufacturers: context.manufacturers,
    nowMs: context.nowMs,
    profile: 'tpm_ek',
  })
  if (!chain.ok) return chain

  const { activatedSecret, expectedSecret, nonce } = { ...attestation, ...context }
  if (
    !(activatedSecret instanceof Uint8Array) ||
    !(nonce instanceof Uint8Array) ||
    activatedSecret.length !== expectedSecret.length ||
    !timingSafeEqual(activatedSecret, expectedSecret)
  )
    return reject('credential_mismatch', 'the activated credential is not the secret issued (AK not in the EK TPM)')

  if (nonce.length !== tpmNonceBytes) return reject('malformed', `nonce must be ${tpmNonceBytes} bytes`)
  const nonceHex = Buffer.from(nonce).toString('hex')
  if (context.usedNonces.has(nonceHex)) return reject('replayed_challenge', 'quote nonce already used')

  let quote
  let signature
  try {
    quote = parseQuote(attestation.quote)
    signature = parseEcdsaSignature(attestation.quoteSignature)
  } catch (err) {
    return reject('malformed', `quote: ${(err as Error).message}`)
  }
  if (quote.magic !== tpmGeneratedValue) return reject('malformed', 'quote lacks TPM_GENERATED magic')
  if (signature.hashAlg !== tpmAlgSha256) return reject('bad_quote_signature', 'quote signature must use SHA-256')
  let isValid = false
  try {
    isValid = verify('sha256', attestation.quote, { key: key.akKey, dsaEncoding: 'ieee-p1363' }, signature.p1363)
  } catch {
    isValid = false
  }
  if (!isValid) return reject('bad_quote_signature', 'quote not signed by the attestation key')
  if (!timingSafeEqualBytes(quote.extraData, nonce)) return reject('nonce_mismatch', 'quote is over another nonce')

  const expectedIndices = [...context.expectedPcrs.keys()].sort((a, b) => a - b)
  if (expectedIndices.some((i) => !Number.isInteger(i) || i < 0 || i > pcrIndexMax))
    return reject('malformed', 'expected PCR index out of range')
  const selection = quote.pcrSelections
  const isSameSelection =
    selection.length === 1 &&
    selection[0]!.hashAlg === tpmAlgSha256 &&
    selection[0]!.indices.length === expectedIndices.length &&
    selection[0]!.indices.every((v, i) => v === expectedIndices[i])
  if (!isSameSelection) return reject('pcr_mismatch', 'quote selects other PCRs than expected')
  const expectedDigest = pcrCompositeDigest(expectedIndices.map((i) => context.expectedPcrs.get(i)!))
  if (!timingSafeEqualBytes(quote.pcrDigest, expectedDigest))
    return reject('pcr_mismatch', 'quoted PCR values differ from the expected ones')

  context.usedNonces.add(nonceHex)
  return {
    ok: true,
    manufacturerId: chain.manufacturerId,
    akName: key.akName,
    akPublicKey: Uint8Array.from([0x04, ...key.ak.x, ...key.ak.y]),
    ekFingerprint: chain.leaf.fingerprint,
    resetCount: quote.resetCount,
    restartCount: quote.restartCount,
  }
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
