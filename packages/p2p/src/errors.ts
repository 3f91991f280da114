/**
 * Operating errors of the p2p package. Match on `code`, never on the message.
 * Expected outcomes (a send dropped because a queue is full, a gossip message
 * rejected) are values, not errors: see `SendVerdict` and `GossipVerdict`.
 */
export const P2PErrorCode = {
  /** The init or a channel/protocol option is out of range. */
  invalidConfig: 'P2P_INVALID_CONFIG',
  /** `send`/`onMessage` named a channel that was never registered. */
  unknownChannel: 'P2P_UNKNOWN_CHANNEL',
  /** A channel or request protocol with this name is already registered. */
  alreadyRegistered: 'P2P_ALREADY_REGISTERED',
  /** The local caller tried to send more than the channel or protocol allows. */
  messageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  /** The remote's response exceeded `responseBytesMax`; the remote was penalised. */
  responseTooLarge: 'P2P_RESPONSE_TOO_LARGE',
  /** No complete response arrived within `timeoutMs`. */
  requestTimeout: 'P2P_REQUEST_TIMEOUT',
  /** The caller's AbortSignal fired. */
  aborted: 'P2P_ABORTED',
  /** The stream failed: dial error, remote reset, remote handler error, stream closed early. */
  requestFailed: 'P2P_REQUEST_FAILED',
  /** The peer is banned; no connection or request is made. */
  peerBanned: 'P2P_PEER_BANNED',
  /** The node was stopped, or not started. */
  notRunning: 'P2P_NOT_RUNNING',
} as const
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode]

export class P2PError extends Error {
  static override name = 'P2PError'
  override name = 'P2PError'
  readonly code: P2PErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: P2PErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.details = details
  }
}

export function isP2PError(err: unknown, code?: P2PErrorCode): err is P2PError {
  return err instanceof P2PError && (code === undefined || err.code === code)
}
