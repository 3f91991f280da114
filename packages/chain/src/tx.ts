import { CodecError, decode, encode, sha256, t, type Infer, type Schema } from '@terrane/codec'
import { isValidPublicKey, signInDomain, type Signer } from '@terrane/crypto'
import { ChainError } from './errors.ts'
import { messagesPerTxMax, multisigConfigSchema, multisigKeysMax, txBytesMax, type MultisigConfig } from './schemas.ts'

/** A message on the wire: `{ type: '<module>/<name>', ...fields }`. */
export interface Msg {
  type: string
  [field: string]: unknown
}

export const txSignatureSchema = t.struct({ publicKey: t.bytes({ length: 32 }), signature: t.bytes({ length: 64 }) })
export type TxSignature = Infer<typeof txSignatureSchema>

/**
 * The signed envelope. `body` holds the canonical bytes of the TxBody, so the
 * signed bytes are exactly the bytes carried (as Cosmos TxRaw's body_bytes):
 * no re-encoding on verification. `multisig` reveals the config of a multisig
 * sender the chain has not seen yet.
 */
export const txEnvelopeSchema = t.struct({
  body: t.bytes({ lengthMax: txBytesMax }),
  signatures: t.array(txSignatureSchema, { lengthMin: 1, lengthMax: multisigKeysMax }),
  multisig: t.optional(multisigConfigSchema),
})
export type TxEnvelope = Infer<typeof txEnvelopeSchema>

export interface TxBody {
  chainId: string
  /** 20-byte account id of the sender (single key or multisig). */
  sender: Uint8Array
  /** Exactly the sender's next nonce (its count of included transactions). */
  nonce: number
  feeMicro: bigint
  /** Last height at which the transaction may be included; 0 = never expires. */
  expiryHeight: number
  messages: Msg[]
}

/** Message schemas by wire type, from the registered modules. */
export type MessageRegistry = ReadonlyMap<string, Schema<Record<string, unknown>>>

/** A message schema that dispatches on `type` and raises CHAIN_UNKNOWN_MESSAGE for types no module registered. */
export function messageSchema(registry: MessageRegistry): Schema<Msg> {
  return {
    description: 'message',
    parse(value: unknown, path = ''): Msg {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
        throw new CodecError('CODEC_SCHEMA', 'expected a message struct', path)
      const { type, ...rest } = value as Record<string, unknown>
      if (typeof type !== 'string') throw new CodecError('CODEC_SCHEMA', 'message type must be a string', `${path}.type`)
      const schema = registry.get(type)
      if (schema === undefined)
        throw new ChainError('CHAIN_UNKNOWN_MESSAGE', `no module handles message type ${JSON.stringify(type.slice(0, 64))}`, path)
      return { type, ...schema.parse(rest, path) }
    },
  }
}

export function txBodySchema(registry: MessageRegistry): Schema<TxBody> {
  return t.struct({
    chainId: t.string({ bytesMax: 64 }),
    sender: t.bytes({ length: 20 }),
    nonce: t.uint(),
    feeMicro: t.u64(),
    expiryHeight: t.uint(),
    messages: t.array(messageSchema(registry), { lengthMin: 1, lengthMax: messagesPerTxMax }),
  })
}

export interface DecodedTx {
  envelope: TxEnvelope
  body: TxBody
  /** SHA-256 of the transaction bytes. */
  hash: Uint8Array
  bytesLength: number
}

/**
 * Decodes untrusted transaction bytes: size, canonical envelope and body, known
 * message types. Throws ChainError (CHAIN_TX_TOO_LARGE, CHAIN_BAD_ENCODING,
 * CHAIN_UNKNOWN_MESSAGE, CHAIN_BAD_MULTISIG).
 */
export function decodeTx(bytes: Uint8Array, bodySchema: Schema<TxBody>): DecodedTx {
  if (bytes.length > txBytesMax) throw new ChainError('CHAIN_TX_TOO_LARGE', `transaction of ${bytes.length} bytes exceeds ${txBytesMax}`)
  try {
    const envelope = decode(txEnvelopeSchema, bytes, { bytesMax: txBytesMax })
    const body = decode(bodySchema, envelope.body, { bytesMax: txBytesMax })
    if (envelope.multisig !== undefined) checkMultisigConfig(envelope.multisig, 'multisig')
    return { envelope, body, hash: sha256(bytes), bytesLength: bytes.length }
  } catch (err) {
    if (err instanceof ChainError) throw err
    if (err instanceof CodecError) throw new ChainError('CHAIN_BAD_ENCODING', err.message)
    throw err
  }
}

/** Checks a multisig config: keys valid, strictly ascending (so one config has one address), threshold reachable. */
export function checkMultisigConfig(config: MultisigConfig, path = ''): void {
  if (config.threshold < 1) throw new ChainError('CHAIN_BAD_MULTISIG', 'threshold must be at least 1', path)
  let total = 0
  let previous: Uint8Array | undefined
  config.keys.forEach((k, i) => {
    if (!isValidPublicKey(k.publicKey)) throw new ChainError('CHAIN_BAD_MULTISIG', 'invalid public key', `${path}.keys[${i}]`)
    if (k.weight < 1) throw new ChainError('CHAIN_BAD_MULTISIG', 'weight must be at least 1', `${path}.keys[${i}]`)
    if (previous !== undefined && Buffer.compare(previous, k.publicKey) >= 0)
      throw new ChainError('CHAIN_BAD_MULTISIG', 'keys must be strictly ascending', `${path}.keys[${i}]`)
    previous = k.publicKey
    total += k.weight
  })
  if (total < config.threshold)
    throw new ChainError('CHAIN_BAD_MULTISIG', `weights sum to ${total}, below threshold ${config.threshold}`, path)
}

const multisigDomain = new TextEncoder().encode('terrane/multisig/v1')

/** The 20-byte address of a multisig account: SHA-256("terrane/multisig/v1" || canonical config), first 20 bytes. */
export function multisigAddress(config: MultisigConfig): Uint8Array {
  checkMultisigConfig(config)
  return sha256(multisigDomain, encode(multisigConfigSchema, config)).slice(0, 20)
}

/** Sorts keys as the chain requires (helper for building configs). */
export function multisigConfig(threshold: number, keys: Array<{ publicKey: Uint8Array; weight: number }>): MultisigConfig {
  return { threshold, keys: [...keys].sort((a, b) => Buffer.compare(a.publicKey, b.publicKey)) }
}

export interface SignTxInit {
  /** Reveal a multisig config (required on a multisig account's first transaction). */
  multisig?: MultisigConfig
}

/**
 * Signs a body with one signer (single-key sender) or several (multisig) and
 * returns the transaction bytes. The signed bytes are the domain message
 * ({chainId, kind: 'tx'}) over the canonical body.
 */
export function signTx(bodySchema: Schema<TxBody>, body: TxBody, signers: readonly Signer[], init: SignTxInit = {}): Uint8Array {
  const bodyBytes = encode(bodySchema, body)
  const signatures = signers.map((s) => ({
    publicKey: s.publicKey,
    signature: signInDomain(s, { chainId: body.chainId, kind: 'tx' }, bodyBytes),
  }))
  const envelope: TxEnvelope = { body: bodyBytes, signatures }
  if (init.multisig !== undefined) envelope.multisig = init.multisig
  return encode(txEnvelopeSchema, envelope)
}
