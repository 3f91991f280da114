export { AttestationError, type AttestationErrorCode } from './errors.ts'
export {
  deviceIdFromPublicKey,
  decodeDeviceId,
  verifyDeviceSignature,
  verifyWithDeviceKeyObject,
  compressPublicKey,
  isValidDevicePublicKey,
  deviceKeyObject,
  deviceIdPrefix,
  deviceIdBytes,
  deviceIdCharsMax,
  deviceKeyCacheEntriesMax,
  p256CompressedBytes,
  p256UncompressedBytes,
  p256SignatureBytes,
} from './identity.ts'
export { type AttestationRejectReason, type Rejected } from './verdict.ts'
export { type ManufacturerRegistry, certificateFingerprint, normalizeSerial } from './registry.ts'
export {
  encodeChallenge,
  decodeChallenge,
  challengeDomainTag,
  challengeNonceBytes,
  challengeBytes,
  challengeAgeMsMaxDefault,
  type Challenge,
  type UsedNonces,
} from './challenge.ts'
export {
  verifyCertificateChain,
  certificateChainLengthMax,
  certificateBytesMax,
  parsedCertificateCacheEntriesMax,
  verifiedLinkCacheEntriesMax,
  type LeafProfile,
  type VerifiedChain,
  type VerifyChainInput,
} from './x509/chain.ts'
export { verifyX509Attestation, type X509Attestation, type X509AttestationContext, type X509Verdict } from './x509/attestation.ts'
export {
  issueTpmCredential,
  verifyTpmAttestation,
  tpmNonceBytes,
  type TpmCredentialRequest,
  type TpmCredentialContext,
  type TpmCredentialVerdict,
  type TpmAttestation,
  type TpmAttestationContext,
  type TpmVerdict,
} from './tpm/verify.ts'
export { verifyTpmKeyCertification, type TpmKeyCertification, type TpmKeyCertificationVerdict } from './tpm/certify.ts'
export { makeCredential, kdfa, credentialSecretBytesMax, credentialSeedBytes, type MadeCredential } from './tpm/credential.ts'
export {
  parseEccPublic,
  parseQuote,
  parseEcdsaSignature,
  parseCertify,
  tpmObjectName,
  extendPcr,
  pcrCompositeDigest,
  pcrIndexMax,
  tpmStructureBytesMax,
  type TpmEccPublic,
  type TpmQuote,
  type PcrSelection,
  type TpmEcdsaSignature,
  type TpmCertifyInfo,
} from './tpm/structures.ts'
