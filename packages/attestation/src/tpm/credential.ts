// TPM2_MakeCredential computed by the verifier (TCG TPM 2.0 Library Part 1 section 24, Part 3
// section 12.6), for an RSA-2048 endorsement key with the default EK template (nameAlg SHA-256,
// AES-128-CFB): the secret can be recovered only by the TPM holding that EK, and only for an
// object with this exact Name loaded in it (TPM2_ActivateCredential).
import { createCipheriv, createHmac, publicEncrypt, constants, type KeyObject } from 'node:crypto'

export const credentialSecretBytesMax = 32 // a TPM2B_DIGEST of SHA-256
export const credentialSeedBytes = 32 // the EK nameAlg digest size

/** KDFa with HMAC-SHA-256, Part 1 section 11.4.10.2. */
export function kdfa(key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bits / 8)
  const labelBytes = Buffer.concat([Buffer.from(label, 'ascii'), Buffer.from([0])])
  const bitsBytes = Buffer.alloc(4)
  bitsBytes.writeUInt32BE(bits)
  for (let counter = 1, filled = 0; filled < out.length; counter++) {
    const counterBytes = Buffer.alloc(4)
    counterBytes.writeUInt32BE(counter)
    const block = createHmac('sha256', key)
      .update(counterBytes)
      .update(labelBytes)
      .update(contextU)
      .update(contextV)
      .update(bitsBytes)
      .digest()
    out.set(block.subarray(0, Math.min(block.length, out.length - filled)), filled)
    filled += block.length
  }
  return out
}

function tpm2b(bytes: Uint8Array): Buffer {
  const size = Buffer.alloc(2)
  size.writeUInt16BE(bytes.length)
  return Buffer.concat([size, bytes])
}

export interface MadeCredential {
  /** TPM2B_ID_OBJECT */
  readonly credentialBlob: Uint8Array
  /** TPM2B_ENCRYPTED_SECRET */
  readonly encryptedSecret: Uint8Array
}

/**
 * TPM2_MakeCredential in software. `seed` must be fresh random bytes (the caller's RNG);
 * RSA-OAEP adds OpenSSL randomness of its own, so the output is not reproducible, by design.
 */
export function makeCredential(ekPublicKey: KeyObject, akName: Uint8Array, secret: Uint8Array, seed: Uint8Array): MadeCredential {
  if (secret.length === 0 || secret.length > credentialSecretBytesMax) throw new RangeError('secret must be 1..32 bytes')
  if (seed.length !== credentialSeedBytes) throw new RangeError('seed must be 32 bytes')
  const encryptedSeed = publicEncrypt(
    { key: ekPublicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('IDENTITY\0', 'ascii') },
    seed,
  )
  const symKey = kdfa(seed, 'STORAGE', akName, new Uint8Array(0), 128)
  const cipher = createCipheriv('aes-128-cfb', symKey, Buffer.alloc(16))
  const encIdentity = Buffer.concat([cipher.update(tpm2b(secret)), cipher.final()])
  const hmacKey = kdfa(seed, 'INTEGRITY', new Uint8Array(0), new Uint8Array(0), 256)
  const outerHmac = createHmac('sha256', hmacKey).update(encIdentity).update(akName).digest()
  return {
    credentialBlob: tpm2b(Buffer.concat([tpm2b(outerHmac), encIdentity])),
    encryptedSecret: tpm2b(encryptedSeed),
  }
}
