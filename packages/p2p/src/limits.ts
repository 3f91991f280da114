/**
 * Every bound the p2p package enforces, in one place (STYLE.md section 4).
 * Defaults can be lowered or raised per node through `P2PNodeInit` and per
 * channel through `ChannelInit`; these are the values used when they are not.
 */

/** CometBFT block parts are 64 KiB; a consensus message carries at most one part plus a header. */
export const channelMessageBytesMaxDefault = 1024 * 1024
/** Hard ceiling for any channel's message size: a single frame is buffered whole before delivery. */
export const channelMessageBytesMaxCeiling = 16 * 1024 * 1024
/** Messages queued for one peer on one channel before `send` reports `queue-full`. */
export const sendQueueMessagesMaxDefault = 4096
/** Bytes queued for one peer on one channel before `send` reports `queue-full`. */
export const sendQueueBytesMaxDefault = 32 * 1024 * 1024
/** Frames coalesced into one `stream.send` call (fewer yamux frames for small messages). */
export const writeBatchBytesMax = 256 * 1024
/** Messages per second one peer may send us on one channel (token-bucket refill rate). */
export const channelMessagesPerSecondMaxDefault = 10_000
/** Token-bucket capacity: the burst one peer may send on one channel. */
export const channelBurstMessagesMaxDefault = 20_000
/** Inbound streams one peer may hold open per channel (one live stream plus one during a reconnect race). */
export const channelInboundStreamsMax = 2

/** Request and response size limits for request/response protocols (block sync batches). */
export const requestBytesMaxDefault = 64 * 1024
export const responseBytesMaxDefault = 8 * 1024 * 1024
/** A request that gets no complete response within this time fails with P2P_REQUEST_TIMEOUT. */
export const requestTimeoutMsDefault = 10_000
/** Time a responder gives its own handler plus the write of the response. */
export const handlerTimeoutMsDefault = 10_000
/** Concurrent inbound request streams per connection per protocol. */
export const requestInboundStreamsMax = 32
/** Requests per second one peer may make on one protocol. */
export const requestsPerSecondMaxDefault = 200
export const requestBurstMaxDefault = 400

/** Gossip message size limit (transaction batches, evidence). */
export const gossipMessageBytesMaxDefault = 1024 * 1024

/** Connections kept open; beyond this libp2p prunes the lowest-valued ones. */
export const connectionsMaxDefault = 64
/** How long a ban lasts. CometBFT's default ban for a bad peer is 24 h; an hour keeps devnets forgiving. */
export const banDurationMsDefault = 60 * 60 * 1000
/** A peer whose score falls to or below this is disconnected and banned. */
export const banScoreThresholdDefault = -100
/** Penalties decay exponentially towards zero with this half-life, so rare faults are forgiven. */
export const scoreHalfLifeMsDefault = 10 * 60 * 1000
/** Peers whose score is remembered at once; the oldest neutral entries are forgotten first. */
export const scoredPeersMax = 10_000

/** Interval between DHT lookups of our own id, which is how new peers are found. */
export const discoveryIntervalMsDefault = 30_000
/** Delay before dialling bootstrap peers after start. */
export const bootstrapDelayMsDefault = 100
/** Timeout of one ping used to measure latency. */
export const pingTimeoutMsDefault = 5_000
/**
 * The longest one ping may run while callers share it (`SerialPing`): the maximum of libp2p's
 * AdaptiveTimeout (@libp2p/utils), which bounds how long the DHT waits for a contact's ping.
 */
export const sharedPingMsMax = 60_000
