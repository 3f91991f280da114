// Certificates issued by the test itself: a manufacturer root, an intermediate and device
// certificates for seeded device keys, plus the broker's own server certificate.
import '@terrane/attestation' // loads the Reflect metadata polyfill @peculiar/x509 needs
import { webcrypto, type KeyObject } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { ManufacturerRegistry } from '@terrane/attestation'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey
interface Keys {
  privateKey: CryptoKey
  publicKey: CryptoKey
}
export interface Party {
  name: string
  keys: Keys
  der: Uint8Array
  pem: string
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const dayMs = 86_400_000
let serial = 1

async function newKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as Keys
}

/** Imports a node:crypto P-256 private key (a seeded device key) as a WebCrypto pair. */
export async function keysOf(privateKey: KeyObject): Promise<Keys> {
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
  const { createPublicKey } = await import('node:crypto')
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify']),
  }
}

export interface IssueInit {
  name: string
  issuer?: Party
  keys?: Keys
  isCa?: boolean
  notBeforeMs: number
  notAfterMs: number
  altNames?: string[]
}

export async function issue(init: IssueInit): Promise<Party> {
  const keys = init.keys ?? (await newKeys())
  const isCa = init.isCa ?? false
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, isCa ? 1 : undefined, true),
    new x509.KeyUsagesExtension(
      isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
  ]
  if (init.altNames !== undefined)
    extensions.push(new x509.SubjectAlternativeNameExtension(init.altNames.map((value) => ({ type: 'ip', value }))))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject: `CN=${init.name}`,
    issuer: `CN=${init.issuer?.name ?? init.name}`,
    notBefore: new Date(init.notBeforeMs),
    notAfter: new Date(init.notAfterMs),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: init.issuer?.keys.privateKey ?? keys.privateKey,
    extensions,
  })
  return { name: init.name, keys, der: new Uint8Array(cert.rawData), pem: `${cert.toString('pem').trim()}\n` }
}

export async function privateKeyPem(keys: Keys): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`
}

/** A manufacturer (root + intermediate) and a TLS server certificate for 127.0.0.1, valid around `nowMs`. */
export async function makePki(nowMs: number) {
  const window = { notBeforeMs: nowMs - 30 * dayMs, notAfterMs: nowMs + 365 * dayMs }
  const root = await issue({ name: 'Acme Root', isCa: true, ...window })
  const intermediate = await issue({ name: 'Acme Intermediate', issuer: root, isCa: true, ...window })
  const serverCa = await issue({ name: 'Ingest CA', isCa: true, ...window })
  const server = await issue({ name: 'ingest', issuer: serverCa, altNames: ['127.0.0.1'], ...window })
  const manufacturer: ManufacturerRegistry = {
    manufacturerId: 'acme',
    rootCertificatesDer: [root.der],
    revokedFingerprintsSha256: [],
    revokedSerials: [],
  }
  return { root, intermediate, serverCa, server, serverKeyPem: await privateKeyPem(server.keys), manufacturer, window }
}
