import { encodeChallenge, deviceIdFromPublicKey, AttestationError, type Challenge, type TpmKeyCertification } from '@terrane/attestation'
import { TpmTools, type TpmToolsInit } from '@terrane/attestation/tpm'
import { DeviceError } from './errors.ts'
import { certificatePem, type SecureElement, type X509Evidence } from './secure-element.ts'

export interface TpmSecureElementInit extends TpmToolsInit {
  /**
   * Create the report-signing key if the TPM has none at `signingKeyHandle`. Off, a device whose
   * key is missing fails instead of silently getting a new identity. @default true
   */
  createIfMissing?: boolean
  /** An X.509 device certificate chain for the TPM key, if the manufacturer issued one (attest() needs it). */
  certificateChainDer?: Uint8Array[]
}

/**
 * The device key in a TPM 2.0 (through tpm2-tools): an unrestricted P-256 signing key generated
 * inside the TPM (fixedTPM, fixedParent, sensitiveDataOrigin) and persistent, so the private key
 * never exists outside it. The TPM's attestation key (AK) cannot sign report bytes (it is
 * restricted), so it certifies this key instead (`certifyKey`): the verifier checks the AK with
 * the EK certificate and credential activation (@terrane/attestation `verifyTpmAttestation`),
 * then this key with `verifyTpmKeyCertification`, then every report with the key.
 *
 * TPM commands run one at a time (a TPM without a resource manager holds few objects).
 *
 * @example
 * const se = await TpmSecureElement.open({ tcti: 'device:/dev/tpmrm0' })
 * const agent = deviceAgent(init)({ secureElement: se, sequence, clock })
 */
export class TpmSecureElement implements SecureElement {
  readonly publicKey: Uint8Array
  readonly deviceId: string
  /** TPM2B_PUBLIC of the key (what `certifyKey` names). */
  readonly keyPublic: Uint8Array
  readonly #tools: TpmTools
  readonly #chain: Uint8Array[] | undefined
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(tools: TpmTools, keyPublic: Uint8Array, publicKey: Uint8Array, chain: Uint8Array[] | undefined) {
    this.#tools = tools
    this.keyPublic = keyPublic
    this.publicKey = publicKey
    this.deviceId = deviceIdFromPublicKey(publicKey)
    this.#chain = chain
  }

  /** Opens the TPM's report-signing key, creating it on first use unless `createIfMissing` is false. */
  static async open(init: TpmSecureElementInit): Promise<TpmSecureElement> {
    const tools = new TpmTools(init)
    let key
    try {
      key = await tools.readSigningKey()
    } catch (err) {
      if (!(err instanceof AttestationError) || init.createIfMissing === false)
        throw new DeviceError('DEVICE_TPM', `no signing key at ${tools.signingKeyHandle}: ${(err as Error).message}`, { cause: err })
      try {
        key = await tools.createSigningKey()
      } catch (createErr) {
        throw new DeviceError('DEVICE_TPM', `cannot create the TPM signing key: ${(createErr as Error).message}`, { cause: createErr })
      }
    }
    return new TpmSecureElement(tools, key.keyPublic, key.publicKey, init.certificateChainDer)
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.#serial(() => this.#tools.sign(bytes))
    } catch (err) {
      throw new DeviceError('DEVICE_TPM', `TPM signing failed: ${(err as Error).message}`, { cause: err })
    }
  }

  /** TPM2_Certify of this key by the AK (at `akHandle`), for `verifyTpmKeyCertification`. */
  async certifyKey(akPublic: Uint8Array): Promise<TpmKeyCertification> {
    try {
      const certified = await this.#serial(() => this.#tools.certifySigningKey())
      return { akPublic: Uint8Array.from(akPublic), keyPublic: Uint8Array.from(this.keyPublic), ...certified }
    } catch (err) {
      throw new DeviceError('DEVICE_TPM', `TPM2_Certify failed: ${(err as Error).message}`, { cause: err })
    }
  }

  /** X.509 evidence, when the manufacturer issued a certificate for the TPM key. */
  async attest(challenge: Challenge): Promise<X509Evidence> {
    if (this.#chain === undefined)
      throw new DeviceError('DEVICE_NO_ATTESTATION', 'no certificate chain was provisioned: TPM devices attest with certifyKey')
    const bytes = encodeChallenge(challenge)
    return {
      kind: 'x509',
      certificateChainDer: this.#chain.map((c) => Uint8Array.from(c)),
      publicKey: Uint8Array.from(this.publicKey),
      challenge: bytes,
      challengeSignature: await this.sign(bytes),
    }
  }

  /** The provisioned certificate chain as PEM. */
  certificateChainPem(): string {
    if (this.#chain === undefined) throw new DeviceError('DEVICE_NO_ATTESTATION', 'no certificate chain was provisioned')
    return this.#chain.map(certificatePem).join('')
  }
}
