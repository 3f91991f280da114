import { verifyCertificateChain, type ManufacturerRegistry } from '@terrane/attestation'
import type { ClientCertificateVerifier } from './broker.ts'

/**
 * The TLS client-certificate check of the embedded broker, done by @terrane/attestation:
 * linkage, signatures, validity, basic constraints, key usage, path length and revocation, up
 * to a root of a registered manufacturer (profile 'device': a CA certificate is refused).
 * `manufacturers` is read on every connection, so a revocation applies to the next connection.
 */
export function attestationCertificateVerifier(manufacturers: () => readonly ManufacturerRegistry[]): ClientCertificateVerifier {
  return {
    verify(chainDer, nowMs) {
      const verdict = verifyCertificateChain({ certificateChainDer: chainDer, manufacturers: manufacturers(), nowMs, profile: 'device' })
      if (!verdict.ok) return { ok: false, reason: verdict.reason }
      const spki = verdict.leaf.publicKey.export({ format: 'der', type: 'spki' })
      // The last 65 bytes of a P-256 SubjectPublicKeyInfo are the uncompressed SEC1 point (RFC 5480).
      return { ok: true, publicKey: Uint8Array.from(spki.subarray(spki.length - 65)) }
    },
  }
}
