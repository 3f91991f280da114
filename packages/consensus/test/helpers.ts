import { sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner, type Signer } from '@terrane/crypto'
import {
  createConsensus,
  memorySignerStateStore,
  PrivValidator,
  type Block,
  type Commit,
  type Consensus,
  type ConsensusAction,
  type ConsensusEvent,
  type ConsensusInit,
  type ConsensusState,
  type Validator,
  type Vote,
} from '../src/index.ts'

export const chainId = 'terrane-test'
const utf8 = new TextEncoder()

export function keyOf(i: number): Signer {
  return seedSigner(sha256(utf8.encode(`validator-${i}`)))
}

export function validatorsOf(powers: readonly number[]): { validators: Validator[]; signers: Signer[] } {
  const signers = powers.map((_, i) => keyOf(i))
  const validators = signers.map((s, i) => ({
    address: accountIdOfPublicKey(s.publicKey),
    publicKey: s.publicKey,
    power: powers[i] as number,
  }))
  return { validators, signers }
}

export const genesisRoot = sha256(utf8.encode('genesis'))

export interface TestNode {
  index: number
  consensus: Consensus
  state: ConsensusState
  privval: PrivValidator
  decided: Block[]
  commits: Commit[]
}

export interface TestNet {
  nodes: TestNode[]
  validators: Validator[]
  signers: Signer[]
  nowMs: number
  /** Delivers an event to one node and processes all resulting actions (votes go to everyone not muted). */
  deliver(node: number, event: ConsensusEvent): ConsensusAction[]
  /** Fires every scheduled timeout in time order until `predicate` or the step limit. */
  run(predicate: () => boolean, stepsMax?: number): void
  /** Nodes whose outgoing messages are dropped. */
  muted: Set<number>
  /** Actions emitted, per node. */
  log: ConsensusAction[][]
}

/** A fully connected, instant network of reducers: enough to exercise the rules one by one. */
export function testNet(powers: readonly number[], init: Partial<ConsensusInit> = {}): TestNet {
  const { validators, signers } = validatorsOf(powers)
  const timers: Array<{ atMs: number; node: number; event: ConsensusEvent }> = []
  const net: TestNet = {
    nodes: [],
    validators,
    signers,
    nowMs: 1_000_000,
    muted: new Set(),
    log: powers.map(() => []),
    deliver,
    run,
  }
  net.nodes = signers.map((signer, index) => {
    const consensus = createConsensus({ chainId, address: validators[index]?.address ?? null, timeoutCommitMs: 0, ...init })
    return {
      index,
      consensus,
      state: consensus.genesisState({ validators, stateRoot: genesisRoot, timeMs: 1_000_000 }),
      privval: new PrivValidator(signer, memorySignerStateStore(), chainId),
      decided: [],
      commits: [],
    }
  })

  const queue: Array<{ to: number; event: ConsensusEvent }> = []
  function broadcast(from: number, make: (to: number) => ConsensusEvent): void {
    for (let to = 0; to < net.nodes.length; to++) if (to === from || !net.muted.has(from)) queue.push({ to, event: make(to) })
  }

  /** Gossip: every node re-sends what it holds for its height; peers behind get decided blocks. */
  function gossip(): void {
    for (const from of net.nodes) {
      if (net.muted.has(from.index)) continue
      for (const to of net.nodes) {
        if (to.state.height < from.state.height) {
          const h = to.state.height - 1
          const block = from.decided[h]
          const commit = from.commits[h]
          if (block !== undefined && commit !== undefined)
            queue.push({ to: to.index, event: { type: 'commit', block, commit, nowMs: net.nowMs } })
          continue
        }
        if (to.state.height !== from.state.height) continue
        for (const p of from.state.proposals.values()) {
          const block = from.state.blocks.get(Buffer.from(p.blockHash).toString('hex'))
          if (block !== undefined) queue.push({ to: to.index, event: { type: 'proposal', proposal: p, block, nowMs: net.nowMs } })
        }
        for (const set of from.state.votes.values())
          for (const vote of set.votes.values()) queue.push({ to: to.index, event: { type: 'vote', vote, nowMs: net.nowMs } })
      }
    }
  }

  function drain(predicate: () => boolean): void {
    for (let i = 0; i < 1_000_000 && !predicate(); i++) {
      const next = queue.shift()
      if (next === undefined) return
      deliver(next.to, { ...next.event, nowMs: net.nowMs } as ConsensusEvent)
    }
  }

  function deliver(index: number, event: ConsensusEvent): ConsensusAction[] {
    const node = net.nodes[index] as TestNode
    const { state, actions } = node.consensus.step(node.state, event)
    node.state = state
    ;(net.log[index] as ConsensusAction[]).push(...actions)
    for (const a of actions) {
      switch (a.type) {
        case 'sign-vote': {
          const vote: Vote = node.privval.signVote(a.vote)
          broadcast(index, () => ({ type: 'vote', vote, nowMs: net.nowMs }))
          break
        }
        case 'sign-proposal': {
          const proposal = node.privval.signProposal(a.proposal)
          broadcast(index, () => ({ type: 'proposal', proposal, block: a.block, nowMs: net.nowMs }))
          break
        }
        case 'request-txs':
          deliver(index, {
            type: 'proposal-txs',
            height: a.height,
            round: a.round,
            txs: [utf8.encode(`tx-${a.height}-${a.round}`)],
            nowMs: net.nowMs,
          })
          break
        case 'schedule-timeout':
          timers.push({
            atMs: net.nowMs + a.durationMs,
            node: index,
            event: { type: 'timeout', height: a.height, round: a.round, step: a.step, nowMs: 0 },
          })
          break
        case 'decide':
          node.decided.push(a.block)
          node.commits.push(a.commit)
          deliver(index, {
            type: 'applied',
            height: a.block.header.height,
            stateRoot: sha256(a.block.header.txRoot),
            validatorUpdates: [],
            nowMs: net.nowMs,
          })
          break
        case 'broadcast-evidence':
          break
      }
    }
    return actions
  }

  let gossipAtMs = net.nowMs
  function run(predicate: () => boolean, stepsMax = 10_000): void {
    drain(predicate)
    for (let i = 0; i < stepsMax && !predicate(); i++) {
      timers.sort((a, b) => a.atMs - b.atMs || a.node - b.node)
      const next = timers[0]
      if (next === undefined || next.atMs > gossipAtMs + 100) {
        gossipAtMs += 100
        net.nowMs = Math.max(net.nowMs, gossipAtMs)
        gossip()
      } else {
        timers.shift()
        net.nowMs = Math.max(net.nowMs, next.atMs)
        deliver(next.node, { ...next.event, nowMs: net.nowMs })
      }
      drain(predicate)
    }
  }
  return net
}

export function startAll(net: TestNet): void {
  for (let i = 0; i < net.nodes.length; i++) net.deliver(i, { type: 'start', nowMs: net.nowMs })
}
