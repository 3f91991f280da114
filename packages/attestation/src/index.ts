export { AttestationError, type AttestationErrorCode } from './errors.ts'
export {
  deviceIdFromPublicKey,
  decodeDeviceId,
  verifyDeviceSignature,
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
  type LeafProfile,
  type VerifiedChain,
  type VerifyChainInput,
} from './x509/chain.ts'
export { verifyX509Attestation, type X509Attestation, type X509AttestationContext, type X509Verdict } from './x509/attestation.ts'
