import { t, type Infer } from '@terrane/codec'
import { payoutSchema } from '@terrane/verifier'

/** Payouts per `submit-payouts` chunk (about 220 bytes encoded: a chunk stays under the 16 KiB tx limit). */
export const payoutsPerChunkMax = 60
/** Chunks per epoch and uploader (so at most 60 x 12,500 = 750,000 payouts per epoch). */
export const chunksPerEpochMax = 12_500
/** Steps of the coverage-share schedule. */
export const scheduleStepsMax = 64
/** Appeal reviewer keys. */
export const reviewersMax = 64
/** Siblings of a Merkle proof (2^64 leaves). */
export const proofSiblingsMax = 64

const hash = t.bytes({ length: 32 })
const address = t.bytes({ length: 20 })

export const digestFields = {
  epoch: t.uint(),
  poolMicro: t.u64(),
  unallocatedMicro: t.u64(),
  acceptedReportsRoot: hash,
  verdictsRoot: hash,
  payoutsRoot: hash,
}

export const merkleProofSchema = t.struct({
  index: t.uint(),
  count: t.uint(),
  siblings: t.array(hash, { lengthMax: proofSiblingsMax }),
})

/** Messages of the module (wire type `coverage/<name>`). */
export const coverageMessages = {
  'register-verifier': t.struct({ bondMicro: t.u64() }),
  'unregister-verifier': t.struct({}),
  /** The epoch digest as @terrane/verifier's runEpoch computed it (epochDigestSchema fields). */
  'submit-digest': t.struct(digestFields),
  'submit-payouts': t.struct({
    epoch: t.uint(),
    chunkIndex: t.uint({ max: chunksPerEpochMax - 1 }),
    payouts: t.array(payoutSchema, { lengthMax: payoutsPerChunkMax }),
    isLast: t.bool(),
  }),
  'reset-payouts': t.struct({ epoch: t.uint() }),
  /** A reviewer's signed ruling (@terrane/verifier AppealRuling). */
  appeal: t.struct({
    deviceId: t.string({ bytesMax: 90 }),
    epoch: t.uint(),
    evidenceHash: hash,
    reviewerKey: t.bytes({ length: 32 }),
    signature: t.bytes({ length: 64 }),
  }),
  /** Fraud proof: the accused verifier's payout for a device differs from the agreed one. */
  'prove-wrong-payout': t.struct({
    epoch: t.uint(),
    verifier: address,
    claimed: payoutSchema,
    claimedProof: merkleProofSchema,
    agreed: payoutSchema,
    agreedProof: merkleProofSchema,
  }),
} as const

// ------------------------------------------------------------------ state

export const coverageParamsSchema = t.struct({
  /** Least bond of a verifier. */
  bondMinMicro: t.u64(),
  /** Share of the active verifiers' bond that must sign the same digest. */
  quorumBps: t.uint({ max: 10_000 }),
  /** A digest for epoch e is accepted while the chain epoch is in (e, e + submitWindowEpochs]. */
  submitWindowEpochs: t.uint(),
  /** Escrow entries older than this many epochs are forfeited. */
  escrowHoldEpochs: t.uint(),
  /** Share of the bond slashed for a proven wrong payout. */
  slashBps: t.uint({ max: 10_000 }),
  /** Share of the slashed amount paid to whoever proved it. */
  challengerRewardBps: t.uint({ max: 10_000 }),
  /** Epochs a leaving (or slashed) verifier's bond stays locked and slashable. */
  unbondingEpochs: t.uint(),
})
export type CoverageParamsOnChain = Infer<typeof coverageParamsSchema>

export const scheduleSchema = t.struct({
  steps: t.array(t.struct({ fromEpoch: t.uint(), shareBps: t.uint({ max: 10_000 }) }), { lengthMax: scheduleStepsMax }),
})
export type ShareStep = { fromEpoch: number; shareBps: number }

export const reviewersSchema = t.struct({ keys: t.array(t.bytes({ length: 32 }), { lengthMax: reviewersMax }) })

export const verifierSchema = t.struct({
  address,
  bondMicro: t.u64(),
  registeredHeight: t.uint(),
  /** Set when leaving or slashed: no longer in the quorum; the bond is returned at this epoch. */
  releaseEpoch: t.optional(t.uint()),
  isSlashed: t.bool(),
})
export type VerifierState = Infer<typeof verifierSchema>

export const submissionSchema = t.struct({
  ...digestFields,
  digestHash: hash,
  bondMicro: t.u64(),
  submittedHeight: t.uint(),
  isProvenWrong: t.bool(),
})
export type Submission = Infer<typeof submissionSchema>

export const epochSchema = t.struct({
  epoch: t.uint(),
  status: t.enumOf(['agreed', 'complete', 'paid'] as const),
  digestHash: hash,
  payoutsRoot: hash,
  agreedHeight: t.uint(),
  /** Who uploaded the payout list that matched, and its size. */
  payoutsFrom: t.optional(address),
  payoutCount: t.optional(t.uint()),
  paidMicro: t.optional(t.u64()),
  escrowedMicro: t.optional(t.u64()),
})
export type EpochState = Infer<typeof epochSchema>

export const uploadSchema = t.struct({ chunks: t.uint(), payouts: t.uint() })
export const chunkSchema = t.struct({ payouts: t.array(payoutSchema, { lengthMax: payoutsPerChunkMax }) })

export const escrowSchema = t.struct({
  /** `trn1...` owner from the payout. */
  owner: t.string({ bytesMax: 128 }),
  entries: t.array(t.struct({ epoch: t.uint(), amountMicro: t.u64() }), { lengthMax: 1024 }),
})
export type DeviceEscrow = Infer<typeof escrowSchema>

export const reserveSchema = t.struct({ forfeitedMicro: t.u64(), slashedMicro: t.u64() })
export type Reserve = Infer<typeof reserveSchema>
export const markerSchema = t.struct({})
