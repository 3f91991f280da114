import { ChainError } from '@terrane/chain'

/**
 * Why the channels module or an offline check refused something. The names are the vocabulary of
 * dashboards and appeals; they never change meaning (new ones are appended).
 */
export const channelRejectReasons = [
  'channel-not-found', // no channel with this id
  'self-channel', // payer and payee are the same account
  'bad-payer-key', // the payer key given at open does not belong to the sender
  'not-payer', // only the payer may do this (add funds)
  'not-payee', // only the payee may do this (submit or redeem a voucher)
  'not-a-party', // neither payer nor payee
  'wrong-channel', // the voucher names another channel
  'lane-out-of-range', // lane >= lanesMax
  'stale-nonce', // nonce not above the lane's last accepted nonce (a replayed or older voucher)
  'amount-decreased', // cumulative amount below the lane's last accepted amount
  'over-balance', // the channel's vouchers would exceed its deposit
  'bad-signature', // not signed by the payer's key for this chain
  'already-settling', // close called on a channel that is already settling
  'settle-delay-running', // collect before the settle height
  'not-settling', // collect on a channel nobody closed
  'settled', // voucher submitted at or after the settle height
  'collected', // the channel was collected: it is finished
  'zero-amount', // an amount that must be positive is zero
  'nothing-to-redeem', // redeem with no credited amount unpaid
] as const
export type ChannelRejectReason = (typeof channelRejectReasons)[number]

/**
 * A refusal by the channels module. It is a ChainError (code CHAIN_BAD_MESSAGE) so the chain rolls
 * the transaction back and reports it; the reason leads the message, so the TxResult log reads
 * `CHAIN_BAD_MESSAGE: <reason>: <details>` (see `channelRejectReasonOf`).
 */
export class ChannelError extends ChainError {
  static override name = 'ChannelError'
  override name = 'ChannelError'
  readonly reason: ChannelRejectReason

  constructor(reason: ChannelRejectReason, details = '') {
    super('CHAIN_BAD_MESSAGE', details === '' ? reason : `${reason}: ${details}`)
    this.reason = reason
  }
}

/** The reject reason in a TxResult log written for a ChannelError, or undefined. */
export function channelRejectReasonOf(log: string): ChannelRejectReason | undefined {
  const m = /^CHAIN_BAD_MESSAGE: ([a-z-]+)/.exec(log)
  const name = m?.[1]
  return name !== undefined && (channelRejectReasons as readonly string[]).includes(name) ? (name as ChannelRejectReason) : undefined
}
