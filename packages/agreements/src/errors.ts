import { ChainError } from '@terrane/chain'

/** Why the agreements module refused a message. Stable names (appended, never renamed). */
export const agreementRejectReasons = [
  'agreement-not-found',
  'self-agreement', // customer and provider are the same account
  'impossible-terms', // terms no provider can meet or the chain cannot hold (details say which)
  'zero-amount', // price of zero
  'not-customer',
  'not-provider',
  'not-a-party', // neither customer nor provider
  'not-pending', // accept on an agreement that is not waiting for the provider
  'not-active', // cancel or dispute on an agreement that is finished
  'unregistered-prober', // figures from an account that is not an active registered prober
  'prober-exists', // register twice
  'bond-too-low', // prober bond below proberBondMinMicro
  'bad-prober-key', // the key given does not belong to the sender
  'epoch-closed', // figures for an epoch already settled
  'epoch-in-future', // figures for an epoch not started
  'outside-window', // dispute on an epoch not settled yet or past the dispute window
  'unknown-prober', // evidence signed by a key that is not a registered prober's
  'bad-evidence-signature', // evidence not signed by the prober key it names
  'evidence-mismatch', // evidence for another agreement or epoch than the dispute names
  'no-conflict', // the evidence agrees with what the prober submitted on chain
  'prober-bond-locked', // withdrawing a prober bond before its release epoch
  'not-unbonding', // withdraw without unregistering first
  'already-ending', // cancel of an active agreement already cancelled, or in its last epoch (nothing left to cancel)
] as const
export type AgreementRejectReason = (typeof agreementRejectReasons)[number]

/** A refusal by the agreements module: a ChainError (CHAIN_BAD_MESSAGE) whose log reads `CHAIN_BAD_MESSAGE: <reason>: ...`. */
export class AgreementError extends ChainError {
  static override name = 'AgreementError'
  override name = 'AgreementError'
  readonly reason: AgreementRejectReason

  constructor(reason: AgreementRejectReason, details = '') {
    super('CHAIN_BAD_MESSAGE', details === '' ? reason : `${reason}: ${details}`)
    this.reason = reason
  }
}

/** The reject reason in a TxResult log written for an AgreementError, or undefined. */
export function agreementRejectReasonOf(log: string): AgreementRejectReason | undefined {
  const name = /^CHAIN_BAD_MESSAGE: ([a-z-]+)/.exec(log)?.[1]
  return name !== undefined && (agreementRejectReasons as readonly string[]).includes(name) ? (name as AgreementRejectReason) : undefined
}
