/**
 * @terrane/p2p: the libp2p host, consensus channels over direct streams,
 * request/response for block sync, gossip for transaction batches and
 * evidence, peer scoring and bans. Generic over byte payloads.
 */
export { createP2PNode, protocolId, peerIdOfSeed } from './node.ts'
export type {
  BroadcastResult,
  ChannelInit,
  GossipValidator,
  GossipVerdict,
  MessageHandler,
  P2PEvents,
  P2PNode,
  P2PNodeInit,
  PeerSummary,
  RequestHandler,
  RequestOptions,
  RequestProtocolInit,
  SendVerdict,
} from './node.ts'
export { ManualClock, systemClock } from './clock.ts'
export type { Clock } from './clock.ts'
export { P2PError, P2PErrorCode, isP2PError } from './errors.ts'
export { PeerScores, penaltyPointsDefault, penaltyReasons } from './scores.ts'
export type { PeerScoresInit, PenaltyOutcome, PenaltyReason } from './scores.ts'
export { TokenBucket } from './token-bucket.ts'
export * from './limits.ts'
