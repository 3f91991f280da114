import { timingSafeEqual, verify } from 'node:crypto'
import { reject, type Rejected } from '../verdict.ts'
import { deviceIdFromPublicKey } from '../identity.ts'
import {
  eccKeyObject,
  objectDecrypt,
  objectFixedParent,
  objectFixedTpm,
  objectRestricted,
  objectSensitiveDataOrigin,
  objectSign,
  parseCertify,
  parseEccPublic,
  parseEcdsaSignature,
  tpmAlgEcdsa,
  tpmAlgNull,
  tpmAlgSha256,
  tpmEccNistP256,
  tpmGeneratedValue,
  tpmObjectName,
  type TpmEccPublic,
} from './structures.ts'
import { checkAttestationKey } from './verify.ts'

// The device key must never have existed outside this TPM (sensitiveDataOrigin), never leave it
// (fixedTPM, fixedParent), and sign arbitrary bytes (sign, not restricted); never decrypt.
const requiredKeyAttributes = objectFixedTpm | objectFixedParent | objectSensitiveDataOrigin | objectSign
const forbiddenKeyAttributes = objectRestricted | objectDecrypt

/** What a TPM device hands over to bind its report-signing key to its attested AK. */
export interface TpmKeyCertification {
  /** TPM2B_PUBLIC of the AK, the one `verifyTpmAttestation` accepted (EK chain + credential). */
  readonly akPublic: Uint8Array
  /** TPM2B_PUBLIC of the report-signing key (`tpm2_create -u`). */
  readonly keyPublic: Uint8Array
  /** TPMS_ATTEST of type certify over the key (`tpm2_certify -o`). */
  readonly certifyInfo: Uint8Array
  /** TPMT_SIGNATURE by the AK over `certifyInfo` (`tpm2_certify -s`). */
  readonly certifySignature: Uint8Array
}

export type TpmKeyCertificationVerdict =
  | {
      readonly ok: true
      /** SEC1 uncompressed P-256 point of the device key: what the chain registers. */
      readonly publicKey: Uint8Array
      readonly deviceId: string
      /** Name of the device key (nameAlg || SHA-256(TPMT_PUBLIC)). */
      readonly keyName: Uint8Array
      readonly akName: Uint8Array
    }
  | Rejected

/**
 * Checks a TPM2_Certify statement (pure, never throws on bad input): the AK is a restricted,
 * fixed, TPM-generated ECDSA P-256 key; the device key is a fixed, TPM-generated, unrestricted
 * P-256 signing key; the statement carries TPM_GENERATED (so the TPM made it: a restricted key
 * refuses to sign outside bytes that start with it), is of type certify, names exactly the device
 * key (its Name is SHA-256 of the public area given), and is signed by the AK with SHA-256.
 * Then the device key was generated inside the same TPM as the AK. Bind the AK to a genuine
 * TPM first with `issueTpmCredential` + `verifyTpmAttestation` (EK certificate, credential
 * activation): this check says nothing about an AK on its own.
 *
 * @example
 * const verdict = verifyTpmKeyCertification({ akPublic, keyPublic, certifyInfo, certifySignature })
 * if (verdict.ok) registry.register(verdict.deviceId, verdict.publicKey)
 */
export function verifyTpmKeyCertification(certification: TpmKeyCertification): TpmKeyCertificationVerdict {
  const ak = checkAttestationKey(certification.akPublic)
  if ('ok' in ak) return ak
  let key: TpmEccPublic
  let keyName: Uint8Array
  try {
    key = parseEccPublic(certification.keyPublic)
    keyName = tpmObjectName(key)
  } catch (err) {
    return reject('malformed', `signing key public: ${(err as Error).message}`)
  }
  if ((key.objectAttributes & requiredKeyAttributes) !== requiredKeyAttributes || (key.objectAttributes & forbiddenKeyAttributes) !== 0)
    return reject(
      'bad_signing_key',
      `key attributes 0x${key.objectAttributes.toString(16)} are not sign/fixedTPM/fixedParent/sensitiveDataOrigin, unrestricted, no decrypt`,
    )
  const isEcdsaSha256 = key.scheme === tpmAlgEcdsa && key.schemeHash === tpmAlgSha256
  if (key.curve !== tpmEccNistP256 || !(isEcdsaSha256 || key.scheme === tpmAlgNull))
    return reject('bad_signing_key', 'the device key must be P-256 with ECDSA/SHA-256 (or no fixed scheme)')
  let publicKey: Uint8Array
  try {
    eccKeyObject(key) // on the curve
    publicKey = Uint8Array.from([0x04, ...key.x, ...key.y])
  } catch (err) {
    return reject('malformed', `signing key public: ${(err as Error).message}`)
  }

  let info
  let signature
  try {
    info = parseCertify(certification.certifyInfo)
    signature = parseEcdsaSignature(certification.certifySignature)
  } catch (err) {
    return reject('malformed', `certify statement: ${(err as Error).message}`)
  }
  if (info.magic !== tpmGeneratedValue) return reject('malformed', 'certify statement lacks TPM_GENERATED magic')
  if (signature.hashAlg !== tpmAlgSha256) return reject('bad_certify_signature', 'certify signature must use SHA-256')
  let isValid = false
  try {
    isValid = verify('sha256', certification.certifyInfo, { key: ak.akKey, dsaEncoding: 'ieee-p1363' }, signature.p1363)
  } catch {
    isValid = false
  }
  if (!isValid) return reject('bad_certify_signature', 'certify statement not signed by the attestation key')
  if (info.name.length !== keyName.length || !timingSafeEqual(info.name, keyName))
    return reject('key_name_mismatch', 'the certify statement is about another object than this key')
  return { ok: true, publicKey, deviceId: deviceIdFromPublicKey(publicKey), keyName, akName: ak.akName }
}
