// A simulated manufacturer: a root and an intermediate CA that issue device certificates, as a
// real maker's factory line does. For the simulator, devnets and tests only.
import '@terrane/attestation' // loads the Reflect metadata polyfill @peculiar/x509 needs first
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { ManufacturerRegistry } from '@terrane/attestation'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const dayMs = 86_400_000
// DER SubjectPublicKeyInfo prefix for an uncompressed P-256 point (RFC 5480).
const spkiPrefix = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00,
])

export interface SimulatedManufacturer {
  readonly registry: ManufacturerRegistry
  /** Root and intermediate, DER. */
  readonly rootDer: Uint8Array
  readonly intermediateDer: Uint8Array
  /** Issues a device certificate for a 65-byte SEC1 key; returns the chain [device, intermediate]. */
  issueDeviceCertificate(publicKey: Uint8Array, serialNumber: number): Promise<Uint8Array[]>
}

export interface SimulatedManufacturerInit {
  manufacturerId: string
  /** Certificates are valid from 30 days before to 5 years after. */
  nowMs: number
}

export async function createSimulatedManufacturer(init: SimulatedManufacturerInit): Promise<SimulatedManufacturer> {
  const notBefore = new Date(init.nowMs - 30 * dayMs)
  const notAfter = new Date(init.nowMs + 5 * 365 * dayMs)
  const rootKeys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const intermediateKeys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
  const rootName = `CN=${init.manufacturerId} Root`
  const intermediateName = `CN=${init.manufacturerId} Intermediate`
  const root = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: rootName,
    issuer: rootName,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(caUsage, true)],
  })
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: intermediateName,
    issuer: rootName,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(caUsage, true)],
  })
  const rootDer = new Uint8Array(root.rawData)
  const intermediateDer = new Uint8Array(intermediate.rawData)
  return {
    registry: { manufacturerId: init.manufacturerId, rootCertificatesDer: [rootDer], revokedFingerprintsSha256: [], revokedSerials: [] },
    rootDer,
    intermediateDer,
    async issueDeviceCertificate(publicKey, serialNumber) {
      const spki = new Uint8Array(spkiPrefix.length + publicKey.length)
      spki.set(spkiPrefix)
      spki.set(publicKey, spkiPrefix.length)
      const deviceKey: CryptoKey = await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify'])
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (0x1000 + serialNumber).toString(16).padStart(6, '0'),
        subject: `CN=${init.manufacturerId} device ${serialNumber}`,
        issuer: intermediateName,
        notBefore,
        notAfter,
        signingAlgorithm: alg,
        publicKey: deviceKey,
        signingKey: intermediateKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ],
      })
      return [new Uint8Array(cert.rawData), intermediateDer]
    },
  }
}
