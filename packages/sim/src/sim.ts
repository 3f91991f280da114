import { sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, seedSigner, signInDomain, type Signer } from '@terrane/crypto'
import {
  blockHash,
  createConsensus,
  defaultVerifySignature,
  devnetTimeouts,
  evidenceKey,
  hashKey,
  PrivValidator,
  proposalSignBytes,
  txRoot,
  voteSignBytes,
  type Application,
  type Block,
  type Commit,
  type Consensus,
  type ConsensusAction,
  type ConsensusEvent,
  type ConsensusState,
  type LastSignState,
  type Proposal,
  type Validator,
  type VerifySignature,
  type Vote,
} from '@terrane/consensus'
import { Rng } from './rng.ts'
import { EventQueue } from './queue.ts'
import { KvApp, type KvDurableState } from './kv-app.ts'

/** What a Byzantine validator does (all below one third of the power unless a test says otherwise). */
export type ByzantineBehaviour = 'equivocate' | 'conflicting-proposals' | 'amnesia'

export interface SimOptions {
  seed: number
  /** Application under test. @default 'kv' */
  /** Overrides of the drawn scenario (tests use them to pin a case). */
  validators?: number
  faultPhaseMs?: number
  /** Heights every honest node must commit after the faults stop. @default 10 */
  livenessHeights?: number
  /** Simulated time allowed for those heights. @default 120_000 */
  livenessDeadlineMs?: number
  /** Disable every fault (a baseline). */
  isFaultFree?: boolean
}

/** Every fault rate of a run, drawn from its seed (TigerBeetle VOPR style). */
export interface Scenario {
  seed: number
  validators: number
  powers: number[]
  byzantine: Array<{ index: number; behaviour: ByzantineBehaviour }>
  lossRate: number
  duplicateRate: number
  delayMinMs: number
  delayJitterMs: number
  partitionRatePerSecond: number
  partitionDurationMaxMs: number
  crashRatePerSecond: number
  downtimeMaxMs: number
  /** Chance that a crash loses the unsynced tail of the WAL. */
  tornWriteRate: number
  clockSkewMaxMs: number
  faultPhaseMs: number
  gossipIntervalMs: number
  isCreatingEmptyBlocks: boolean
}

export interface SimResult {
  seed: number
  scenario: Scenario
  isOk: boolean
  failures: string[]
  /** Lowest height committed by every honest node. */
  heightMin: number
  heightMax: number
  simulatedMs: number
  stats: {
    messagesSent: number
    messagesDropped: number
    crashes: number
    partitions: number
    equivocations: number
    evidenceCommitted: number
    signaturesRefusedAfterRestart: number
    rounds: number
  }
}

interface WalEntry {
  event: ConsensusEvent
}

/** The simulated disk of one node. `wal` beyond `walSynced` is lost when a crash tears it. */
interface Disk {
  signer: LastSignState | null
  snapshot: ConsensusState | null
  blocks: Array<{ block: Block; commit: Commit }>
  wal: WalEntry[]
  walSynced: number
  kv: KvDurableState | null
  /** Whatever the app under test keeps durable (the chain app: its store). */
  app: Record<string, unknown>
}

type Message =
  | { kind: 'proposal'; proposal: Proposal; block: Block }
  | { kind: 'vote'; vote: Vote }
  | { kind: 'evidence'; voteA: Vote; voteB: Vote }
  | { kind: 'tx'; tx: Uint8Array }
  /** Gossip: the sender's height, what it holds there (counts and a digest per vote set), and items the receiver may lack. */
  | { kind: 'bundle'; height: number; summary: Map<string, number>; items: Message[] }
  | { kind: 'commit'; block: Block; commit: Commit }

type SimEvent =
  | { type: 'deliver'; to: number; from: number; message: Message }
  | { type: 'timeout'; node: number; incarnation: number; event: ConsensusEvent }
  | { type: 'gossip'; node: number; incarnation: number }
  | { type: 'client' }
  | { type: 'crash'; node: number }
  | { type: 'restart'; node: number }
  | { type: 'partition' }
  | { type: 'heal-partition'; id: number }
  | { type: 'phase-end' }

export const simChainId = 'terrane-sim'
const chainId = simChainId
const debug = process.env.TERRANE_SIM_DEBUG !== undefined
const utf8 = new TextEncoder()
/** Evidence must be committed within this many blocks (a chain parameter, short here so that runs are short). */
const evidenceMaxAgeBlocks = 50

export function drawScenario(opts: SimOptions): Scenario {
  const rng = new Rng(opts.seed)
  const n = opts.validators ?? rng.int(4, 7)
  const powers = Array.from({ length: n }, () => rng.int(1, 10))
  const total = powers.reduce((a, b) => a + b, 0)
  // Byzantine validators: a random subset whose power stays strictly below a third.
  const byzantine: Scenario['byzantine'] = []
  const behaviours: ByzantineBehaviour[] = ['equivocate', 'conflicting-proposals', 'amnesia']
  let byzPower = 0
  for (const i of rng.shuffle([...Array(n).keys()])) {
    if (!rng.chance(0.5)) continue
    const p = powers[i] as number
    if (3 * (byzPower + p) >= total) continue
    byzPower += p
    byzantine.push({ index: i, behaviour: rng.pick(behaviours) })
  }
  const isFaultFree = opts.isFaultFree === true
  return {
    seed: opts.seed,
    validators: n,
    powers,
    byzantine: isFaultFree ? [] : byzantine.sort((a, b) => a.index - b.index),
    lossRate: isFaultFree ? 0 : rng.float() * 0.3,
    duplicateRate: isFaultFree ? 0 : rng.float() * 0.2,
    delayMinMs: rng.int(1, 30),
    delayJitterMs: rng.int(0, 300),
    partitionRatePerSecond: isFaultFree ? 0 : rng.float() * 0.3,
    partitionDurationMaxMs: rng.int(500, 8000),
    crashRatePerSecond: isFaultFree ? 0 : rng.float() * 0.15,
    downtimeMaxMs: rng.int(200, 5000),
    tornWriteRate: rng.float(),
    clockSkewMaxMs: isFaultFree ? 0 : rng.int(0, 2000),
    faultPhaseMs: opts.faultPhaseMs ?? rng.int(3_000, 9_000),
    gossipIntervalMs: rng.int(100, 400),
    isCreatingEmptyBlocks: rng.chance(0.8),
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A cache of signature results shared by all nodes of one run: each signature is checked once. */
function cachedVerifier(): VerifySignature {
  const cache = new Map<string, Array<{ publicKey: Uint8Array; payload: Uint8Array; isValid: boolean }>>()
  return (id, kind, publicKey, payload, signature) => {
    const key = `${kind}|${hashKey(signature)}`
    const entries = cache.get(key) ?? []
    for (const e of entries) if (sameBytes(e.publicKey, publicKey) && sameBytes(e.payload, payload)) return e.isValid
    const isValid = defaultVerifySignature(id, kind, publicKey, payload, signature)
    entries.push({ publicKey, payload, isValid })
    cache.set(key, entries)
    return isValid
  }
}

interface SimNode {
  index: number
  signer: Signer
  address: Uint8Array
  byzantine: ByzantineBehaviour | null
  consensus: Consensus
  state: ConsensusState
  privval: PrivValidator
  app: SimApp
  disk: Disk
  mempool: Map<string, Uint8Array>
  isUp: boolean
  incarnation: number
  clockSkewMs: number
  peerHeights: number[]
  /** The last summary each peer sent of what it holds at its height. */
  peerSummaries: Array<Map<string, number> | undefined>
  heightStartedAtMs: number
  group: number
  isReplaying: boolean
}

/** The app as the simulator sees it: the contract plus a way to check that a slash happened. */
export type SimApp = Application & { isSlashed(validator: Uint8Array): boolean }

/** The application under test: how to build it on a node's disk and what clients send it. */
export interface SimAppDriver {
  name: 'kv' | 'chain'
  create(disk: Disk, validators: Validator[]): SimApp
  /** A client transaction; `pick(n)` draws from the run's seeded client stream. */
  makeTx(seq: number, pick: (n: number) => number): Uint8Array
}

export function kvAppDriver(): SimAppDriver {
  return {
    name: 'kv',
    create: (disk, validators) => new KvApp(validators, disk),
    makeTx: (seq, pick) => utf8.encode(`k${pick(16)}=v${seq}`),
  }
}

export interface SimInit extends SimOptions {
  /** The app under test for a seed. @default the key-value app */
  appDriverFor?: (seed: number) => SimAppDriver
}

/** Runs one seeded simulation to completion and checks its invariants. */
export async function runSimulation(init: SimInit): Promise<SimResult> {
  const scenario = drawScenario(init)
  const rng = new Rng(init.seed ^ 0x5eed)
  const netRng = rng.fork()
  const faultRng = rng.fork()
  const clientRng = rng.fork()
  const queue = new EventQueue<SimEvent>()
  const verify = cachedVerifier()
  const failures: string[] = []
  const fail = (msg: string) => {
    if (failures.length < 20) failures.push(msg)
  }
  const stats: SimResult['stats'] = {
    messagesSent: 0,
    messagesDropped: 0,
    crashes: 0,
    partitions: 0,
    equivocations: 0,
    evidenceCommitted: 0,
    signaturesRefusedAfterRestart: 0,
    rounds: 0,
  }
  let nowMs = 0
  let isFaultPhase = true
  const livenessHeights = init.livenessHeights ?? 10
  const livenessDeadlineMs = init.livenessDeadlineMs ?? 120_000

  const appDriver = init.appDriverFor?.(init.seed) ?? kvAppDriver()
  const signers = scenario.powers.map((_, i) => seedSigner(sha256(utf8.encode(`sim-${init.seed}-validator-${i}`))))
  const validators: Validator[] = signers.map((s, i) => ({
    address: accountIdOfPublicKey(s.publicKey),
    publicKey: s.publicKey,
    power: scenario.powers[i] as number,
  }))
  // The app decides the consensus powers (the chain caps them): Byzantine power stays below a third of them.
  const probeDisk = { signer: null, snapshot: null, blocks: [], wal: [], walSynced: 0, kv: null, app: {} }
  const appPowers = new Map(
    appDriver
      .create(probeDisk, validators)
      .initChain()
      .validators.map((v) => [hashKey(v.address), v.power]),
  )
  const appTotal = [...appPowers.values()].reduce((a, b) => a + b, 0)
  let byzAppPower = 0
  const byzantineOf = new Map<number, ByzantineBehaviour>()
  for (const b of scenario.byzantine) {
    const p = appPowers.get(hashKey((validators[b.index] as Validator).address)) ?? 0
    if (3 * (byzAppPower + p) >= appTotal) continue
    byzAppPower += p
    byzantineOf.set(b.index, b.behaviour)
  }
  const isHonest = (i: number) => !byzantineOf.has(i)
  const genesisTimeMs = 1_700_000_000_000

  // Global records for the checks.
  const decidedByHeight = new Map<number, string>()
  const rootByHeight = new Map<number, string>()
  const honestSigs = new Map<string, string>()
  const byzSigs = new Map<string, Vote>()
  const equivocations = new Map<string, { voteA: Vote; voteB: Vote }>()
  const submittedTxs = new Set<string>()
  const evidenceCommitted = new Set<string>()
  let firstHonest = -1

  function makeNode(index: number, disk: Disk, incarnation: number, group: number): SimNode {
    const behaviour = byzantineOf.get(index) ?? null
    const node = {} as SimNode
    const app = appDriver.create(disk, validators)
    const consensus = createConsensus(
      {
        chainId,
        address: validators[index]?.address as Uint8Array,
        ...devnetTimeouts,
        isCreatingEmptyBlocks: scenario.isCreatingEmptyBlocks,
        emptyBlocksIntervalMs: 1500,
        evidenceMaxAgeBlocks,
        evidenceMaxAgeMs: 3_600_000,
      },
      { verify, processProposal: (req) => app.processProposal(req) },
    )
    let state: ConsensusState
    // The app resumes from its own durable state (or writes genesis); consensus from its snapshot.
    const { validators: vals, stateRoot } = app.initChain()
    if (disk.snapshot !== null) state = structuredClone(disk.snapshot)
    else state = consensus.genesisState({ validators: vals, stateRoot, timeMs: genesisTimeMs })
    const signerStore = {
      load: () => disk.signer,
      save: (s: LastSignState) => {
        disk.signer = s
        // The signer state and everything written before it reach the disk together (fsync).
        disk.walSynced = disk.wal.length
      },
    }
    Object.assign(node, {
      index,
      signer: signers[index] as Signer,
      address: validators[index]?.address as Uint8Array,
      byzantine: behaviour,
      consensus,
      state,
      privval: new PrivValidator(signers[index] as Signer, signerStore, chainId),
      app,
      disk,
      mempool: new Map(),
      isUp: true,
      incarnation,
      clockSkewMs: scenario.clockSkewMaxMs === 0 ? 0 : faultRng.int(-scenario.clockSkewMaxMs, scenario.clockSkewMaxMs),
      peerHeights: validators.map(() => 0),
      peerSummaries: validators.map(() => undefined),
      heightStartedAtMs: 0,
      group,
      isReplaying: false,
    })
    return node
  }

  const nodes: SimNode[] = validators.map((_, i) =>
    makeNode(i, { signer: null, snapshot: null, blocks: [], wal: [], walSynced: 0, kv: null, app: {} }, 0, 0),
  )
  firstHonest = nodes.findIndex((n) => isHonest(n.index))
  const localNow = (node: SimNode) => genesisTimeMs + nowMs + node.clockSkewMs

  // Network ----------------------------------------------------------------------

  function send(from: number, to: number, message: Message): void {
    stats.messagesSent++
    const src = nodes[from] as SimNode
    const dst = nodes[to] as SimNode
    if (from !== to) {
      if (src.group !== dst.group || (isFaultPhase && netRng.chance(scenario.lossRate))) {
        stats.messagesDropped++
        return
      }
    }
    const delay = from === to ? 0 : scenario.delayMinMs + netRng.int(0, scenario.delayJitterMs)
    queue.push(nowMs + delay, { type: 'deliver', to, from, message })
    if (from !== to && isFaultPhase && netRng.chance(scenario.duplicateRate)) {
      queue.push(nowMs + delay + netRng.int(0, 500), { type: 'deliver', to, from, message })
    }
  }

  function broadcast(from: number, message: Message): void {
    for (let to = 0; to < nodes.length; to++) if (to !== from) send(from, to, message)
  }

  // Node event processing ------------------------------------------------------------

  async function feed(node: SimNode, event: ConsensusEvent, isInput: boolean): Promise<void> {
    if (isInput && !node.isReplaying) node.disk.wal.push({ event })
    const { state, actions, rejected } = node.consensus.step(node.state, event)
    node.state = state
    if (debug && event.type === 'commit')
      console.log(
        `t=${nowMs} node ${node.index} commit h=${event.commit.height} -> ${rejected ?? 'accepted'} decided=${state.decided !== null} blockValid=${node.consensus.checkBlock(state, event.block)}`,
      )
    for (const action of actions) await perform(node, action)
  }

  function recordSignature(node: SimNode, vote: Vote): void {
    const key = `${hashKey(vote.validator)}/${vote.height}/${vote.round}/${vote.type}`
    if (isHonest(node.index)) {
      const prev = honestSigs.get(key)
      const mine = hashKey(vote.blockHash)
      if (prev !== undefined && prev !== mine)
        fail(`honest validator ${node.index} double-signed ${key}: ${prev.slice(0, 8)} and ${mine.slice(0, 8)}`)
      honestSigs.set(key, mine)
      return
    }
    const prev = byzSigs.get(key)
    if (prev === undefined) byzSigs.set(key, vote)
    else if (hashKey(prev.blockHash) !== hashKey(vote.blockHash) && !equivocations.has(key)) {
      equivocations.set(key, { voteA: prev, voteB: vote })
      stats.equivocations++
    }
  }

  function rawSignVote(node: SimNode, vote: Omit<Vote, 'signature'>): Vote {
    return { ...vote, signature: signInDomain(node.signer, { chainId, kind: 'vote' }, voteSignBytes(vote)) }
  }

  async function perform(node: SimNode, action: ConsensusAction): Promise<void> {
    switch (action.type) {
      case 'sign-vote': {
        let vote: Vote
        try {
          vote =
            node.byzantine === 'amnesia' || node.byzantine === 'equivocate'
              ? rawSignVote(node, action.vote)
              : node.privval.signVote(action.vote)
        } catch {
          stats.signaturesRefusedAfterRestart++
          return
        }
        if (!node.isReplaying) node.disk.wal.push({ event: { type: 'vote', vote, nowMs: action.vote.timeMs, isVerified: true } })
        node.disk.walSynced = node.disk.wal.length
        recordSignature(node, vote)
        if (node.byzantine === 'equivocate') {
          // A second vote for another value: the honest peers are split in two, each half gets one.
          const other: Vote = rawSignVote(node, {
            ...action.vote,
            blockHash: action.vote.blockHash === null ? sha256(vote.signature) : null,
          })
          recordSignature(node, other)
          let honestSeen = 0
          for (let to = 0; to < nodes.length; to++) {
            if (to === node.index) continue
            const useOther = isHonest(to) ? honestSeen++ % 2 === 1 : netRng.chance(0.5)
            send(node.index, to, { kind: 'vote', vote: useOther ? other : vote })
          }
        } else broadcast(node.index, { kind: 'vote', vote })
        await feed(node, { type: 'vote', vote, nowMs: localNow(node), isVerified: true }, false)
        return
      }
      case 'sign-proposal': {
        let proposal: Proposal
        try {
          proposal =
            node.byzantine === null
              ? node.privval.signProposal(action.proposal)
              : {
                  ...action.proposal,
                  signature: signInDomain(node.signer, { chainId, kind: 'proposal' }, proposalSignBytes(action.proposal)),
                }
        } catch {
          stats.signaturesRefusedAfterRestart++
          return
        }
        if (!node.isReplaying)
          node.disk.wal.push({
            event: { type: 'proposal', proposal, block: action.block, nowMs: action.proposal.timeMs, isVerified: true },
          })
        node.disk.walSynced = node.disk.wal.length
        if (node.byzantine === 'conflicting-proposals') {
          const extra = utf8.encode(`byzantine-${action.proposal.height}-${action.proposal.round}=${node.index}`)
          submittedTxs.add(hashKey(extra))
          const txs = [...action.block.txs, extra]
          const block2: Block = { ...action.block, txs, header: { ...action.block.header, txRoot: txRoot(txs) } }
          const p2body = { ...action.proposal, blockHash: blockHash(block2.header) }
          const p2: Proposal = { ...p2body, signature: signInDomain(node.signer, { chainId, kind: 'proposal' }, proposalSignBytes(p2body)) }
          for (let to = 0; to < nodes.length; to++) {
            if (to === node.index) continue
            const isSecond = to % 2 === 1
            send(
              node.index,
              to,
              isSecond ? { kind: 'proposal', proposal: p2, block: block2 } : { kind: 'proposal', proposal, block: action.block },
            )
          }
        } else broadcast(node.index, { kind: 'proposal', proposal, block: action.block })
        await feed(node, { type: 'proposal', proposal, block: action.block, nowMs: localNow(node), isVerified: true }, false)
        return
      }
      case 'request-txs': {
        const txs = node.app.prepareProposal({
          height: action.height,
          timeMs: action.timeMs,
          txs: [...node.mempool.values()],
          bytesMax: action.bytesMax,
        })
        await feed(node, { type: 'proposal-txs', height: action.height, round: action.round, txs, nowMs: localNow(node) }, true)
        return
      }
      case 'schedule-timeout':
        queue.push(nowMs + action.durationMs, {
          type: 'timeout',
          node: node.index,
          incarnation: node.incarnation,
          event: { type: 'timeout', height: action.height, round: action.round, step: action.step, nowMs: 0 },
        })
        return
      case 'decide': {
        const { block, commit } = action
        const h = block.header.height
        stats.rounds = Math.max(stats.rounds, commit.round)
        const response = await node.app.finalizeBlock(action.request)
        await node.app.commit()
        node.disk.blocks[h - 1] = { block, commit }
        for (const tx of block.txs) node.mempool.delete(hashKey(tx))
        // Recheck the mempool against the new state (CometBFT recheck): spent nonces leave it.
        if (block.txs.length > 0) for (const [key, tx] of node.mempool) if (node.app.checkTx(tx).code !== 0) node.mempool.delete(key)
        if (isHonest(node.index)) checkDecision(node, block, response.stateRoot)
        await feed(
          node,
          { type: 'applied', height: h, stateRoot: response.stateRoot, validatorUpdates: response.validatorUpdates, nowMs: localNow(node) },
          false,
        )
        node.heightStartedAtMs = nowMs
        // Executing, storing the block and the snapshot form one synced write.
        node.disk.snapshot = structuredClone(node.state)
        node.disk.wal = []
        node.disk.walSynced = 0
        if (node.mempool.size > 0) await feed(node, { type: 'txs-available', nowMs: localNow(node) }, false)
        return
      }
      case 'broadcast-evidence':
        broadcast(node.index, { kind: 'evidence', voteA: action.voteA, voteB: action.voteB })
        return
    }
  }

  function checkDecision(node: SimNode, block: Block, stateRoot: Uint8Array): void {
    const h = block.header.height
    const hash = hashKey(blockHash(block.header))
    const prev = decidedByHeight.get(h)
    if (prev === undefined) decidedByHeight.set(h, hash)
    else if (prev !== hash)
      fail(`agreement violated at height ${h}: node ${node.index} decided ${hash.slice(0, 12)}, another ${prev.slice(0, 12)}`)
    const root = hashKey(stateRoot)
    const prevRoot = rootByHeight.get(h)
    if (prevRoot === undefined) rootByHeight.set(h, root)
    else if (prevRoot !== root) fail(`state roots differ after height ${h} at node ${node.index}`)
    // Validity: only submitted transactions (or a Byzantine proposer's extra one) and a proposer from the set.
    for (const tx of block.txs) if (!submittedTxs.has(hashKey(tx))) fail(`height ${h} contains a transaction nobody submitted`)
    if (!validators.some((v) => hashKey(v.address) === hashKey(block.header.proposer))) fail(`height ${h} has an unknown proposer`)
    if (h > 1) {
      const parent = node.disk.blocks[h - 2]
      if (parent !== undefined && hashKey(blockHash(parent.block.header)) !== hashKey(block.header.lastBlockHash))
        fail(`height ${h} does not extend ${h - 1}`)
    }
    for (const e of block.evidence) {
      if (node.index === firstHonest) stats.evidenceCommitted++
      evidenceCommitted.add(evidenceKey(e))
    }
  }
  async function handleMessage(node: SimNode, from: number, message: Message): Promise<void> {
    const now = localNow(node)
    switch (message.kind) {
      case 'proposal':
        await feed(node, { type: 'proposal', proposal: message.proposal, block: message.block, nowMs: now }, true)
        return
      case 'vote':
        await feed(node, { type: 'vote', vote: message.vote, nowMs: now }, true)
        return
      case 'evidence':
        await feed(node, { type: 'evidence', voteA: message.voteA, voteB: message.voteB, nowMs: now }, true)
        return
      case 'commit':
        if (message.commit.height === node.state.height)
          await feed(node, { type: 'commit', block: message.block, commit: message.commit, nowMs: now }, true)
        return
      case 'tx': {
        const key = hashKey(message.tx)
        if (node.mempool.has(key) || node.app.checkTx(message.tx).code !== 0) return
        node.mempool.set(key, message.tx)
        if (node.state.step === 'new-height') await feed(node, { type: 'txs-available', nowMs: now }, false)
        return
      }
      case 'bundle':
        node.peerHeights[from] = message.height
        node.peerSummaries[from] = message.summary
        for (const item of message.items) {
          if (!node.isUp) return
          await handleMessage(node, from, item)
        }
        return
    }
  }

  /**
   * What a node holds at its height: per vote set its size and an order-independent digest
   * of the signatures (so that two sets of equal size but different votes, e.g. after an
   * equivocation, still differ), and the rounds with a proposal (CometBFT's HasVote role).
   */
  function summaryOf(node: SimNode): Map<string, number> {
    const out = new Map<string, number>()
    for (const [key, set] of node.state.votes) {
      let digest = 0
      for (const vote of set.votes.values())
        digest =
          (digest + (vote.signature[0] as number) * 16777216 + (vote.signature[1] as number) * 65536 + (vote.signature[2] as number)) %
          4294967296
      out.set(key, set.votes.size * 4294967296 + digest)
    }
    for (const round of node.state.proposals.keys()) out.set(`p/${round}`, 1)
    return out
  }

  /** Gossip: what this node holds for its height that a peer lacks, and decided blocks for peers behind it. */
  function gossip(node: SimNode): void {
    const s = node.state
    const summary = summaryOf(node)
    const isNewHeight = nowMs - node.heightStartedAtMs < 3 * scenario.gossipIntervalMs
    for (let to = 0; to < nodes.length; to++) {
      if (to === node.index) continue
      const items: Message[] = []
      const peerHeight = node.peerHeights[to] as number
      const peer = peerHeight === s.height ? node.peerSummaries[to] : undefined
      if (peerHeight > 0 && peerHeight < s.height) {
        const stored = node.disk.blocks[peerHeight - 1]
        if (stored !== undefined) items.push({ kind: 'commit', block: stored.block, commit: stored.commit })
      } else {
        for (const p of s.proposals.values()) {
          if (peer?.has(`p/${p.round}`) === true) continue
          const block = s.blocks.get(hashKey(p.blockHash))
          if (block !== undefined) items.push({ kind: 'proposal', proposal: p, block })
        }
        for (const [key, set] of s.votes) {
          if (peer !== undefined && peer.get(key) === summary.get(key)) continue
          for (const vote of set.votes.values()) items.push({ kind: 'vote', vote })
        }
        // The previous height's votes for a short while: late precommits, and equivocations seen late.
        if (isNewHeight) for (const set of s.lastVotes.values()) for (const vote of set.votes.values()) items.push({ kind: 'vote', vote })
        for (const pair of s.evidencePool.values()) items.push({ kind: 'evidence', voteA: pair.voteA, voteB: pair.voteB })
      }
      send(node.index, to, { kind: 'bundle', height: s.height, summary, items })
    }
  }

  // Crash and restart ----------------------------------------------------------------

  function crash(node: SimNode): void {
    if (!node.isUp) return
    stats.crashes++
    node.isUp = false
    node.incarnation++
    const disk = node.disk
    if (faultRng.chance(scenario.tornWriteRate)) disk.wal.length = faultRng.int(disk.walSynced, disk.wal.length)
    if (node.byzantine === 'amnesia') {
      // Forgets everything it promised: locks, WAL, signer state.
      disk.wal = []
      disk.walSynced = 0
      disk.signer = null
    }
  }

  async function restart(index: number): Promise<void> {
    const old = nodes[index] as SimNode
    if (old.isUp) return
    const node = makeNode(index, old.disk, old.incarnation, old.group)
    node.clockSkewMs = old.clockSkewMs
    nodes[index] = node
    node.isReplaying = true
    for (const entry of node.disk.wal.slice()) await feed(node, entry.event, true)
    node.isReplaying = false
    await feed(node, { type: 'start', nowMs: localNow(node) }, false)
    queue.push(nowMs + scenario.gossipIntervalMs, { type: 'gossip', node: index, incarnation: node.incarnation })
  }

  // Main loop ---------------------------------------------------------------------------

  for (const node of nodes) {
    queue.push(faultRng.int(0, 50), { type: 'gossip', node: node.index, incarnation: 0 })
  }
  queue.push(0, { type: 'client' })
  if (scenario.partitionRatePerSecond > 0) queue.push(faultRng.int(0, 2000), { type: 'partition' })
  for (const node of nodes) {
    if (scenario.crashRatePerSecond > 0 || node.byzantine === 'amnesia') {
      queue.push(faultRng.int(500, Math.max(1000, scenario.faultPhaseMs)), { type: 'crash', node: node.index })
    }
  }
  queue.push(scenario.faultPhaseMs, { type: 'phase-end' })
  for (const node of nodes) await feed(node, { type: 'start', nowMs: localNow(node) }, false)

  let partitionId = 0
  let txSeq = 0
  let livenessTarget = Infinity
  let livenessDeadline = Infinity
  const honestHeightMin = () => Math.min(...nodes.filter((n) => isHonest(n.index)).map((n) => n.state.height - 1))

  for (let steps = 0; steps < 5_000_000; steps++) {
    const next = queue.pop()
    if (next === undefined) break
    nowMs = next.atMs
    if (nowMs > livenessDeadline) {
      if (process.env.TERRANE_SIM_DEBUG !== undefined) {
        for (const n of nodes) {
          const st = n.state
          const votes = [...st.votes.entries()].map(([k, v]) => `${k}:${v.votes.size}/${v.power}`).join(' ')
          console.log(
            `  proposals: ${[...st.proposals.values()]
              .slice(0, 4)
              .map((p) => `${p.round}:${hashKey(p.blockHash).slice(0, 6)}/pol${p.polRound}`)
              .join(' ')}`,
          )
          console.log(
            `  validity: ${[...st.validity].map(([k, v]) => `${k.slice(0, 6)}=${v}:${st.blocks.has(k) ? n.consensus.checkBlock(st, st.blocks.get(k) as Block) : '?'}`).join(' ')} locked=${st.lockedBlock === null ? '-' : hashKey(blockHash(st.lockedBlock.header)).slice(0, 6)}`,
          )
          console.log(
            `  prevotes r0: ${[...(st.votes.get('0/prevote')?.powerByBlock ?? [])].map(([k, v]) => `${k.slice(0, 6)}=${v}`).join(' ')} r1: ${[...(st.votes.get('1/prevote')?.powerByBlock ?? [])].map(([k, v]) => `${k.slice(0, 6)}=${v}`).join(' ')}`,
          )
          console.log(
            `node ${n.index} byz=${n.byzantine} up=${n.isUp} h=${st.height} r=${st.round} step=${st.step} locked=${st.lockedRound} valid=${st.validRound} props=${[...st.proposals.keys()].join(',')} decided=${st.decided !== null} votes: ${votes} fired=${[...st.fired].join(',')}`,
          )
        }
      }
      fail(
        `liveness: honest nodes at ${honestHeightMin()} did not reach ${livenessTarget} within ${livenessDeadlineMs} ms after the faults stopped`,
      )
      break
    }
    if (failures.length > 0) break
    const e = next.item
    switch (e.type) {
      case 'deliver': {
        const node = nodes[e.to] as SimNode
        const src = nodes[e.from] as SimNode
        if (!node.isUp || (e.from !== e.to && src.group !== node.group)) break
        await handleMessage(node, e.from, e.message)
        break
      }
      case 'timeout': {
        const node = nodes[e.node] as SimNode
        if (!node.isUp || node.incarnation !== e.incarnation) break
        await feed(node, { ...e.event, nowMs: localNow(node) } as ConsensusEvent, true)
        break
      }
      case 'gossip': {
        const node = nodes[e.node] as SimNode
        if (!node.isUp || node.incarnation !== e.incarnation) break
        gossip(node)
        queue.push(nowMs + scenario.gossipIntervalMs, e)
        break
      }
      case 'client': {
        const tx = appDriver.makeTx(txSeq++, (n) => clientRng.int(0, n - 1))
        submittedTxs.add(hashKey(tx))
        const target = clientRng.int(0, nodes.length - 1)
        send(target, target, { kind: 'tx', tx })
        broadcast(target, { kind: 'tx', tx })
        queue.push(nowMs + clientRng.int(50, 600), e)
        break
      }
      case 'crash': {
        if (!isFaultPhase) break
        const node = nodes[e.node] as SimNode
        crash(node)
        queue.push(nowMs + faultRng.int(100, scenario.downtimeMaxMs), { type: 'restart', node: e.node })
        const rate = node.byzantine === 'amnesia' ? Math.max(scenario.crashRatePerSecond, 0.3) : scenario.crashRatePerSecond
        if (rate > 0) queue.push(nowMs + Math.ceil(1000 / rate) * faultRng.float() * 2 + 100, { type: 'crash', node: e.node })
        break
      }
      case 'restart':
        await restart(e.node)
        break
      case 'partition': {
        if (!isFaultPhase) break
        stats.partitions++
        const id = ++partitionId
        for (const node of nodes) node.group = faultRng.int(0, 1)
        queue.push(nowMs + faultRng.int(200, scenario.partitionDurationMaxMs), { type: 'heal-partition', id })
        queue.push(nowMs + Math.ceil((1000 / scenario.partitionRatePerSecond) * faultRng.float() * 2) + 100, { type: 'partition' })
        break
      }
      case 'heal-partition':
        if (e.id === partitionId) for (const node of nodes) node.group = 0
        break
      case 'phase-end': {
        isFaultPhase = false
        for (const node of nodes) node.group = 0
        for (const node of nodes) if (!node.isUp) await restart(node.index)
        const heightMax = Math.max(...nodes.filter((n) => isHonest(n.index)).map((n) => n.state.height - 1))
        livenessTarget = heightMax + livenessHeights
        livenessDeadline = nowMs + livenessDeadlineMs
        break
      }
    }
    if (!isFaultPhase && honestHeightMin() >= livenessTarget) break
  }

  // Final checks ---------------------------------------------------------------------
  const honest = nodes.filter((n) => isHonest(n.index))
  for (const [key, eq] of equivocations) {
    const [voteA, voteB] = [eq.voteA, eq.voteB]
    const h = voteA.height
    if (h + evidenceMaxAgeBlocks - 5 > honestHeightMin()) continue // still within its window: not yet due
    if (!evidenceCommitted.has(evidenceKey({ voteA })) && !evidenceCommitted.has(evidenceKey({ voteA: voteB }))) {
      fail(`equivocation ${key} was never committed as evidence`)
    }
  }
  // Every committed piece of evidence reached the app and is in its state (a slash).
  for (const node of honest) {
    if (node.state.height <= 1) continue
    for (const key of evidenceCommitted) {
      const address = key.split('/')[0] as string
      const offence = Number(key.split('/')[1])
      if (offence >= node.state.height - 1) continue
      const validator = validators.find((v) => hashKey(v.address) === address)?.address as Uint8Array
      if (!node.app.isSlashed(validator) && node.disk.blocks.some((b) => b.block.evidence.some((e) => evidenceKey(e) === key))) {
        fail(`evidence ${key} was committed at node ${node.index} but its state records no slash`)
        break
      }
    }
  }
  const heights = honest.map((n) => n.state.height - 1)
  return {
    seed: init.seed,
    scenario,
    isOk: failures.length === 0,
    failures,
    heightMin: Math.min(...heights),
    heightMax: Math.max(...heights),
    simulatedMs: nowMs,
    stats,
  }
}

/** The command that replays a seed exactly. */
export function replayCommand(seed: number, app: 'kv' | 'chain' = 'kv'): string {
  // Kept in step with bin.ts.
  return `npm run sim -- --seed ${seed}${app === 'chain' ? ' --app chain' : ''}`
}
