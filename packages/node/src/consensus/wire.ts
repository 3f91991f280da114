import { decode, encode, t, type Schema } from '@terrane/codec'
import {
  blockSchema,
  commitSchema,
  proposalSchema,
  voteSchema,
  type Block,
  type Commit,
  type Proposal,
  type Vote,
} from '@terrane/consensus'
import type { PeerRoundState } from './peer-gossip.ts'

/** Vote bitmaps cover up to 8,192 validators. */
const validatorBitmapBytesMax = 1024

/** Messages of the consensus channel (direct streams between peers). */
export type ConsensusMessage =
  | { kind: 'proposal'; proposal: Proposal; block: Block }
  | { kind: 'vote'; vote: Vote }
  /** Where a peer is and what it holds of its round: lets others send what it lacks, and sync it when behind. */
  | ({ kind: 'status' } & PeerRoundState)

export const consensusMessageSchema: Schema<ConsensusMessage> = t.variant('kind', {
  proposal: t.struct({ proposal: proposalSchema, block: blockSchema }),
  vote: t.struct({ vote: voteSchema }),
  status: t.struct({
    height: t.uint(),
    round: t.uint(),
    baseHeight: t.uint(),
    hasProposal: t.bool(),
    prevotes: t.bytes({ lengthMax: validatorBitmapBytesMax }),
    precommits: t.bytes({ lengthMax: validatorBitmapBytesMax }),
  }),
}) as Schema<ConsensusMessage>

/** A block-sync request: blocks [fromHeight, fromHeight + count). */
export interface BlocksRequest {
  fromHeight: number
  count: number
}
export interface BlocksResponse {
  items: Array<{ block: Block; commit: Commit }>
}

/** Blocks per response; at 4 MiB blocks the response limit (8 MiB) cuts earlier. */
export const syncBlocksPerRequestMax = 200

export const blocksRequestSchema: Schema<BlocksRequest> = t.struct({
  fromHeight: t.uint(),
  count: t.uint({ max: syncBlocksPerRequestMax }),
})
export const blocksResponseSchema: Schema<BlocksResponse> = t.struct({
  items: t.array(t.struct({ block: blockSchema, commit: commitSchema }), { lengthMax: syncBlocksPerRequestMax }),
})

/** Transaction batches gossiped between mempools. */
export const txBatchSchema = t.array(t.bytes({ lengthMax: 1024 * 1024 }), { lengthMax: 4096 })

export function encodeMessage(message: ConsensusMessage): Uint8Array {
  return encode(consensusMessageSchema, message)
}

export function decodeMessage(bytes: Uint8Array): ConsensusMessage {
  return decode(consensusMessageSchema, bytes, { bytesMax: 16 * 1024 * 1024 })
}
