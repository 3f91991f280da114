import { CryptoError } from './errors.ts'
import { verifySignature, type Signer } from './ed25519.ts'

/**
 * What a signature is for. Every signed payload is prefixed with the chain id
 * and the message kind, so a vote cannot be replayed as a transaction, nor a
 * testnet transaction on mainnet.
 */
export interface SigningDomain {
  chainId: string
  /** e.g. 'tx', 'vote', 'proposal', 'evidence', 'voucher', 'receipt'. */
  kind: string
}

const tag = new TextEncoder().encode('TERRANE-SIG-V1\0')
const utf8 = new TextEncoder()
/** Bound on chain id and kind lengths (one length byte each). */
export const domainFieldBytesMax = 64

function field(value: string, name: string): Uint8Array {
  const bytes = utf8.encode(value)
  if (bytes.length === 0 || bytes.length > domainFieldBytesMax) {
    throw new CryptoError('CRYPTO_BAD_KEY', `signing domain ${name} must be 1..${domainFieldBytesMax} bytes`)
  }
  return bytes
}

/** The exact bytes that are signed: tag || len(chainId) || chainId || len(kind) || kind || payload. */
export function domainMessage(domain: SigningDomain, payload: Uint8Array): Uint8Array {
  const chainId = field(domain.chainId, 'chainId')
  const kind = field(domain.kind, 'kind')
  const out = new Uint8Array(tag.length + 2 + chainId.length + kind.length + payload.length)
  let at = 0
  out.set(tag, at)
  at += tag.length
  out[at++] = chainId.length
  out.set(chainId, at)
  at += chainId.length
  out[at++] = kind.length
  out.set(kind, at)
  at += kind.length
  out.set(payload, at)
  return out
}

export function signInDomain(signer: Signer, domain: SigningDomain, payload: Uint8Array): Uint8Array {
  return signer.sign(domainMessage(domain, payload))
}

export function verifyInDomain(publicKey: Uint8Array, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): boolean {
  return verifySignature(publicKey, domainMessage(domain, payload), signature)
}
