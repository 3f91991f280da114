import { signInDomain, type Signer } from '@terrane/crypto'
import { ConsensusError } from './errors.ts'
import { bytesEqual } from './validator-set.ts'
import { decode, encode, type Schema } from '@terrane/codec'
import { proposalSignBytes, proposalSignBytesSchema, voteSignBytes, voteSignBytesSchema, type Proposal, type Vote } from './types.ts'

/** Steps in signing order within a round (CometBFT privval: propose 1, prevote 2, precommit 3). */
export const signStepProposal = 1
export const signStepPrevote = 2
export const signStepPrecommit = 3

/** The last thing a validator signed: enough to refuse any conflicting signature after a crash. */
export interface LastSignState {
  height: number
  round: number
  step: number
  /** The signed payload (before domain separation) and its signature, to re-sign identical bytes only. */
  signBytes: Uint8Array
  signature: Uint8Array
}

/**
 * Durable storage for the signer state. `save` must not return before the state is
 * durable (the node fsyncs a file; the simulator writes its simulated disk synchronously).
 */
export interface SignerStateStore {
  load(): LastSignState | null
  save(state: LastSignState): void
}

/** A store in memory: for tests and non-validating tools only (nothing survives a crash). */
export function memorySignerStateStore(): SignerStateStore & { state: LastSignState | null } {
  const store = {
    state: null as LastSignState | null,
    load: () => store.state,
    save: (s: LastSignState) => {
      store.state = s
    },
  }
  return store
}

/**
 * The validator's signer with double-sign protection (CometBFT FilePV). It refuses
 * any height/round/step below the last one signed, signs the same step again only for
 * byte-identical payloads (returning the stored signature), and persists the new
 * state before a signature is returned.
 */
export class PrivValidator {
  readonly publicKey: Uint8Array
  private last: LastSignState | null

  constructor(
    private readonly signer: Signer,
    private readonly store: SignerStateStore,
    private readonly chainId: string,
  ) {
    this.publicKey = signer.publicKey
    this.last = store.load()
  }

  /** The state persisted last (null before the first signature). */
  get lastSigned(): LastSignState | null {
    return this.last
  }

  signVote(vote: Omit<Vote, 'signature'>): Vote {
    const step = vote.type === 'prevote' ? signStepPrevote : signStepPrecommit
    const same = this.sameStepTime(
      vote.height,
      vote.round,
      step,
      (bytes) => ({ ...decode(voteSignBytesSchema, bytes), timeMs: vote.timeMs }),
      voteSignBytes(vote),
      voteSignBytesSchema,
    )
    const signed = same === undefined ? vote : { ...vote, timeMs: same }
    const signature = this.sign(signed.height, signed.round, step, voteSignBytes(signed), 'vote')
    return { ...signed, signature }
  }

  signProposal(proposal: Omit<Proposal, 'signature'>): Proposal {
    const same = this.sameStepTime(
      proposal.height,
      proposal.round,
      signStepProposal,
      (bytes) => ({ ...decode(proposalSignBytesSchema, bytes), timeMs: proposal.timeMs }),
      proposalSignBytes(proposal),
      proposalSignBytesSchema,
    )
    const signed = same === undefined ? proposal : { ...proposal, timeMs: same }
    const signature = this.sign(signed.height, signed.round, signStepProposal, proposalSignBytes(signed), 'proposal')
    return { ...signed, signature }
  }

  /**
   * After a restart the engine may rebuild a message it already signed, identical but
   * for its timestamp (local time moved on). As CometBFT's FilePV does, the signer
   * then re-uses the signed timestamp, so the old signature is returned instead of a
   * refusal that would leave this validator silent for the round. Returns the old
   * time when the last signed payload equals this one with its time replaced.
   */
  private sameStepTime<T extends { timeMs: number }>(
    height: number,
    round: number,
    step: number,
    withNewTime: (bytes: Uint8Array) => T,
    bytes: Uint8Array,
    schema: Schema<T>,
  ): number | undefined {
    const last = this.last
    if (last === null || last.height !== height || last.round !== round || last.step !== step) return undefined
    try {
      if (!bytesEqual(encode(schema, withNewTime(last.signBytes)), bytes)) return undefined
      return decode(schema, last.signBytes).timeMs
    } catch {
      return undefined
    }
  }

  private sign(height: number, round: number, step: number, signBytes: Uint8Array, kind: 'vote' | 'proposal'): Uint8Array {
    const last = this.last
    if (last !== null) {
      const order = height - last.height || round - last.round || step - last.step
      if (order < 0) {
        throw new ConsensusError(
          'CONSENSUS_DOUBLE_SIGN_REFUSED',
          `refusing to sign ${height}/${round}/${step}: already signed ${last.height}/${last.round}/${last.step}`,
        )
      }
      if (order === 0) {
        if (bytesEqual(last.signBytes, signBytes)) return last.signature
        throw new ConsensusError('CONSENSUS_DOUBLE_SIGN_REFUSED', `refusing to sign different bytes at ${height}/${round}/${step}`)
      }
    }
    const signature = signInDomain(this.signer, { chainId: this.chainId, kind }, signBytes)
    const next: LastSignState = { height, round, step, signBytes, signature }
    try {
      this.store.save(next)
    } catch (err) {
      throw new ConsensusError('CONSENSUS_SIGNER_STORE', `could not persist the signer state: ${(err as Error).message}`)
    }
    this.last = next
    return signature
  }
}
