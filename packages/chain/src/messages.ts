import { t, type Infer, type Schema } from '@terrane/codec'
import { accountIdOfPublicKey, type Signer } from '@terrane/crypto'
import { signTx, txBodySchema, type MessageRegistry, type TxBody } from './tx.ts'

const address = t.bytes({ length: 20 })

/** Messages of the core modules, by module then name (wire type `module/name`). */
export const coreMessages = {
  bank: {
    send: t.struct({ to: address, amountMicro: t.u64() }),
  },
  staking: {
    'create-validator': t.struct({ consensusKey: t.bytes({ length: 32 }), commissionBps: t.uint(), selfStakeMicro: t.u64() }),
    'edit-validator': t.struct({ commissionBps: t.uint() }),
    delegate: t.struct({ validator: address, amountMicro: t.u64() }),
    undelegate: t.struct({ validator: address, amountMicro: t.u64() }),
    redelegate: t.struct({ source: address, destination: address, amountMicro: t.u64() }),
  },
  slashing: {
    unjail: t.struct({}),
  },
  distribution: {
    'withdraw-rewards': t.struct({ validator: address }),
    'withdraw-commission': t.struct({}),
  },
} as const

export type SendMsg = Infer<typeof coreMessages.bank.send>

/** Builds the wire-type registry from module message tables. */
export function messageRegistry(
  modules: ReadonlyArray<{ name: string; messages: Readonly<Record<string, Schema<unknown>>> }>,
): MessageRegistry {
  const registry = new Map<string, Schema<Record<string, unknown>>>()
  for (const m of modules)
    for (const [name, schema] of Object.entries(m.messages)) registry.set(`${m.name}/${name}`, schema as Schema<Record<string, unknown>>)
  return registry
}

/** The registry of the core modules only. */
export const coreMessageRegistry: MessageRegistry = messageRegistry(
  Object.entries(coreMessages).map(([name, messages]) => ({ name, messages })),
)

/** The TxBody schema of a chain with only the core modules (clients that send core messages). */
export const coreTxBodySchema: Schema<TxBody> = txBodySchema(coreMessageRegistry)

export interface TransferInit {
  chainId: string
  signer: Signer
  to: Uint8Array
  amountMicro: bigint
  nonce: number
  /** @default 1_000n (the default txFeeMinMicro) */
  feeMicro?: bigint
  /** @default 0 (never expires) */
  expiryHeight?: number
}

/** Builds and signs a single-key `bank/send` transaction. */
export function buildTransfer(init: TransferInit, bodySchema: Schema<TxBody> = coreTxBodySchema): Uint8Array {
  return signTx(
    bodySchema,
    {
      chainId: init.chainId,
      sender: accountIdOfPublicKey(init.signer.publicKey),
      nonce: init.nonce,
      feeMicro: init.feeMicro ?? 1_000n,
      expiryHeight: init.expiryHeight ?? 0,
      messages: [{ type: 'bank/send', to: init.to, amountMicro: init.amountMicro }],
    },
    [init.signer],
  )
}
