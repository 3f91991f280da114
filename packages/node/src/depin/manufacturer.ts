// The devnet manufacturer: a root CA whose P-256 key derives from the devnet seed, registered in the
// devnet genesis, and an intermediate that issues simulated device certificates. Devnets only.
import '@terrane/attestation' // loads the Reflect metadata polyfill @peculiar/x509 needs first
import { webcrypto } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import * as x509 from '@peculiar/x509'
import { fromHex, toHex } from '@terrane/codec'
import type { SimulatedManufacturer } from '@terrane/device'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { DepinError } from './errors.ts'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const dayMs = 86_400_000
/** Certificates are valid from 30 days before genesis to 5 years after (as @terrane/device's simulated maker). */
const validityBeforeMs = 30 * dayMs
const validityAfterMs = 5 * 365 * dayMs
// DER SubjectPublicKeyInfo prefix for an uncompressed P-256 point (RFC 5480).
const spkiPrefix = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00,
])
const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign

/** The file a devnet node reads to run simulated devices: `<home>/keys/devnet_manufacturer.json`. */
export const manufacturerFileFormat = 'terrane-devnet-manufacturer'

export interface DevnetManufacturerFile {
  format: typeof manufacturerFileFormat
  manufacturerId: string
  /** Hex seed of the root key (deviceKeyFromSeed). */
  rootKeySeed: string
  rootCertificateDer: string
  genesisTimeMs: number
  /** The devnet seed: the simulator derives its faucets and device keys from it. */
  faucetSeed: string
}

async function importPrivate(seed: Uint8Array): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
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

/**
 * Creates the devnet root certificate. The key is a function of `rootKeySeed`; the certificate's
 * ECDSA signature is randomised by WebCrypto, so it is made once (at writeDevnet time) and kept.
 */
export async function createDevnetManufacturer(init: {
  manufacturerId: string
  rootKeySeed: Uint8Array
  genesisTimeMs: number
  devnetSeed: string
}): Promise<DevnetManufacturerFile> {
  const keys = await importPrivate(init.rootKeySeed)
  const name = `CN=${init.manufacturerId} Root`
  const root = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: name,
    issuer: name,
    notBefore: new Date(init.genesisTimeMs - validityBeforeMs),
    notAfter: new Date(init.genesisTimeMs + validityAfterMs),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(caUsage, true)],
  })
  return {
    format: manufacturerFileFormat,
    manufacturerId: init.manufacturerId,
    rootKeySeed: toHex(init.rootKeySeed),
    rootCertificateDer: toHex(new Uint8Array(root.rawData)),
    genesisTimeMs: init.genesisTimeMs,
    faucetSeed: init.devnetSeed,
  }
}

export async function writeManufacturerFile(path: string, file: DevnetManufacturerFile): Promise<void> {
  // Private, as the node's key files (mode 0600).
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
}

export async function readManufacturerFile(path: string): Promise<DevnetManufacturerFile> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new DepinError('DEPIN_MANUFACTURER_FILE', `cannot read ${path}: ${(err as Error).message}`)
  }
  const f = parsed as Partial<DevnetManufacturerFile>
  if (f.format !== manufacturerFileFormat || typeof f.rootKeySeed !== 'string' || typeof f.rootCertificateDer !== 'string')
    throw new DepinError('DEPIN_MANUFACTURER_FILE', `${path} is not a ${manufacturerFileFormat} file`)
  return f as DevnetManufacturerFile
}

/**
 * The issuing side of the devnet manufacturer: an intermediate (fresh per process, signed by the
 * devnet root) that issues device certificates, in @terrane/device's `SimulatedManufacturer` shape.
 */
export async function devnetManufacturerIssuer(file: DevnetManufacturerFile): Promise<SimulatedManufacturer> {
  const root = await importPrivate(fromHex(file.rootKeySeed))
  const rootDer = fromHex(file.rootCertificateDer)
  const rootName = `CN=${file.manufacturerId} Root`
  const intermediateName = `CN=${file.manufacturerId} Intermediate`
  const notBefore = new Date(file.genesisTimeMs - validityBeforeMs)
  const notAfter = new Date(file.genesisTimeMs + validityAfterMs)
  const intermediateKeys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: intermediateName,
    issuer: rootName,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    publicKey: intermediateKeys.publicKey,
    signingKey: root.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(caUsage, true)],
  })
  const intermediateDer = new Uint8Array(intermediate.rawData)
  return {
    registry: { manufacturerId: file.manufacturerId, rootCertificatesDer: [rootDer], revokedFingerprintsSha256: [], revokedSerials: [] },
    rootDer,
    intermediateDer,
    async issueDeviceCertificate(publicKey, serialNumber) {
      const deviceKey = await webcrypto.subtle.importKey('spki', spkiOf(publicKey), alg, true, ['verify'])
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (0x1000 + serialNumber).toString(16).padStart(6, '0'),
        subject: `CN=${file.manufacturerId} device ${serialNumber}`,
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
