import { t, type Infer } from '@terrane/codec'

const address = t.bytes({ length: 20 })
const bps = t.uint({ max: 10_000 })

/** Module parameters (genesis `modules.agreements`). */
export const agreementsParamsSchema = t.struct({
  /** Minimum stake of a registered prober. */
  proberBondMinMicro: t.u64(),
  /** Share of a prober's bond slashed when it is caught signing two different figures. */
  proberSlashBps: bps,
  /** Epochs after an epoch is settled during which either party may dispute it. */
  disputeWindowEpochs: t.uint({ max: 1_000 }),
  /** Longest agreement. */
  durationEpochsMax: t.uint(),
  /** Probers whose figures count per agreement per epoch (the median is used). */
  probersPerFiguresMax: t.int({ min: 1, max: 16 }),
  /** Terms above this bandwidth are impossible (no device class reaches it). */
  bandwidthKbpsCeiling: t.uint(),
  /** Terms below this p95 latency are impossible. */
  latencyMsFloor: t.uint(),
  /**
   * Bound on the index entries (active agreements) one block visits while settling an epoch: an epoch
   * settles in slices over the blocks from its boundary on (see the README, "Settlement in slices").
   */
  settleSliceMax: t.int({ min: 1, max: 1_000_000 }),
})
export type AgreementsParams = Infer<typeof agreementsParamsSchema>

export const defaultAgreementsParams: AgreementsParams = {
  proberBondMinMicro: 100_000_000n, // Terrane: 100 TRN
  proberSlashBps: 5_000, // Terrane: half the bond for provable equivocation
  disputeWindowEpochs: 2,
  durationEpochsMax: 100_000,
  probersPerFiguresMax: 5,
  bandwidthKbpsCeiling: 10_000_000, // 10 Gbps: the service-node class ceiling in @terrane/service
  latencyMsFloor: 1,
  // Terrane: median 9-11 ms, worst 34-43 ms of CPU per block on the shared 2-core machine (bench/settlement.bench.ts)
  settleSliceMax: 2_000,
}

export const agreementStatuses = ['pending', 'active', 'ended', 'cancelled', 'breached'] as const
export type AgreementStatus = (typeof agreementStatuses)[number]

export const settlementOutcomes = ['met', 'breached', 'no-data'] as const
export type SettlementOutcome = (typeof settlementOutcomes)[number]

export const slaTermsSchema = t.struct({
  /** Uptime at least this share of the epoch, basis points. */
  uptimeBpsMin: bps,
  /** p95 latency at most this. */
  latencyP95MsMax: t.uint(),
  /** Median bandwidth at least this (0: no bandwidth term). */
  bandwidthKbpsMin: t.uint(),
})
export type SlaTerms = Infer<typeof slaTermsSchema>

/** What the parties agreed: written once at open, never changed. */
export const agreementTermsSchema = t.struct({
  id: t.uint(),
  customer: address,
  provider: address,
  service: t.string({ bytesMax: 64 }),
  pricePerEpochMicro: t.u64(),
  durationEpochs: t.uint(),
  terms: slaTermsSchema,
  /** Share of the initial bond forfeited to the customer per breached epoch. */
  penaltyBps: bps,
  /** Consecutive breached epochs that end the agreement. */
  breachesMax: t.int({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  /** Bond the provider locks on accepting. */
  bondInitialMicro: t.u64(),
  openedHeight: t.uint(),
})
export type AgreementTerms = Infer<typeof agreementTermsSchema>

/**
 * What settlement changes, kept apart from the terms so an epoch boundary rewrites a small record
 * per agreement. Per-epoch detail (figures, outcomes, amounts) is in the `agreement-settled` events.
 */
export const agreementStateSchema = t.struct({
  status: t.enumOf(agreementStatuses),
  /** Customer escrow not yet paid or refunded. */
  escrowMicro: t.u64(),
  /** Provider bond not yet slashed or returned. */
  bondMicro: t.u64(),
  /** First covered epoch (0 while pending). */
  startEpoch: t.uint(),
  /** First epoch not covered (start + duration, earlier after a cancellation). */
  endEpoch: t.uint(),
  consecutiveBreaches: t.uint(),
  epochsMet: t.uint(),
  epochsBreached: t.uint(),
  epochsNoData: t.uint(),
  /** 0 until the first settlement. */
  lastSettledEpoch: t.uint(),
})
export type AgreementState = Infer<typeof agreementStateSchema>

/** An agreement as queried: its terms and its state. */
export type Agreement = AgreementTerms & AgreementState

export const figuresSchema = t.struct({
  uptimeBps: bps,
  latencyP95Ms: t.uint(),
  bandwidthKbps: t.uint(),
})
export type Figures = Infer<typeof figuresSchema>

export const figuresEntrySchema = t.struct({ agreementId: t.uint(), ...figuresSchema.shape })

/** Submissions for one agreement and epoch, one per prober (a ring slot: `epoch` says which epoch it holds). */
export const figuresRecordSchema = t.struct({
  epoch: t.uint(),
  submissions: t.array(t.struct({ prober: address, ...figuresSchema.shape }), { lengthMax: 16 }),
})
export type FiguresRecord = Infer<typeof figuresRecordSchema>

export const proberSchema = t.struct({
  publicKey: t.bytes({ length: 32 }),
  bondMicro: t.u64(),
  isActive: t.bool(),
  /** 0 while active; the epoch from which an unregistered prober may withdraw its bond. */
  releaseEpoch: t.uint(),
})
export type ProberRecord = Infer<typeof proberSchema>

/** SLA figures a prober signs off chain for one agreement and epoch (dispute evidence). */
export const signedFiguresSchema = t.struct({
  agreementId: t.uint(),
  epoch: t.uint(),
  ...figuresSchema.shape,
  proberKey: t.bytes({ length: 32 }),
  signature: t.bytes({ length: 64 }),
})
export type SignedFigures = Infer<typeof signedFiguresSchema>

/** Figures per submission transaction (about 60 bytes each: 200 fit the chain's 16 KiB transaction limit). */
export const figuresPerSubmissionMax = 200

export const agreementsMessages = {
  open: t.struct({
    provider: address,
    service: t.string({ bytesMax: 64 }),
    pricePerEpochMicro: t.u64(),
    durationEpochs: t.uint(),
    terms: slaTermsSchema,
    penaltyBps: bps,
    breachesMax: t.uint(),
    bondMicro: t.u64(),
  }),
  accept: t.struct({ agreementId: t.uint() }),
  cancel: t.struct({ agreementId: t.uint() }),
  'register-prober': t.struct({ publicKey: t.bytes({ length: 32 }), bondMicro: t.u64() }),
  'unregister-prober': t.struct({}),
  'withdraw-prober-bond': t.struct({}),
  'submit-figures': t.struct({
    epoch: t.uint(),
    figures: t.array(figuresEntrySchema, { lengthMin: 1, lengthMax: figuresPerSubmissionMax }),
  }),
  dispute: t.struct({ agreementId: t.uint(), epoch: t.uint(), evidence: signedFiguresSchema }),
} as const
