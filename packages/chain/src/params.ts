import { t, type Infer } from '@terrane/codec'

/**
 * Chain parameters: fixed at genesis (changeable only by a future governance
 * module). Amounts are bigint micro-TRN (1 TRN = 1,000,000 micro); shares of a
 * whole are basis points (bps, 10,000 = 100%); durations are in blocks.
 */
export const paramsSchema = t.struct({
  /** Flat minimum fee per transaction. */
  txFeeMinMicro: t.u64(),
  /** Fee per byte of the encoded transaction, added to the minimum. */
  txFeePerByteMicro: t.u64(),
  /** Share of collected fees burned; the rest goes to the validators' reward pool. */
  feeBurnBps: t.uint({ max: 10_000 }),
  /** Blocks per epoch: the active set and the DePIN emission change at epoch boundaries. */
  epochBlocks: t.uint({ max: 1_000_000 }),
  /** Size of the active validator set. */
  validatorsActiveMax: t.uint({ max: 1000 }),
  /** Blocks an undelegation (and a redelegation's slashable window) lasts. */
  unbondingBlocks: t.uint(),
  /** Unbonding or redelegation entries per (delegator, validator) pair. */
  unbondingEntriesMax: t.uint({ max: 100 }),
  /** Micro-TRN of stake per unit of voting power. */
  powerReductionMicro: t.u64(),
  /** Cap on one validator's share of total voting power (must stay below a third). */
  powerCapBps: t.uint({ max: 3333 }),
  /** Minimum self-stake of a validator. */
  selfStakeMinMicro: t.u64(),
  /** Sliding window of blocks for downtime. */
  signedBlocksWindow: t.uint({ max: 100_000 }),
  /** A validator must sign at least this share of the window. */
  minSignedBps: t.uint({ max: 10_000 }),
  /** Blocks a validator stays jailed for downtime. */
  downtimeJailBlocks: t.uint(),
  slashDoubleSignBps: t.uint({ max: 10_000 }),
  slashDowntimeBps: t.uint({ max: 10_000 }),
  /** Misbehaviour older than this many blocks is ignored. */
  evidenceAgeBlocksMax: t.uint(),
  /** New tokens issued per block to validators and delegators. */
  blockRewardMicro: t.u64(),
  /** Share of a block's rewards given to its proposer on top of its voting-power share. */
  proposerBonusBps: t.uint({ max: 10_000 }),
  /** New tokens minted per epoch into the DePIN emission pool, paid out by emission sinks. */
  emissionPerEpochMicro: t.u64(),
})

export type ChainParams = Infer<typeof paramsSchema>

/** Defaults, with their source. Cosmos SDK durations converted at one block per second. */
export const defaultParams: ChainParams = {
  txFeeMinMicro: 1_000n, // Terrane: 0.001 TRN
  txFeePerByteMicro: 0n, // Terrane: flat fee until gas metering lands
  feeBurnBps: 0, // Cosmos SDK: fees all go to validators and delegators
  epochBlocks: 100, // Terrane: about 100 s at 1 s blocks
  validatorsActiveMax: 100, // Cosmos SDK x/staking MaxValidators
  unbondingBlocks: 1_814_400, // Cosmos SDK x/staking UnbondingTime 21 days
  unbondingEntriesMax: 7, // Cosmos SDK x/staking MaxEntries
  powerReductionMicro: 1_000_000n, // Cosmos SDK DefaultPowerReduction 10^6
  powerCapBps: 3_000, // Terrane: 30%, below the blocking third
  selfStakeMinMicro: 1_000_000n, // Terrane: 1 TRN (Cosmos SDK: MinSelfDelegation >= 1)
  signedBlocksWindow: 100, // Cosmos SDK x/slashing SignedBlocksWindow
  minSignedBps: 5_000, // Cosmos SDK x/slashing MinSignedPerWindow 0.5
  downtimeJailBlocks: 600, // Cosmos SDK x/slashing DowntimeJailDuration 10 min
  slashDoubleSignBps: 500, // Cosmos SDK x/slashing SlashFractionDoubleSign 0.05
  slashDowntimeBps: 100, // Cosmos SDK x/slashing SlashFractionDowntime 0.01
  evidenceAgeBlocksMax: 100_000, // Cosmos SDK / CometBFT MaxAgeNumBlocks
  blockRewardMicro: 1_000_000n, // Terrane: 1 TRN per block
  proposerBonusBps: 500, // Cosmos SDK x/distribution: base 1% + bonus 4%
  emissionPerEpochMicro: 0n, // Terrane: set by the network's tokenomics
}
