import { bytesEqual, toHex } from '@terrane/codec'
import { signInDomain, verifyInDomain, type Signer, type SigningDomain } from '@terrane/crypto'
import { SdkError } from './errors.ts'

/** A threshold policy: any `threshold` of `publicKeys` must sign. */
export interface MultisigPolicy {
  publicKeys: Uint8Array[]
  threshold: number
}

/**
 * Collects signatures over one payload (canonical transaction body bytes) from
 * the members of a multisig policy, each checked on arrival. Members may sign on
 * different machines: pass `{ publicKey, signature }` around and `add` it.
 */
export class MultisigSession {
  private readonly signatures = new Map<string, Uint8Array>()
  constructor(
    readonly policy: MultisigPolicy,
    readonly domain: SigningDomain,
    readonly payload: Uint8Array,
  ) {
    if (!Number.isInteger(policy.threshold) || policy.threshold < 1 || policy.threshold > policy.publicKeys.length)
      throw new SdkError('SDK_MULTISIG', `threshold must be 1..${policy.publicKeys.length}`)
  }

  /** Signs with a local member's key and adds the signature. */
  sign(signer: Signer): Uint8Array {
    const signature = signInDomain(signer, this.domain, this.payload)
    this.add(signer.publicKey, signature)
    return signature
  }

  /** Adds a member's signature after checking membership and the signature itself. */
  add(publicKey: Uint8Array, signature: Uint8Array): void {
    if (!this.policy.publicKeys.some((k) => bytesEqual(k, publicKey)))
      throw new SdkError('SDK_MULTISIG', `key ${toHex(publicKey)} is not a member`)
    if (!verifyInDomain(publicKey, this.domain, this.payload, signature))
      throw new SdkError('SDK_MULTISIG', `bad signature from ${toHex(publicKey)}`)
    this.signatures.set(toHex(publicKey), signature)
  }

  get isComplete(): boolean {
    return this.signatures.size >= this.policy.threshold
  }

  /** Signatures in policy key order (the order a multisig transaction lists them), with member indexes. */
  collected(): { index: number; publicKey: Uint8Array; signature: Uint8Array }[] {
    const out: { index: number; publicKey: Uint8Array; signature: Uint8Array }[] = []
    this.policy.publicKeys.forEach((publicKey, index) => {
      const signature = this.signatures.get(toHex(publicKey))
      if (signature !== undefined) out.push({ index, publicKey, signature })
    })
    return out
  }
}
