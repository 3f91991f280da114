import { t, type Infer } from '@terrane/codec'

/** Protocol constants (not parameters). */
/** Largest encoded transaction. CometBFT's default mempool max_tx_bytes is 1 MiB; ours are small. */
export const txBytesMax = 16 * 1024
/** Messages in one transaction. */
export const messagesPerTxMax = 32
/** Keys in one multisig account. */
export const multisigKeysMax = 16
/** Fixed-point scale of reward-per-share accumulators. */
export const rewardScale = 10n ** 18n

const address = t.bytes({ length: 20 })
const publicKey = t.bytes({ length: 32 })
/** A non-negative bigint too large for u64, kept as a decimal string. */
const bigDecimal = t.string({ bytesMax: 80, pattern: /^(0|[1-9][0-9]*)$/ })

export const multisigConfigSchema = t.struct({
  threshold: t.uint({ max: 1_000_000 }),
  keys: t.array(t.struct({ publicKey, weight: t.uint({ max: 1_000_000 }) }), { lengthMin: 1, lengthMax: multisigKeysMax }),
})
export type MultisigConfig = Infer<typeof multisigConfigSchema>

export const accountSchema = t.struct({
  nonce: t.uint(),
  balanceMicro: t.u64(),
  /** Set by the account's first transaction (single-key accounts). */
  publicKey: t.optional(publicKey),
  /** Set at genesis or by the first transaction (multisig accounts). */
  multisig: t.optional(multisigConfigSchema),
})
export type Account = Infer<typeof accountSchema>

export const supplySchema = t.struct({ totalMicro: t.u64(), mintedMicro: t.u64(), burnedMicro: t.u64() })
export type Supply = Infer<typeof supplySchema>

/** Tokens that are not in any account balance. */
export const poolsSchema = t.struct({
  /** Sum of validator tokens (delegated stake, bonded or not). */
  stakedMicro: t.u64(),
  /** Stake waiting out its unbonding period. */
  unbondingMicro: t.u64(),
  /** Rewards credited to validators and delegators, not yet withdrawn (plus rounding dust). */
  rewardsMicro: t.u64(),
  /** Rewards nobody earned (no signer) and rounding remainders. */
  communityMicro: t.u64(),
  /** DePIN emission not yet paid out by the sinks. */
  emissionMicro: t.u64(),
  /** Fees of the current block, distributed at its end (zero between blocks). */
  feesMicro: t.u64(),
})
export type Pools = Infer<typeof poolsSchema>

export const escrowSchema = t.struct({ balanceMicro: t.u64() })

export const metaSchema = t.struct({
  chainId: t.string({ bytesMax: 64 }),
  /** Last finalized height (0 after genesis). */
  height: t.uint(),
})

export const validatorSchema = t.struct({
  operator: address,
  consensusKey: publicKey,
  /** accountIdOfPublicKey(consensusKey): how consensus names this validator. */
  consensusAddress: address,
  commissionBps: t.uint({ max: 10_000 }),
  tokensMicro: t.u64(),
  shares: t.u64(),
  isJailed: t.bool(),
  jailedUntilHeight: t.uint(),
  isTombstoned: t.bool(),
  commissionPendingMicro: t.u64(),
  /** Cumulative rewards per share, scaled by rewardScale. */
  rewardPerShare: bigDecimal,
  createdHeight: t.uint(),
})
export type ValidatorRecord = Infer<typeof validatorSchema>

export const consensusIndexSchema = t.struct({ operator: address })

export const delegationSchema = t.struct({ shares: t.u64(), rewardPerShareStart: bigDecimal })
export type Delegation = Infer<typeof delegationSchema>

export const unbondingSchema = t.struct({
  entries: t.array(t.struct({ creationHeight: t.uint(), completionHeight: t.uint(), initialMicro: t.u64(), balanceMicro: t.u64() }), {
    lengthMax: 100,
  }),
})
export type Unbonding = Infer<typeof unbondingSchema>

export const redelegationSchema = t.struct({
  entries: t.array(t.struct({ creationHeight: t.uint(), completionHeight: t.uint(), initialMicro: t.u64(), sharesDst: t.u64() }), {
    lengthMax: 100,
  }),
})
export type Redelegation = Infer<typeof redelegationSchema>

/** Index records: the consensus path never depends on prefix iteration (the sparse-Merkle store hashes keys). */
export const addressListSchema = t.struct({ addresses: t.array(address) })
export const redelegationPairsSchema = t.struct({ pairs: t.array(t.struct({ delegator: address, destination: address })) })

export const unbondingQueueSchema = t.struct({ pairs: t.array(t.struct({ delegator: address, validator: address })) })
export const redelegationQueueSchema = t.struct({
  triples: t.array(t.struct({ delegator: address, source: address, destination: address })),
})

export const signingInfoSchema = t.struct({
  /** Height from which the window counts (reset on unjail). */
  startHeight: t.uint(),
  /** Blocks seen since startHeight. */
  indexOffset: t.uint(),
  /** One bit per block of the window: 1 = missed. */
  missedBitmap: t.bytes({ lengthMax: 12_500 }),
  missedCount: t.uint(),
})
export type SigningInfo = Infer<typeof signingInfoSchema>

export const activeSetSchema = t.struct({
  validators: t.array(t.struct({ operator: address, consensusKey: publicKey, power: t.uint() }), { lengthMax: 1000 }),
})
export type ActiveSet = Infer<typeof activeSetSchema>

export const validatorListSchema = t.struct({ operators: t.array(address) })
