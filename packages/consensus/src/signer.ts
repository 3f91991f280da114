import { signInDomain, type Signer } from '@terrane/crypto'
import { ConsensusError } from './errors.ts'
import { bytesEqual } from './validator-set.ts'
import { proposalSignBytes, voteSignBytes, type Proposal, type Vote } from './types.ts'

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
    const signature = this.sign(vote.height, vote.round, step, voteSignBytes(vote), 'vote')
    return { ...vote, signature }
  }

  signProposal(proposal: Omit<Proposal, 'signature'>): Proposal {
    const signature = this.sign(proposal.height, proposal.round, signStepProposal, proposalSignBytes(proposal), 'proposal')
    return { ...proposal, signature }
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
