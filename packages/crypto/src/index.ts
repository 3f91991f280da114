export { CryptoError, type CryptoErrorCode } from './errors.ts'
export {
  verifySignature,
  isValidPublicKey,
  keyPairFromSeed,
  seedSigner,
  publicKeyBytes,
  seedBytes,
  signatureBytes,
  type KeyPair,
  type Signer,
} from './ed25519.ts'
export { domainMessage, signInDomain, verifyInDomain, domainFieldBytesMax, type SigningDomain } from './domain.ts'
export { accountIdOfPublicKey, encodeAddress, decodeAddress, addressOfPublicKey, addressPrefix, addressBytes } from './address.ts'
export { encryptKeystore, decryptKeystore, parseKeystore, type Keystore, type KeystoreInit, type RandomBytes } from './keystore.ts'
export { createVerifierPool, type VerifierPool, type VerifierPoolInit, type SignedItem } from './pool/verifier-pool.ts'
