// TPM 2.0 wire structures (TCG TPM 2.0 Library, Part 2: Structures), big-endian. Only what a
// verifier needs: TPM2B_PUBLIC of an ECC attestation key, TPMS_ATTEST of a quote, TPMT_SIGNATURE.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'

export const tpmGeneratedValue = 0xff544347 // TPM_GENERATED_VALUE, Part 2 section 6.2
export const tpmStAttestQuote = 0x8018 // TPM_ST_ATTEST_QUOTE, Part 2 section 6.9
export const tpmStAttestCertify = 0x8017 // TPM_ST_ATTEST_CERTIFY, Part 2 section 6.9
export const tpmAlgSha256 = 0x000b
export const tpmAlgEcc = 0x0023
export const tpmAlgEcdsa = 0x0018
export const tpmAlgNull = 0x0010
export const tpmEccNistP256 = 0x0003
/** Quote PCR selections use one bank; pcrSelect bitmaps are 3 bytes for 24 PCRs. */
export const pcrIndexMax = 23
/** Largest TPM structure parsed here; a TPMS_ATTEST quote is about 150 bytes. */
export const tpmStructureBytesMax = 2048

// TPMA_OBJECT bits, Part 2 section 8.3
export const objectFixedTpm = 1 << 1
export const objectFixedParent = 1 << 4
export const objectSensitiveDataOrigin = 1 << 5
export const objectRestricted = 1 << 16
export const objectDecrypt = 1 << 17
export const objectSign = 1 << 18

class Reader {
  offset = 0
  constructor(readonly bytes: Uint8Array) {}
  private need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new RangeError('truncated TPM structure')
  }
  u8(): number {
    this.need(1)
    return this.bytes[this.offset++]!
  }
  u16(): number {
    this.need(2)
    const v = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!
    this.offset += 2
    return v
  }
  u32(): number {
    return this.u16() * 0x10000 + this.u16()
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32())
  }
  take(n: number): Uint8Array {
    this.need(n)
    const out = this.bytes.slice(this.offset, this.offset + n)
    this.offset += n
    return out
  }
  tpm2b(): Uint8Array {
    return this.take(this.u16())
  }
  isDone(): boolean {
    return this.offset === this.bytes.length
  }
}

export interface TpmEccPublic {
  /** The TPMT_PUBLIC bytes (what the Name hashes). */
  readonly tpmtPublic: Uint8Array
  readonly nameAlg: number
  readonly objectAttributes: number
  readonly scheme: number
  readonly schemeHash: number
  readonly curve: number
  readonly x: Uint8Array
  readonly y: Uint8Array
}

/** Parses a TPM2B_PUBLIC holding an ECC key (as `tpm2_createak -u` writes); throws RangeError. */
export function parseEccPublic(tpm2bPublic: Uint8Array): TpmEccPublic {
  if (tpm2bPublic.length > tpmStructureBytesMax) throw new RangeError('TPM2B_PUBLIC too large')
  const outer = new Reader(tpm2bPublic)
  const tpmtPublic = outer.tpm2b()
  if (!outer.isDone()) throw new RangeError('trailing bytes after TPM2B_PUBLIC')
  const r = new Reader(tpmtPublic)
  if (r.u16() !== tpmAlgEcc) throw new RangeError('not an ECC key')
  const nameAlg = r.u16()
  const objectAttributes = r.u32()
  r.tpm2b() // authPolicy
  const symmetric = r.u16()
  if (symmetric !== tpmAlgNull) throw new RangeError('signing keys have no symmetric algorithm')
  const scheme = r.u16()
  const schemeHash = scheme === tpmAlgNull ? tpmAlgNull : r.u16()
  const curve = r.u16()
  const kdf = r.u16()
  if (kdf !== tpmAlgNull) r.u16()
  const x = r.tpm2b()
  const y = r.tpm2b()
  if (!r.isDone()) throw new RangeError('trailing bytes after TPMT_PUBLIC')
  return { tpmtPublic, nameAlg, objectAttributes, scheme, schemeHash, curve, x, y }
}

/** The Name of an object: nameAlg (u16) || H(TPMT_PUBLIC), Part 1 section 16. SHA-256 only. */
export function tpmObjectName(key: TpmEccPublic): Uint8Array {
  if (key.nameAlg !== tpmAlgSha256) throw new RangeError('only SHA-256 names are supported')
  const digest = createHash('sha256').update(key.tpmtPublic).digest()
  return Uint8Array.from([0x00, 0x0b, ...digest])
}

/** A KeyObject for a P-256 TPM key (checked on the curve by OpenSSL). */
export function eccKeyObject(key: TpmEccPublic): KeyObject {
  if (key.curve !== tpmEccNistP256 || key.x.length !== 32 || key.y.length !== 32)
    throw new RangeError('only NIST P-256 keys with 32-byte coordinates are supported')
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: Buffer.from(key.x).toString('base64url'), y: Buffer.from(key.y).toString('base64url') },
    format: 'jwk',
  })
}

export interface PcrSelection {
  readonly hashAlg: number
  /** PCR indices selected, ascending */
  readonly indices: readonly number[]
}

export interface TpmQuote {
  readonly magic: number
  readonly type: number
  readonly qualifiedSigner: Uint8Array
  readonly extraData: Uint8Array
  readonly clock: bigint
  readonly resetCount: number
  readonly restartCount: number
  readonly isSafe: boolean
  readonly firmwareVersion: bigint
  readonly pcrSelections: readonly PcrSelection[]
  readonly pcrDigest: Uint8Array
}

/** Parses a TPMS_ATTEST of type quote (as `tpm2_quote -m` writes); throws RangeError. */
export function parseQuote(attest: Uint8Array): TpmQuote {
  if (attest.length > tpmStructureBytesMax) throw new RangeError('TPMS_ATTEST too large')
  const r = new Reader(attest)
  const magic = r.u32()
  const type = r.u16()
  const qualifiedSigner = r.tpm2b()
  const extraData = r.tpm2b()
  const clock = r.u64()
  const resetCount = r.u32()
  const restartCount = r.u32()
  const isSafe = r.u8() === 1
  const firmwareVersion = r.u64()
  if (type !== tpmStAttestQuote) throw new RangeError('not a quote')
  const count = r.u32()
  if (count > 16) throw new RangeError('too many PCR banks')
  const pcrSelections: PcrSelection[] = []
  for (let b = 0; b < count; b++) {
    const hashAlg = r.u16()
    const bitmap = r.take(r.u8())
    const indices: number[] = []
    for (const [byteIndex, byte] of bitmap.entries())
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) indices.push(byteIndex * 8 + bit)
    pcrSelections.push({ hashAlg, indices })
  }
  const pcrDigest = r.tpm2b()
  if (!r.isDone()) throw new RangeError('trailing bytes after TPMS_ATTEST')
  return { magic, type, qualifiedSigner, extraData, clock, resetCount, restartCount, isSafe, firmwareVersion, pcrSelections, pcrDigest }
}

export interface TpmCertifyInfo {
  readonly magic: number
  readonly type: number
  readonly qualifiedSigner: Uint8Array
  readonly extraData: Uint8Array
  /** TPMS_CERTIFY_INFO.name: the Name of the certified object. */
  readonly name: Uint8Array
  readonly qualifiedName: Uint8Array
}

/**
 * Parses a TPMS_ATTEST of type certify (as `tpm2_certify -o` writes), Part 2 sections 10.12.8
 * and 10.12.3: magic, type, qualifiedSigner, extraData, TPMS_CLOCK_INFO (17 bytes),
 * firmwareVersion, then TPMS_CERTIFY_INFO { name, qualifiedName }. Throws RangeError.
 */
export function parseCertify(attest: Uint8Array): TpmCertifyInfo {
  if (attest.length > tpmStructureBytesMax) throw new RangeError('TPMS_ATTEST too large')
  const r = new Reader(attest)
  const magic = r.u32()
  const type = r.u16()
  const qualifiedSigner = r.tpm2b()
  const extraData = r.tpm2b()
  r.take(17 + 8) // clockInfo (clock u64, resetCount u32, restartCount u32, safe u8), firmwareVersion u64
  if (type !== tpmStAttestCertify) throw new RangeError('not a certify statement')
  const name = r.tpm2b()
  const qualifiedName = r.tpm2b()
  if (!r.isDone()) throw new RangeError('trailing bytes after TPMS_ATTEST')
  return { magic, type, qualifiedSigner, extraData, name, qualifiedName }
}

export interface TpmEcdsaSignature {
  readonly hashAlg: number
  /** IEEE P1363 r || s, 32 bytes each */
  readonly p1363: Uint8Array
}

/** Parses a TPMT_SIGNATURE with ECDSA (as `tpm2_quote -s` writes); throws RangeError. */
export function parseEcdsaSignature(signature: Uint8Array): TpmEcdsaSignature {
  if (signature.length > tpmStructureBytesMax) throw new RangeError('TPMT_SIGNATURE too large')
  const r = new Reader(signature)
  if (r.u16() !== tpmAlgEcdsa) throw new RangeError('not an ECDSA signature')
  const hashAlg = r.u16()
  const rBytes = r.tpm2b()
  const sBytes = r.tpm2b()
  if (!r.isDone()) throw new RangeError('trailing bytes after TPMT_SIGNATURE')
  if (rBytes.length > 32 || sBytes.length > 32) throw new RangeError('ECDSA P-256 component longer than 32 bytes')
  const p1363 = new Uint8Array(64)
  p1363.set(rBytes, 32 - rBytes.length)
  p1363.set(sBytes, 64 - sBytes.length)
  return { hashAlg, p1363 }
}

/** PCR extend as a TPM does it: pcr' = SHA-256(pcr || measurement). Part 1 section 17.6.2. */
export function extendPcr(pcr: Uint8Array, measurement: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(pcr).update(measurement).digest())
}

/** The quote's pcrDigest for SHA-256 PCR values given in ascending index order. */
export function pcrCompositeDigest(values: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const v of values) h.update(v)
  return new Uint8Array(h.digest())
}
