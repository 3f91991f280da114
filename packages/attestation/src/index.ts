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
  deviceKeyCacheEntriesMax,
  p256CompressedBytes,
  p256UncompressedBytes,
  p256SignatureBytes,
} from './identity.ts'
