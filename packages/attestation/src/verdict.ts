/**
 * Why an attestation was refused. These names are the vocabulary of dashboards, metrics and
 * appeals: add new ones, never rename.
 */
export type AttestationRejectReason =
  | 'malformed' // bytes that do not parse, or exceed a bound
  | 'unknown_root' // the chain does not end at a registered manufacturer root
  | 'bad_chain' // issuer/subject do not link, or an issuer is not a CA
  | 'bad_signature' // a certificate signature does not verify
  | 'expired' // a certificate's notAfter is before nowMs
  | 'not_yet_valid' // a certificate's notBefore is after nowMs
  | 'revoked' // a certificate in the chain (root, intermediate or leaf) is revoked
  | 'ca_as_device' // the leaf certificate is a CA certificate
  | 'wrong_key_usage' // keyUsage missing or lacking the required bit
  | 'path_length_exceeded' // more intermediates below a CA than its pathLength allows
  | 'unsupported_key' // leaf key of the wrong type or curve
  | 'key_mismatch' // the certificate is for a different key than the one claimed
  | 'bad_challenge_signature' // the device key did not sign this challenge
  | 'stale_challenge' // the challenge is too old (or from the future)
  | 'replayed_challenge' // the challenge (or TPM nonce) was already used
  | 'bad_attestation_key' // TPM AK is not a restricted, fixed, TPM-generated signing key
  | 'credential_mismatch' // TPM credential activation returned the wrong secret
  | 'bad_quote_signature' // TPM quote not signed by the AK
  | 'nonce_mismatch' // TPM quote extraData is not the nonce issued
  | 'pcr_mismatch' // TPM quote PCR selection or digest is not the expected one
  | 'bad_signing_key' // TPM device key is not a fixed, TPM-generated, unrestricted P-256 signing key
  | 'bad_certify_signature' // TPM2_Certify statement not signed by the AK
  | 'key_name_mismatch' // the certify statement names another object than the device key

export type Rejected = { readonly ok: false; readonly reason: AttestationRejectReason; readonly detail: string }

export function reject(reason: AttestationRejectReason, detail: string): Rejected {
  return { ok: false, reason, detail }
}
