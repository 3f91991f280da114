import { decode, encode, sha256 } from '@terrane/codec'
import { deviceIdFromPublicKey, verifyDeviceSignature } from '@terrane/attestation'
import { ReportError } from './errors.ts'
import { chainIdBytesMax, reportBodyBytesMax, reportBytesMax } from './limits.ts'
import {
  deviceReportSchema,
  reportBodySchemas,
  signedDeviceReportSchema,
  type DeviceReport,
  type ReportBodies,
  type ReportKind,
  type SignedDeviceReport,
} from './schemas.ts'

/** Domain tag first in every signed report, so a device signature can never be replayed as anything else. */
export const reportDomainTag = 'TERRANE-DEVICE-REPORT-V1'

const utf8 = new TextEncoder()
const tagBytes = utf8.encode(reportDomainTag)

function chainIdBytes(chainId: string): Uint8Array {
  const bytes = utf8.encode(chainId)
  if (bytes.length === 0 || bytes.length > chainIdBytesMax)
    throw new ReportError('REPORT_BAD_CHAIN_ID', `chain id must be 1..${chainIdBytesMax} bytes, got ${bytes.length}`)
  return bytes
}

/**
 * The bytes a device signs:
 * `utf8('TERRANE-DEVICE-REPORT-V1') || u8(len(chainId)) || utf8(chainId) || encode(deviceReportSchema, report)`.
 * The length prefix keeps the chain id and the report apart; the tag keeps report signatures apart
 * from every other use of the device key.
 */
export function reportSigningBytes(chainId: string, report: DeviceReport): Uint8Array {
  const chain = chainIdBytes(chainId)
  const encoded = encode(deviceReportSchema, report)
  const out = new Uint8Array(tagBytes.length + 1 + chain.length + encoded.length)
  out.set(tagBytes, 0)
  out[tagBytes.length] = chain.length
  out.set(chain, tagBytes.length + 1)
  out.set(encoded, tagBytes.length + 1 + chain.length)
  return out
}

/**
 * The identity of a report: SHA-256 of its signing bytes. Keyed on what was signed, never on the
 * signature, because ECDSA signatures are malleable (see @terrane/attestation).
 */
export function reportId(chainId: string, report: DeviceReport): Uint8Array {
  return sha256(reportSigningBytes(chainId, report))
}

/**
 * Signs a report with the device key (`sign` returns a 64-byte P1363 signature, e.g. from a secure element).
 *
 * @example
 * const signed = signReport('terrane-devnet', report, (bytes) => secureElement.sign(bytes))
 */
export function signReport(chainId: string, report: DeviceReport, sign: (bytes: Uint8Array) => Uint8Array): SignedDeviceReport {
  const signature = sign(reportSigningBytes(chainId, report))
  if (signature.length !== 64)
    throw new ReportError('REPORT_BAD_SIGNATURE_LENGTH', `signer returned ${signature.length} bytes, expected 64`)
  return { report, signature }
}

/**
 * True if `publicKey` is the key of `signed.report.deviceId` and signed the report for `chainId`.
 * Never throws: a malformed key, a key of another device or a bad signature is simply not valid.
 */
export function verifyReport(chainId: string, signed: SignedDeviceReport, publicKey: Uint8Array): boolean {
  let message: Uint8Array
  try {
    if (deviceIdFromPublicKey(publicKey) !== signed.report.deviceId) return false
    message = reportSigningBytes(chainId, signed.report)
  } catch {
    return false
  }
  return verifyDeviceSignature(publicKey, message, signed.signature)
}

/** Canonical bytes of a signed report (what ingest publishes and the verifier reads). */
export function encodeSignedReport(signed: SignedDeviceReport): Uint8Array {
  return encode(signedDeviceReportSchema, signed)
}

/**
 * Strictly decodes a signed report from untrusted bytes: at most reportBytesMax, canonical DAG-CBOR,
 * exact envelope shape, and a body that is the canonical encoding of its kind's schema.
 * Throws CodecError (codes CODEC_TOO_LARGE, CODEC_MALFORMED, CODEC_NON_CANONICAL, CODEC_SCHEMA, ...).
 * Does not check the signature: that needs the device's registered key (verifyReport).
 */
export function decodeSignedReport(bytes: Uint8Array): SignedDeviceReport {
  const signed = decode(signedDeviceReportSchema, bytes, { bytesMax: reportBytesMax })
  decodeReportBody(signed.report)
  return signed
}

/** Canonical body bytes for a kind. */
export function encodeReportBody<K extends ReportKind>(kind: K, body: ReportBodies[K]): Uint8Array {
  const bytes = encode(reportBodySchemas[kind], body)
  // The encoder may hand back a Buffer; reports carry plain Uint8Arrays so decoded and built values compare equal.
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Strictly decodes the body of a report according to its kind (throws CodecError). */
export function decodeReportBody<K extends ReportKind>(report: DeviceReport & { kind: K }): ReportBodies[K] {
  return decode(reportBodySchemas[report.kind], report.body, { bytesMax: reportBodyBytesMax })
}

/** Builds a report whose body is the canonical encoding of `body`. */
export function makeReport<K extends ReportKind>(
  fields: { deviceId: string; seq: number; timeMs: number; kind: K },
  body: ReportBodies[K],
): DeviceReport {
  return { deviceId: fields.deviceId, seq: fields.seq, timeMs: fields.timeMs, kind: fields.kind, body: encodeReportBody(fields.kind, body) }
}
