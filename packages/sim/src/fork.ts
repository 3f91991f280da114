import { sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner, signInDomain, type Signer } from '@terrane/crypto'
import {
  blockHash,
  checkVotePair,
  commitHash,
  commitVote,
  createConsensus,
  defaultVerifySignature,
  evidenceHash,
  hashOfValidatorSet,
  memorySignerStateStore,
  PrivValidator,
  proposalSignBytes,
  proposerOf,
  txRoot,
  voteSignBytes,
  type Block,
  type Commit,
  type Consensus,
  type ConsensusAction,
  type ConsensusEvent,
  type ConsensusState,
  type Validator,
  type Vote,
} from '@terrane/consensus'
import { Rng } from './rng.ts'

const chainId = 'terrane-fork'
const utf8 = new TextEncoder()

export interface ForkAttackResult {
  seed: number
  totalPower: number
  byzantinePower: number
  /** Whether two honest validators decided different blocks at height 1. */
  isForked: boolean
  /** Validators proven to have signed conflicting precommits, and their power. */
  culprits: Uint8Array[]
  culpritPower: number
  /** Equivocations the honest reducers themselves turned into evidence. */
  evidenceFound: number
}

interface Honest {
  index: number
  consensus: Consensus
  state: ConsensusState
  privval: PrivValidator
  decided: { block: Block; commit: Commit } | null
  evidence: number
}

/**
 * Accountable safety (Buchman, Kwon, Milosevic, section 5): with one third or more Byzantine
 * power a fork is possible, but then the two certificates prove that validators with at
 * least a third of the power signed conflicting votes. The Byzantine set (always holding the
 * round-0 proposer) sends block X to one honest group and block Y to the other, and votes for
 * both; the honest groups never hear from each other.
 */
export function runForkAttack(seed: number): ForkAttackResult {
  const rng = new Rng(seed)
  const n = rng.int(4, 7)
  const signers: Signer[] = Array.from({ length: n }, (_, i) => seedSigner(sha256(utf8.encode(`fork-${seed}-${i}`))))
  const validators: Validator[] = signers.map((s) => ({
    address: accountIdOfPublicKey(s.publicKey),
    publicKey: s.publicKey,
    power: rng.int(1, 10),
  }))
  const total = validators.reduce((a, v) => a + v.power, 0)
  const probe = createConsensus({ chainId, address: null }).genesisState({ validators, stateRoot: sha256(), timeMs: 1 })
  const proposer = validators.findIndex((v) => Buffer.compare(v.address, proposerOf(probe.validators, 0)) === 0)
  // Byzantine: the proposer, then others (largest first) until each honest half plus them exceeds 2/3.
  const byz = new Set([proposer])
  const order = rng.shuffle([...Array(n).keys()].filter((i) => i !== proposer))
  const split = (): [number[], number[]] => {
    const rest = order.filter((i) => !byz.has(i))
    return [rest.filter((_, k) => k % 2 === 0), rest.filter((_, k) => k % 2 === 1)]
  }
  const power = (ids: Iterable<number>) => [...ids].reduce((a, i) => a + (validators[i] as Validator).power, 0)
  const isEnough = () => {
    const [g1, g2] = split()
    return g1.length > 0 && g2.length > 0 && 3 * (power(g1) + power(byz)) > 2 * total && 3 * (power(g2) + power(byz)) > 2 * total
  }
  for (const i of order) {
    if (isEnough()) break
    byz.add(i)
  }
  let [group1, group2] = split()
  if (!isEnough()) {
    // The random powers admit no such split: fall back to two lone honest validators, all others Byzantine.
    byz.clear()
    for (const i of order.slice(2)) byz.add(i)
    byz.add(proposer)
    ;[group1, group2] = [[order[0] as number], [order[1] as number]]
  }

  const honest = new Map<number, Honest>()
  for (const i of [...group1, ...group2]) {
    const consensus = createConsensus({ chainId, address: (validators[i] as Validator).address, timeoutCommitMs: 0 })
    honest.set(i, {
      index: i,
      consensus,
      state: consensus.genesisState({ validators, stateRoot: sha256(), timeMs: 1 }),
      privval: new PrivValidator(signers[i] as Signer, memorySignerStateStore(), chainId),
      decided: null,
      evidence: 0,
    })
  }
  const groupOf = (i: number) => ((group1 as number[]).includes(i) ? group1 : group2) as number[]

  function deliver(h: Honest, event: ConsensusEvent): void {
    const r = h.consensus.step(h.state, event)
    h.state = r.state
    if (r.rejected === 'equivocation') h.evidence++
    for (const a of r.actions) act(h, a)
  }
  function act(h: Honest, a: ConsensusAction): void {
    if (a.type === 'sign-vote') {
      const vote = h.privval.signVote(a.vote)
      for (const j of groupOf(h.index)) deliver(honest.get(j) as Honest, { type: 'vote', vote, nowMs: 10 })
    } else if (a.type === 'decide') {
      h.decided = { block: a.block, commit: a.commit }
      deliver(h, { type: 'applied', height: 1, stateRoot: sha256(a.block.header.txRoot), validatorUpdates: [], nowMs: 10 })
    }
  }

  const makeBlock = (tx: string): Block => {
    const s = probe
    const txs = [utf8.encode(tx)]
    return {
      header: {
        chainId,
        height: 1,
        timeMs: 5,
        lastBlockHash: s.lastBlockHash,
        lastCommitHash: commitHash(null),
        txRoot: txRoot(txs),
        stateRoot: s.stateRoot,
        validatorsHash: hashOfValidatorSet(s.validators),
        nextValidatorsHash: hashOfValidatorSet(s.nextValidators),
        evidenceHash: evidenceHash([]),
        proposer: (validators[proposer] as Validator).address,
      },
      txs,
      evidence: [],
      lastCommit: null,
    }
  }
  const x = makeBlock('fork=x')
  const y = makeBlock('fork=y')
  const byzVote = (i: number, type: Vote['type'], block: Block): Vote => {
    const body = {
      type,
      height: 1,
      round: 0,
      blockHash: blockHash(block.header),
      timeMs: 10,
      validator: (validators[i] as Validator).address,
    }
    return { ...body, signature: signInDomain(signers[i] as Signer, { chainId, kind: 'vote' }, voteSignBytes(body)) }
  }
  for (const h of honest.values()) deliver(h, { type: 'start', nowMs: 10 })
  for (const [group, block] of [
    [group1, x],
    [group2, y],
  ] as const) {
    const body = {
      height: 1,
      round: 0,
      polRound: -1,
      blockHash: blockHash(block.header),
      timeMs: 10,
      proposer: (validators[proposer] as Validator).address,
    }
    const proposal = {
      ...body,
      signature: signInDomain(signers[proposer] as Signer, { chainId, kind: 'proposal' }, proposalSignBytes(body)),
    }
    for (const i of group) deliver(honest.get(i) as Honest, { type: 'proposal', proposal, block, nowMs: 10 })
    for (const type of ['prevote', 'precommit'] as const) {
      for (const b of byz) {
        const vote = byzVote(b, type, block)
        for (const i of group) deliver(honest.get(i) as Honest, { type: 'vote', vote, nowMs: 10 })
      }
    }
  }

  // After the fact, the certificates meet (e.g. on a light client or in block sync).
  const a = honest.get(group1[0] as number) as Honest
  const b = honest.get(group2[0] as number) as Honest
  const isForked = a.decided !== null && b.decided !== null && Buffer.compare(a.decided.commit.blockHash, b.decided.commit.blockHash) !== 0
  const culprits: Uint8Array[] = []
  if (isForked && a.decided !== null && b.decided !== null) {
    const ca = a.decided.commit
    const cb = b.decided.commit
    for (let i = 0; i < ca.signatures.length; i++) {
      const va = commitVote(ca, i)
      const j = cb.signatures.findIndex((s) => Buffer.compare(s.validator, va.validator) === 0)
      if (j < 0) continue
      const vb = commitVote(cb, j)
      const v = validators.find((w) => Buffer.compare(w.address, va.validator) === 0)
      const [first, second] = Buffer.compare(va.blockHash as Uint8Array, vb.blockHash as Uint8Array) < 0 ? [va, vb] : [vb, va]
      if (ca.round === cb.round && checkVotePair(chainId, first, second, v, defaultVerifySignature) === null) culprits.push(va.validator)
    }
    // The honest reducers also find the equivocations themselves once they see the other side's votes.
    for (const sig of cb.signatures.map((_, k) => commitVote(cb, k))) deliver(a, { type: 'vote', vote: sig, nowMs: 20 })
  }
  const culpritPower = culprits.reduce((acc, c) => acc + (validators.find((v) => Buffer.compare(v.address, c) === 0)?.power ?? 0), 0)
  return { seed, totalPower: total, byzantinePower: power(byz), isForked, culprits, culpritPower, evidenceFound: a.evidence }
}
