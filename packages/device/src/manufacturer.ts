// A simulated manufacturer: a root and an intermediate CA that issue device certificates, as a
// real maker's factory line does. For the simulator, devnets (@terrane/node's devnet manufacturer,
// whose root key comes from the devnet seed) and tests only.
import '@terrane/attestation' // loads the Reflect metadata polyfill @peculiar/x509 needs first
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { ManufacturerRegistry } from '@terrane/attestation'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { DeviceError } from './errors.ts'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const dayMs = 86_400_000
/** Certificates are valid from 30 days before `nowMs` to 5 years after. */
const validityBeforeMs = 30 * dayMs
const validityAfterMs = 5 * 365 * dayMs
// DER SubjectPublicKeyInfo prefix for an uncompressed P-256 point (RFC 5480).
const spkiPrefix = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00,
])
const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign

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
  /** Seed of the root key (`deviceKeyFromSeed`): the same seed, the same root key. @default a random root key */
  rootKeySeed?: Uint8Array
  /**
   * The root certificate made earlier for that key (`createSimulatedRootCertificate`), kept because
   * ECDSA signatures are randomised: re-making it would give other bytes. Needs `rootKeySeed`.
   * @default a root certificate made now
   */
  rootDer?: Uint8Array
}

type CryptoKeyPair = { privateKey: CryptoKey; publicKey: CryptoKey }

async function rootKeysOf(seed: Uint8Array | undefined): Promise<CryptoKeyPair> {
  if (seed === undefined) return (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair
  const key = deviceKeyFromSeed(seed)
  const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' })
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign'])
  const publicKey = await webcrypto.subtle.importKey('spki', spkiOf(key.publicKey), alg, true, ['verify'])
  return { privateKey, publicKey }
}

function spkiOf(publicKey: Uint8Array): Uint8Array {
  const spki = new Uint8Array(spkiPrefix.length + publicKey.length)
  spki.set(spkiPrefix)
  spki.set(publicKey, spkiPrefix.length)
  return spki
}

function validityOf(nowMs: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(nowMs - validityBeforeMs), notAfter: new Date(nowMs + validityAfterMs) }
}

async function rootCertificate(manufacturerId: string, nowMs: number, keys: CryptoKeyPair): Promise<Uint8Array> {
  const name = `CN=${manufacturerId} Root`
  const root = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: name,
    issuer: name,
    ...validityOf(nowMs),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(caUsage, true)],
  })
  return new Uint8Array(root.rawData)
}

/** The self-signed root certificate of a manufacturer whose root key comes from `rootKeySeed` (a devnet's genesis). */
export async function createSimulatedRootCertificate(init: {
  manufacturerId: string
  nowMs: number
  rootKeySeed: Uint8Array
}): Promise<Uint8Array> {
  return rootCertificate(init.manufacturerId, init.nowMs, await rootKeysOf(init.rootKeySeed))
}

/**
 * A manufacturer with a root (random, or from `rootKeySeed`), a fresh intermediate signed by it,
 * and device certificates issued by the intermediate.
 */
export async function createSimulatedManufacturer(init: SimulatedManufacturerInit): Promise<SimulatedManufacturer> {
  if (init.rootDer !== undefined && init.rootKeySeed === undefined)
    throw new DeviceError('DEVICE_CONFIG', 'a simulated manufacturer given a root certificate needs its rootKeySeed')
  const { notBefore, notAfter } = validityOf(init.nowMs)
  const rootKeys = await rootKeysOf(init.rootKeySeed)
  const rootDer = init.rootDer ?? (await rootCertificate(init.manufacturerId, init.nowMs, rootKeys))
  const intermediateKeys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair
  const rootName = `CN=${init.manufacturerId} Root`
  const intermediateName = `CN=${init.manufacturerId} Intermediate`
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
  const intermediateDer = new Uint8Array(intermediate.rawData)
  return {
    registry: { manufacturerId: init.manufacturerId, rootCertificatesDer: [rootDer], revokedFingerprintsSha256: [], revokedSerials: [] },
    rootDer,
    intermediateDer,
    async issueDeviceCertificate(publicKey, serialNumber) {
      const deviceKey: CryptoKey = await webcrypto.subtle.importKey('spki', spkiOf(publicKey), alg, true, ['verify'])
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
