import { decode, encode, t, type Schema } from '@terrane/codec'
import {
  blockSchema,
  commitSchema,
  proposalSchema,
  voteSchema,
  type Application,
  type Block,
  type Commit,
  type Consensus,
  type ConsensusAction,
  type ConsensusEvent,
  type ConsensusState,
  type FinalizeBlockResponse,
  type Genesis,
  type PrivValidator,
  type RejectReason,
  type Vote,
  voteSignBytesSchema,
} from '@terrane/consensus'
import type { Mempool } from '../mempool/index.ts'
import type { BlockStore } from '../storage/block-store.ts'
import type { WriteAheadLog } from '../storage/wal.ts'
import type { ConsensusMessage } from './wire.ts'

/** Real time and timers for the driver (the simulator has its own driver with virtual ones). */
export interface DriverClock {
  nowMs(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemDriverClock: DriverClock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** Where the driver sends what consensus says to broadcast. */
export interface ConsensusBroadcaster {
  broadcast(message: ConsensusMessage): void
  broadcastEvidence(voteA: ConsensusMessage & { kind: 'vote' }, voteB: ConsensusMessage & { kind: 'vote' }): void
}

/** What the rest of the node hears from consensus. */
export interface DriverEvents {
  onBlock?(block: Block, commit: Commit, results: FinalizeBlockResponse): void
  onRound?(height: number, round: number, step: string): void
  onRejected?(reason: RejectReason, event: ConsensusEvent['type']): void
}

export interface ConsensusDriverComponents {
  consensus: Consensus
  app: Application & { info(): { height: number; stateRoot: Uint8Array } }
  mempool: Mempool
  blockStore: BlockStore
  wal: WriteAheadLog
  /** Null for a full node that follows without signing. */
  privval: PrivValidator | null
  network: ConsensusBroadcaster
  clock: DriverClock
  events: DriverEvents
  log: (message: string, context?: Record<string, unknown>) => void
  /** Transactions in a block this node proposes (node option `consensus.proposalTxsMax`). @default unbounded (consensus's bytes bound only) */
  proposalTxsMax?: number
}

/** Events worth keeping in the WAL: everything that moves a height forward before it is decided. */
const walEventSchema: Schema<ConsensusEvent> = t.variant('type', {
  proposal: t.struct({ proposal: proposalSchema, block: blockSchema, nowMs: t.uint(), isVerified: t.optional(t.bool()) }),
  vote: t.struct({ vote: voteSchema, nowMs: t.uint(), isVerified: t.optional(t.bool()) }),
  timeout: t.struct({
    height: t.uint(),
    round: t.uint(),
    step: t.enumOf(['propose', 'prevote', 'precommit', 'commit'] as const),
    nowMs: t.uint(),
  }),
  'proposal-txs': t.struct({ height: t.uint(), round: t.uint(), txs: t.array(t.bytes()), nowMs: t.uint() }),
}) as unknown as Schema<ConsensusEvent>

const walEventTypes = new Set(['proposal', 'vote', 'timeout', 'proposal-txs'])

/**
 * Runs the consensus reducer for real: one event at a time, in arrival order.
 * It performs the reducer's actions (sign, broadcast, time out, execute a decided
 * block) with real I/O and feeds the results back as events.
 *
 * Durability: every input event goes to the WAL before the reducer sees it, and
 * the WAL is fsynced before any signed message leaves (the signer has already
 * fsynced its last-signed state). A decided block is stored (synced) before it
 * executes; its results are stored before the application commits; the WAL is
 * emptied once the height is committed. On restart, `start` replays stored blocks
 * into the application where it is behind, rebuilds the consensus state from
 * them, and replays the WAL of the unfinished height.
 */
export class ConsensusDriver {
  private state: ConsensusState
  private readonly queue: ConsensusEvent[] = []
  private isProcessing = false
  private isReplaying = false
  private isStopped = false
  private readonly timers = new Set<unknown>()
  private drained: Promise<void> = Promise.resolve()
  private lastRound = { height: 0, round: -1, step: '' }

  constructor(
    private readonly c: ConsensusDriverComponents,
    genesis: Genesis,
  ) {
    this.state = c.consensus.genesisState(genesis)
  }

  get height(): number {
    return this.state.height
  }

  get round(): number {
    return this.state.round
  }

  get step(): string {
    return this.state.step
  }

  /** The reducer state, read-only (for retransmission and the API). */
  get current(): Readonly<ConsensusState> {
    return this.state
  }

  /** Rebuilds state from the block store and WAL, then starts the current height. */
  async start(walRecords: readonly Uint8Array[]): Promise<void> {
    // Anyone waiting in idle() (block sync, which starts first) waits for the replay.
    const run = this.replay(walRecords)
    this.drained = run.then(
      () => undefined,
      () => undefined,
    )
    await run
    if (this.queue.length > 0) this.drained = this.drain()
  }

  private async replay(walRecords: readonly Uint8Array[]): Promise<void> {
    this.isProcessing = true
    this.isReplaying = true
    try {
      const stored = this.c.blockStore.height
      for (let height = this.state.height; height <= stored; height++) {
        const block = await this.c.blockStore.block(height)
        const commit = await this.c.blockStore.commit(height)
        if (block === undefined || commit === undefined) throw new Error(`block store is missing height ${height}`)
        await this.runNow({ type: 'commit', block, commit, nowMs: this.c.clock.nowMs() })
      }
      await this.runNow({ type: 'start', nowMs: this.c.clock.nowMs() })
      for (const record of walRecords) {
        let event: ConsensusEvent
        try {
          event = decode(walEventSchema, record)
        } catch {
          // The checksum passed, so this is a format change, not corruption: skip it; gossip refills.
          this.c.log('Skipped unreadable WAL record')
          continue
        }
        await this.runNow(event)
      }
    } finally {
      this.isReplaying = false
      this.isProcessing = false
    }
  }

  /** Processes one event and everything it causes, before returning. */
  private async runNow(event: ConsensusEvent): Promise<void> {
    this.queue.unshift(event)
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      await this.process(next)
      if (this.queue.length > 0 && !isOwnFollowUp(this.queue[0] as ConsensusEvent)) break
    }
  }

  /** Queues an event from the network or a timer; processing is serial. */
  deliver(event: ConsensusEvent): void {
    if (this.isStopped) return
    this.queue.push(event)
    if (!this.isProcessing) this.drained = this.drain()
  }

  /** Resolves once every queued event has been processed, or once the driver has stopped (what is left is dropped). */
  async idle(): Promise<void> {
    while (!this.isStopped && (this.isProcessing || this.queue.length > 0)) {
      const drained = this.drained
      await drained
      // Never spin on a settled promise: that would starve the event loop (and the work we wait for).
      if (drained === this.drained) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  async stop(): Promise<void> {
    this.isStopped = true
    for (const t of this.timers) this.c.clock.clearTimeout(t)
    this.timers.clear()
    await this.drained
  }

  private async drain(): Promise<void> {
    this.isProcessing = true
    try {
      for (let event = this.queue.shift(); event !== undefined && !this.isStopped; event = this.queue.shift()) await this.process(event)
    } finally {
      this.isProcessing = false
    }
  }

  private async process(event: ConsensusEvent): Promise<void> {
    if (!this.isReplaying && walEventTypes.has(event.type)) await this.c.wal.append(encode(walEventSchema, event), { sync: false })
    const result = this.c.consensus.step(this.state, event)
    this.state = result.state
    if (result.rejected !== undefined) this.c.events.onRejected?.(result.rejected, event.type)
    const { height, round, step } = this.state
    if (height !== this.lastRound.height || round !== this.lastRound.round || step !== this.lastRound.step) {
      this.lastRound = { height, round, step }
      this.c.events.onRound?.(height, round, step)
    }
    for (const action of result.actions) await this.perform(action)
  }

  private async perform(action: ConsensusAction): Promise<void> {
    switch (action.type) {
      case 'request-txs': {
        const candidates = this.c.mempool.reap(action.bytesMax, this.c.proposalTxsMax)
        const txs = this.c.app.prepareProposal({ height: action.height, timeMs: action.timeMs, txs: candidates, bytesMax: action.bytesMax })
        this.deliverNow({ type: 'proposal-txs', height: action.height, round: action.round, txs, nowMs: this.c.clock.nowMs() })
        return
      }
      case 'sign-proposal': {
        const proposal = this.signSafely(() => this.c.privval?.signProposal(action.proposal))
        if (proposal === undefined) return
        await this.c.wal.append(
          encode(walEventSchema, { type: 'proposal', proposal, block: action.block, nowMs: this.c.clock.nowMs(), isVerified: true }),
          { sync: true },
        )
        this.c.network.broadcast({ kind: 'proposal', proposal, block: action.block })
        this.deliverNow({ type: 'proposal', proposal, block: action.block, nowMs: this.c.clock.nowMs(), isVerified: true })
        return
      }
      case 'sign-vote': {
        // If the signer refuses because it already signed another vote at this step
        // (before a crash the WAL did not record), that earlier vote is the one this
        // validator cast: send it, so peers can count it.
        const vote = this.signSafely(() => this.c.privval?.signVote(action.vote)) ?? this.lastSignedVote(action.vote)
        if (vote === undefined) return
        await this.c.wal.append(encode(walEventSchema, { type: 'vote', vote, nowMs: this.c.clock.nowMs(), isVerified: true }), {
          sync: true,
        })
        this.c.network.broadcast({ kind: 'vote', vote })
        this.deliverNow({ type: 'vote', vote, nowMs: this.c.clock.nowMs(), isVerified: true })
        return
      }
      case 'schedule-timeout': {
        const handle = this.c.clock.setTimeout(() => {
          this.timers.delete(handle)
          this.deliver({ type: 'timeout', height: action.height, round: action.round, step: action.step, nowMs: this.c.clock.nowMs() })
        }, action.durationMs)
        this.timers.add(handle)
        return
      }
      case 'decide': {
        const height = action.block.header.height
        if (this.c.blockStore.height < height) await this.c.blockStore.save(action.block, action.commit)
        let results: FinalizeBlockResponse | undefined
        if (this.c.app.info().height >= height) {
          // Already executed and committed before a restart: use the stored results.
          results = await this.c.blockStore.results(height)
          if (results === undefined)
            throw new Error(`application is at height ${this.c.app.info().height} but results of ${height} are missing`)
        } else {
          results = await this.c.app.finalizeBlock(action.request)
          await this.c.blockStore.saveResults(height, results)
          await this.c.app.commit()
        }
        this.c.mempool.update(action.block.txs)
        if (!this.isReplaying) await this.c.wal.reset()
        this.c.events.onBlock?.(action.block, action.commit, results)
        this.deliverNow({
          type: 'applied',
          height,
          stateRoot: results.stateRoot,
          validatorUpdates: results.validatorUpdates,
          nowMs: this.c.clock.nowMs(),
        })
        return
      }
      case 'broadcast-evidence':
        this.c.network.broadcastEvidence({ kind: 'vote', vote: action.voteA }, { kind: 'vote', vote: action.voteB })
        return
    }
  }

  /** Events caused by our own actions run before anything else in the queue. */
  private deliverNow(event: ConsensusEvent): void {
    this.queue.unshift(event)
  }

  /** The vote the signer last signed, if it is for the same height, round and type. */
  private lastSignedVote(wanted: Omit<Vote, 'signature'>): Vote | undefined {
    const last = this.c.privval?.lastSigned
    if (last === null || last === undefined) return undefined
    try {
      const body = decode(voteSignBytesSchema, last.signBytes)
      if (body.height !== wanted.height || body.round !== wanted.round || body.type !== wanted.type) return undefined
      return { ...body, signature: last.signature }
    } catch {
      return undefined
    }
  }

  /** A refusal by the signer (a regression after a restart) is logged, never fatal. */
  private signSafely<T>(sign: () => T | undefined): T | undefined {
    try {
      return sign()
    } catch (err) {
      this.c.log('Refused to sign', { error: (err as Error).message })
      return undefined
    }
  }
}

/** Events our own actions produce, which must run before anything queued from outside. */
function isOwnFollowUp(event: ConsensusEvent): boolean {
  return event.type === 'applied' || event.type === 'proposal-txs' || ('isVerified' in event && event.isVerified === true)
}

/** Encodes a decided block with its commit (block sync responses use the same pair). */
export const decidedBlockSchema = t.struct({ block: blockSchema, commit: commitSchema })
