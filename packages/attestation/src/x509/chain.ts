import { X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto'
import { x509 } from './peculiar.ts'
import { certificateFingerprint, normalizeSerial, type ManufacturerRegistry } from '../registry.ts'
import { reject, type Rejected } from '../verdict.ts'

/** Longest chain accepted, leaf to root included (device, up to 3 intermediates, root). */
export const certificateChainLengthMax = 5
/** Largest DER certificate accepted; device certificates are about 500 bytes. */
export const certificateBytesMax = 8192
/** Parsed certificates kept (roots and intermediates repeat across devices). */
export const parsedCertificateCacheEntriesMax = 1024

// RFC 5280 section 4.2.1.3 bit names, as @peculiar/x509 numbers them.
const keyUsageDigitalSignature = x509.KeyUsageFlags.digitalSignature
const keyUsageKeyEncipherment = x509.KeyUsageFlags.keyEncipherment
const keyUsageKeyCertSign = x509.KeyUsageFlags.keyCertSign

/** What a leaf certificate must be: a device identity (P-256 signing) or a TPM endorsement key. */
export type LeafProfile = 'device' | 'tpm_ek'

export interface ParsedCertificate {
  readonly der: Uint8Array
  readonly fingerprint: string
  readonly serial: string
  readonly node: NodeCertificate
  readonly publicKey: KeyObject
  readonly notBeforeMs: number
  readonly notAfterMs: number
  /** undefined when the basicConstraints extension is absent */
  readonly isCa: boolean | undefined
  readonly pathLength: number | undefined
  /** undefined when the keyUsage extension is absent */
  readonly keyUsage: number | undefined
}

const parsedCache = new Map<string, ParsedCertificate>()

/** Issuer -> child signature checks already passed (a fact about two fixed DER blobs). */
export const verifiedLinkCacheEntriesMax = 1024
const verifiedLinks = new Set<string>()

/** True if `child` is signed by `issuer`'s key; positive results are cached. */
function isSignedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const link = child.fingerprint + issuer.fingerprint
  if (verifiedLinks.has(link)) return true
  let isValid: boolean
  try {
    isValid = child.node.verify(issuer.publicKey)
  } catch {
    isValid = false
  }
  if (!isValid) return false
  if (verifiedLinks.size >= verifiedLinkCacheEntriesMax) {
    const oldest = verifiedLinks.values().next().value
    if (oldest !== undefined) verifiedLinks.delete(oldest)
  }
  verifiedLinks.add(link)
  return true
}

/** Parses a DER certificate (cached by fingerprint), or undefined if it does not parse. */
export function parseCertificate(der: Uint8Array): ParsedCertificate | undefined {
  if (der.length === 0 || der.length > certificateBytesMax) return undefined
  const fingerprint = certificateFingerprint(der)
  const hit = parsedCache.get(fingerprint)
  if (hit !== undefined) return hit
  let parsed: ParsedCertificate
  try {
    const bytes = Uint8Array.from(der)
    const cert = new x509.X509Certificate(bytes)
    const node = new NodeCertificate(bytes)
    const bc = cert.getExtension(x509.BasicConstraintsExtension)
    const ku = cert.getExtension(x509.KeyUsagesExtension)
    parsed = {
      der: bytes,
      fingerprint,
      serial: normalizeSerial(cert.serialNumber),
      node,
      publicKey: node.publicKey,
      notBeforeMs: cert.notBefore.getTime(),
      notAfterMs: cert.notAfter.getTime(),
      isCa: bc === null ? undefined : bc.ca,
      pathLength: bc === null ? undefined : bc.pathLength,
      keyUsage: ku === null ? undefined : ku.usages,
    }
  } catch {
    return undefined
  }
  if (parsedCache.size >= parsedCertificateCacheEntriesMax) {
    const oldest = parsedCache.keys().next().value
    if (oldest !== undefined) parsedCache.delete(oldest)
  }
  parsedCache.set(fingerprint, parsed)
  return parsed
}

export interface VerifiedChain {
  readonly ok: true
  readonly manufacturerId: string
  readonly leaf: ParsedCertificate
  /** leaf first, registered root last */
  readonly path: readonly ParsedCertificate[]
}

export interface VerifyChainInput {
  /** Leaf first, then intermediates; the root may be included or left out. */
  readonly certificateChainDer: readonly Uint8Array[]
  readonly manufacturers: readonly ManufacturerRegistry[]
  readonly nowMs: number
  readonly profile: LeafProfile
}

function isNonNegativeInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/**
 * Verifies a certificate chain up to a registered manufacturer root: linkage, signatures,
 * revocation, validity at `nowMs`, basicConstraints (CA flag, pathLength), keyUsage and the
 * leaf profile. Pure: the same inputs give the same verdict. Never throws on bad input.
 */
export function verifyCertificateChain(input: VerifyChainInput): VerifiedChain | Rejected {
  const { certificateChainDer, manufacturers, nowMs, profile } = input
  if (!Array.isArray(certificateChainDer) || certificateChainDer.length === 0) return reject('malformed', 'empty certificate chain')
  if (certificateChainDer.length > certificateChainLengthMax) return reject('malformed', `chain longer than ${certificateChainLengthMax}`)
  if (!Number.isFinite(nowMs)) return reject('malformed', 'nowMs is not a number')
  const supplied: ParsedCertificate[] = []
  for (const [i, der] of certificateChainDer.entries()) {
    const parsed = der instanceof Uint8Array ? parseCertificate(der) : undefined
    if (parsed === undefined) return reject('malformed', `certificate ${i} does not parse`)
    supplied.push(parsed)
  }

  // Anchor: the last supplied certificate is either a registered root or issued by one.
  const last = supplied[supplied.length - 1]!
  let anchor: { root: ParsedCertificate; manufacturer: ManufacturerRegistry } | undefined
  let hasNameMatch = false
  for (const manufacturer of manufacturers) {
    for (const rootDer of manufacturer.rootCertificatesDer) {
      const root = parseCertificate(rootDer)
      if (root === undefined) continue
      if (root.fingerprint === last.fingerprint && supplied.length > 1) {
        anchor = { root, manufacturer }
        supplied.pop()
        break
      }
      if (last.node.checkIssued(root.node)) {
        hasNameMatch = true
        if (isSignedBy(last, root)) {
          anchor = { root, manufacturer }
          break
        }
      }
    }
    if (anchor !== undefined) break
  }
  if (anchor === undefined) {
    return hasNameMatch
      ? reject('bad_signature', 'chain names a registered root but its signature does not verify')
      : reject('unknown_root', 'chain does not end at a registered manufacturer root')
  }
  const path = [...supplied, anchor.root]

  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!
    const issuer = path[i + 1]!
    if (!child.node.checkIssued(issuer.node)) return reject('bad_chain', `certificate ${i} is not issued by certificate ${i + 1}`)
    if (!isSignedBy(child, issuer)) return reject('bad_signature', `certificate ${i} signature does not verify`)
  }

  const revokedFingerprints = new Set(anchor.manufacturer.revokedFingerprintsSha256.map((f) => f.toLowerCase()))
  const revokedSerials = new Set(anchor.manufacturer.revokedSerials.map(normalizeSerial))
  for (const [i, cert] of path.entries()) {
    if (revokedFingerprints.has(cert.fingerprint)) return reject('revoked', `certificate ${i} fingerprint is revoked`)
    if (revokedSerials.has(cert.serial)) return reject('revoked', `certificate ${i} serial ${cert.serial} is revoked`)
  }

  for (const [i, cert] of path.entries()) {
    if (nowMs < cert.notBeforeMs) return reject('not_yet_valid', `certificate ${i} is not valid before ${cert.notBeforeMs}`)
    if (nowMs > cert.notAfterMs) return reject('expired', `certificate ${i} expired at ${cert.notAfterMs}`)
  }

  for (let i = 1; i < path.length; i++) {
    const ca = path[i]!
    if (ca.isCa !== true) return reject('bad_chain', `issuer ${i} is not a CA (basicConstraints)`)
    if (ca.keyUsage !== undefined && (ca.keyUsage & keyUsageKeyCertSign) === 0)
      return reject('wrong_key_usage', `issuer ${i} lacks keyCertSign`)
    // RFC 5280 section 4.2.1.9: pathLength counts the intermediate CAs below this one.
    const intermediatesBelow = i - 1
    if (ca.pathLength !== undefined && isNonNegativeInteger(ca.pathLength) && intermediatesBelow > ca.pathLength)
      return reject('path_length_exceeded', `issuer ${i} allows ${ca.pathLength} intermediates, chain has ${intermediatesBelow}`)
  }

  const leaf = path[0]!
  if (leaf.isCa === true) return reject('ca_as_device', 'leaf certificate is a CA certificate')
  const requiredUsage = profile === 'device' ? keyUsageDigitalSignature : keyUsageKeyEncipherment
  if (leaf.keyUsage === undefined || (leaf.keyUsage & requiredUsage) === 0)
    return reject('wrong_key_usage', `leaf lacks ${profile === 'device' ? 'digitalSignature' : 'keyEncipherment'}`)
  const details = leaf.publicKey.asymmetricKeyDetails
  if (profile === 'device' && (leaf.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1'))
    return reject('unsupported_key', 'device key must be EC P-256')
  if (profile === 'tpm_ek' && leaf.publicKey.asymmetricKeyType !== 'rsa')
    return reject('unsupported_key', 'only RSA endorsement keys are supported')

  return { ok: true, manufacturerId: anchor.manufacturer.manufacturerId, leaf, path }
}
