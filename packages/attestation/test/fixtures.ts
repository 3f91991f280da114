// Certificates made by the test itself: a manufacturer root, intermediates and device
// certificates with every field under the test's control.
import { webcrypto } from 'node:crypto'
type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
import { x509 } from '../src/x509/peculiar.ts'

export const ecAlg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
export const day = 86_400_000
export const t0 = Date.UTC(2026, 0, 1)

export type { CryptoKey, CryptoKeyPair }

export interface Party {
  name: string
  keys: CryptoKeyPair
  der: Uint8Array
}

export async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as CryptoKeyPair
}

export interface IssueInit {
  name: string
  issuer?: Party // self-signed when absent
  keys?: CryptoKeyPair
  publicKey?: CryptoKey // certify a different key than keys.publicKey
  isCa?: boolean
  hasBasicConstraints?: boolean
  pathLength?: number
  keyUsage?: number // absent: CA -> keyCertSign|cRLSign, leaf -> digitalSignature; 0 -> no extension
  notBeforeMs?: number
  notAfterMs?: number
  serial?: string
}

let serialCounter = 1

export async function issue(init: IssueInit): Promise<Party> {
  const keys = init.keys ?? (await newKeys())
  const isCa = init.isCa ?? false
  const usage = init.keyUsage ?? (isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature)
  const extensions: x509.Extension[] = []
  if (init.hasBasicConstraints ?? true) extensions.push(new x509.BasicConstraintsExtension(isCa, init.pathLength, true))
  if (usage !== 0) extensions.push(new x509.KeyUsagesExtension(usage, true))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: init.serial ?? (serialCounter++).toString(16).padStart(4, '0'),
    subject: `CN=${init.name}`,
    issuer: init.issuer === undefined ? `CN=${init.name}` : `CN=${init.issuer.name}`,
    notBefore: new Date(init.notBeforeMs ?? t0 - 30 * day),
    notAfter: new Date(init.notAfterMs ?? t0 + 365 * day),
    signingAlgorithm: ecAlg,
    publicKey: init.publicKey ?? keys.publicKey,
    signingKey: init.issuer === undefined ? keys.privateKey : init.issuer.keys.privateKey,
    extensions,
  })
  return { name: init.name, keys, der: new Uint8Array(cert.rawData) }
}

export async function rawPublicKey(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey('raw', key))
}

export async function signP1363(key: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.sign(ecAlg, key, message))
}

/** A manufacturer root, one intermediate and a device under it. */
export async function makePki(prefix = 'Acme') {
  const root = await issue({ name: `${prefix} Root`, isCa: true, pathLength: 1 })
  const intermediate = await issue({ name: `${prefix} Intermediate`, issuer: root, isCa: true, pathLength: 0 })
  const device = await issue({ name: `${prefix} Device 1`, issuer: intermediate })
  return { root, intermediate, device }
}
