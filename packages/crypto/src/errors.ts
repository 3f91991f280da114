export type CryptoErrorCode =
  | 'CRYPTO_BAD_KEY' // wrong length or not a valid key encoding
  | 'CRYPTO_BAD_ADDRESS' // wrong prefix, checksum or length
  | 'CRYPTO_BAD_KEYSTORE' // keystore file of an unknown shape or version
  | 'CRYPTO_WRONG_PASSWORD' // authentication tag mismatch on decrypt

export class CryptoError extends Error {
  static override name = 'CryptoError'
  override name = 'CryptoError'
  readonly code: CryptoErrorCode
  constructor(code: CryptoErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
