import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { encodeChallenge, deviceIdFromPublicKey, type Challenge } from '@terrane/attestation'
import { DeviceError } from './errors.ts'

/** X.509 evidence: the fields of @terrane/attestation's `X509Attestation`. */
export interface X509Evidence {
  kind: 'x509'
  /** Device certificate first, then the manufacturer's intermediates. */
  certificateChainDer: Uint8Array[]
  /** SEC1 P-256 point the certificate is for. */
  publicKey: Uint8Array
  /** `encodeChallenge(challenge)` bytes that were signed. */
  challenge: Uint8Array
  /** ECDSA P-256 / SHA-256 over `challenge`, IEEE P1363. */
  challengeSignature: Uint8Array
}

export type AttestationEvidence = X509Evidence

/**
 * Where the device key lives. The key never leaves it: callers get the public key, signatures
 * and attestation evidence. Implementations: software key file (below); hardware ones (TPM,
 * ATECC608 through PKCS#11) implement the same interface and run the same compliance suite.
 */
export interface SecureElement {
  /** 65-byte uncompressed SEC1 P-256 public key. */
  readonly publicKey: Uint8Array
  /** `deviceIdFromPublicKey(publicKey)`. */
  readonly deviceId: string
  /** ECDSA P-256 / SHA-256 over `bytes`, 64-byte IEEE P1363 r || s. */
  sign(bytes: Uint8Array): Promise<Uint8Array>
  /** Signs a verifier's challenge and returns the evidence that proves key and provenance. */
  attest(challenge: Challenge): Promise<AttestationEvidence>
}

function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  // RFC 5480: the last 65 bytes of a P-256 SubjectPublicKeyInfo are the uncompressed point.
  return Uint8Array.from(spki.subarray(spki.length - 65))
}

export interface SoftwareSecureElementInit {
  /** Device certificate chain (leaf first, DER) provisioned by the manufacturer; attest() needs it. */
  certificateChainDer?: Uint8Array[]
}

/** A P-256 key held in process memory (a key file, or a seeded key in the simulator). */
export class SoftwareSecureElement implements SecureElement {
  readonly publicKey: Uint8Array
  readonly deviceId: string
  readonly #privateKey: KeyObject
  readonly #chain: Uint8Array[] | undefined

  constructor(privateKey: KeyObject, init: SoftwareSecureElementInit = {}) {
    if (
      privateKey.type !== 'private' ||
      privateKey.asymmetricKeyType !== 'ec' ||
      privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    )
      throw new DeviceError('DEVICE_KEY_FILE', 'the device key must be a P-256 private key')
    this.#privateKey = privateKey
    this.publicKey = rawPublicKey(privateKey)
    this.deviceId = deviceIdFromPublicKey(this.publicKey)
    this.#chain = init.certificateChainDer
  }

  /** Synchronous signature (the simulator and benchmarks sign many reports in a loop). */
  signSync(bytes: Uint8Array): Uint8Array {
    const sig = sign('sha256', bytes, { key: this.#privateKey, dsaEncoding: 'ieee-p1363' })
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength)
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    return this.signSync(bytes)
  }

  async attest(challenge: Challenge): Promise<X509Evidence> {
    if (this.#chain === undefined) throw new DeviceError('DEVICE_NO_ATTESTATION', 'no certificate chain was provisioned')
    const bytes = encodeChallenge(challenge)
    return {
      kind: 'x509',
      certificateChainDer: this.#chain.map((c) => Uint8Array.from(c)),
      publicKey: Uint8Array.from(this.publicKey),
      challenge: bytes,
      challengeSignature: this.signSync(bytes),
    }
  }

  /** The provisioned certificate chain as PEM (for a TLS client certificate connection). */
  certificateChainPem(): string {
    if (this.#chain === undefined) throw new DeviceError('DEVICE_NO_ATTESTATION', 'no certificate chain was provisioned')
    return this.#chain.map(certificatePem).join('')
  }

  /** PKCS#8 PEM of the key, for a TLS client certificate connection (software keys only). */
  tlsKeyPem(): string {
    return this.#privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  }
}

/**
 * Loads the device key from `keyFile` (PKCS#8 PEM, P-256), creating it with mode 0600 if it does
 * not exist. Refuses a key file that group or others can read.
 */
export async function loadOrCreateKeyFile(keyFile: string, init: SoftwareSecureElementInit = {}): Promise<SoftwareSecureElement> {
  let pem: string
  try {
    const info = await stat(keyFile)
    if ((info.mode & 0o077) !== 0) throw new DeviceError('DEVICE_KEY_FILE', `${keyFile} is readable by group or others: chmod 600 it`)
    pem = await readFile(keyFile, 'utf8')
  } catch (err) {
    if (err instanceof DeviceError) throw err
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DeviceError('DEVICE_KEY_FILE', `cannot read ${keyFile}`, { cause: err })
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const tmp = `${keyFile}.tmp-${process.pid}`
    await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' })
    await chmod(tmp, 0o600)
    await rename(tmp, keyFile)
  }
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch (err) {
    throw new DeviceError('DEVICE_KEY_FILE', `${keyFile} is not a PKCS#8 PEM private key`, { cause: err })
  }
  return new SoftwareSecureElement(key, init)
}

/** PEM text of one DER certificate (RFC 7468). */
export function certificatePem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`
}
