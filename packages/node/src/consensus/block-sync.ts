import { encode, decode, toHex } from '@terrane/codec'
import { createVerifierPool, domainMessage, verifyInDomain, type SignedItem, type VerifierPool } from '@terrane/crypto'
import {
  bytesEqual,
  blockHash,
  defaultVerifySignature,
  hashOfValidatorSet,
  verifyCommit,
  voteSignBytes,
  commitVote,
  type Block,
  type Commit,
  type ValidatorSet,
  type VerifySignature,
} from '@terrane/consensus'
import type { P2PNode } from '@terrane/p2p'
import type { BlockStore } from '../storage/block-store.ts'
import type { ConsensusDriver } from './driver.ts'
import { blocksRequestSchema, blocksResponseSchema, syncBlocksPerRequestMax, type BlocksResponse } from './wire.ts'

export const blocksProtocol = 'blocks'
/** Bound on one block-sync response. */
export const syncResponseBytesMax = 8 * 1024 * 1024
/** Range requests in flight while catching up, spread over the peers ahead of us. */
export const syncRequestsInFlightMax = 4
/** Range requests in flight to one peer (two keep a single peer's link busy while we apply). */
export const syncRequestsPerPeerMax = 2
/** How long a peer has to answer one range request. */
export const syncRequestTimeoutMs = 10_000
/** Signatures the verified-signature cache keeps (a 4-validator chain uses 6 per block). */
export const verifiedSignaturesMax = 16_384

/** What the reactor knows about a peer from its status messages. */
export interface SyncPeer {
  height: number
  baseHeight: number
}

/**
 * Signatures verified in batches on the worker pool, for the reducer's `verify` hook:
 * a hit must match the key, payload, chain and kind exactly; anything else is
 * verified inline, so the cache can only save work, never change a verdict.
 */
export class VerifiedSignatures {
  private readonly entries = new Map<string, { chainId: string; kind: string; publicKey: Uint8Array; payload: Uint8Array }>()

  /** Records a signature the pool found valid. */
  add(chainId: string, kind: string, publicKey: Uint8Array, payload: Uint8Array, signature: Uint8Array): void {
    const key = toHex(signature)
    if (this.entries.has(key)) return
    if (this.entries.size >= verifiedSignaturesMax) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
    this.entries.set(key, { chainId, kind, publicKey, payload })
  }

  get size(): number {
    return this.entries.size
  }

  /** A `VerifySignature` for `createConsensus`: cache hit or the inline verifier. */
  readonly verify: VerifySignature = (chainId, kind, publicKey, payload, signature) => {
    const hit = this.entries.get(toHex(signature))
    if (
      hit !== undefined &&
      hit.chainId === chainId &&
      hit.kind === kind &&
      bytesEqual(hit.publicKey, publicKey) &&
      bytesEqual(hit.payload, payload)
    )
      return true
    return defaultVerifySignature(chainId, kind, publicKey, payload, signature)
  }
}

export interface BlockSyncComponents {
  p2p: P2PNode
  driver: () => ConsensusDriver
  blockStore: BlockStore
  /** The reactor's view of its peers (height and lowest stored height from status messages). */
  peers: () => ReadonlyMap<string, SyncPeer>
  /** Forget a peer that lied about its height (until its next status). */
  forgetPeer: (peerId: string) => void
  log: (message: string, context?: Record<string, unknown>) => void
  /** The chain id; without it, block 1's (from the store) once stored. */
  chainId?: string
  /** Verifies fetched commits in batches; without one, sync starts a one-worker pool of its own. */
  verifier?: VerifierPool
  /** Filled with the signatures the pool verified, for the consensus `verify` hook. */
  verifiedSignatures?: VerifiedSignatures
  /**
   * The state store, when it can hold its writes back: then a synced run costs three
   * fsyncs in all (blocks, results, state) instead of two per block (results, state).
   */
  stateStore?: DeferrableStore
}

/**
 * A store that can keep its writes in memory (readable, not yet on disk) until
 * `flush()` writes them in one synced batch and ends the deferral.
 */
export interface DeferrableStore {
  deferWrites(): void
  flush(): Promise<void>
}

/** Where the verified chain of fetched headers ends: the next block must follow it. */
interface Anchor {
  height: number
  hash: Uint8Array
  /** The validator set the next block must name (its header's validatorsHash). */
  nextValidatorsHash: Uint8Array
  /** The set that signed the commit of `height` (checks the next block's lastCommit). */
  validators: ValidatorSet | null
}

interface Fetched {
  peerId: string
  fromHeight: number
  count: number
  items: BlocksResponse['items']
}

/**
 * Catching up, as CometBFT's block-sync reactor does: ranges of decided blocks are
 * fetched from several peers in parallel, their commits verified in batches on the
 * worker pool, each verified run stored with one fsync, then handed to consensus,
 * which checks and executes every block as it would its own decision. Fetching,
 * verifying and applying overlap: while consensus executes one run, the next is
 * verified and the ones after it are on the wire.
 *
 * Why one fsync per run is enough (consensus syncs every block it decides itself):
 * a fetched block is written before it is executed, in one synced batch with the rest
 * of its run, so the block store is never behind the state after a crash or a power
 * loss, and a restart replays from it. Blocks lost from an unsynced tail would simply
 * be fetched again: nothing this node signed depends on them.
 *
 * What is stored is only what the pool verified against the validator set the
 * chain itself names: each block follows the previous one (height, lastBlockHash,
 * chain id), names the validator set the previous header announced (its
 * nextValidatorsHash, as a light client checks), that set is one whose keys we hold,
 * and more than 2/3 of its power signed the block. A run ends at the first block that
 * does not pass; consensus still re-checks everything (state root, transactions,
 * last commit) before executing.
 */
export class BlockSync {
  private isRunning = false
  private isStopped = false
  private ownPool: VerifierPool | undefined
  private chainId: string | undefined
  private onStopped: () => void = () => undefined
  /** Resolves on stop: a wait for consensus must not outlive the node (the driver stops first). */
  private readonly stopped = new Promise<void>((resolve) => {
    this.onStopped = resolve
  })

  constructor(private readonly c: BlockSyncComponents) {
    this.chainId = c.chainId
  }

  /** Starts catching up if a peer is ahead and no sync is running; resolves when that sync ends. */
  maybeStart(): Promise<void> | undefined {
    if (this.isRunning || this.isStopped) return undefined
    const height = this.c.driver().height
    const isBehind = [...this.c.peers().values()].some((p) => p.height > height)
    if (!isBehind) return undefined
    this.isRunning = true
    return this.run()
      .catch((err: unknown) => this.c.log('Block sync stopped', { error: (err as Error).message }))
      .finally(() => {
        this.isRunning = false
      })
  }

  async stop(): Promise<void> {
    this.isStopped = true
    this.onStopped()
    await this.ownPool?.close()
    this.ownPool = undefined
  }

  /** Answers a range request from the block store. */
  async serve(bytes: Uint8Array): Promise<Uint8Array> {
    const request = decode(blocksRequestSchema, bytes)
    const items: BlocksResponse['items'] = []
    let size = 0
    const last = Math.min(this.c.blockStore.height, request.fromHeight + request.count - 1)
    for (let height = request.fromHeight; height <= last; height++) {
      const block = await this.c.blockStore.block(height)
      const commit = await this.c.blockStore.commit(height)
      if (block === undefined || commit === undefined) break
      size += estimateBytes(block)
      if (size > syncResponseBytesMax / 2 && items.length > 0) break
      items.push({ block, commit })
    }
    return encode(blocksResponseSchema, { items })
  }

  private async run(): Promise<void> {
    const driver = this.c.driver()
    // The start-up replay feeds stored blocks first; sync continues where it ends.
    await driver.idle()
    const inFlight = new Map<number, Promise<Fetched | undefined>>()
    const perPeer = new Map<string, number>()
    const request = (peerId: string, fromHeight: number, count: number) => {
      perPeer.set(peerId, (perPeer.get(peerId) ?? 0) + 1)
      inFlight.set(
        fromHeight,
        this.fetch(peerId, fromHeight, count).finally(() => perPeer.set(peerId, (perPeer.get(peerId) ?? 1) - 1)),
      )
    }
    let planned = driver.height
    let next = driver.height
    let anchor: Anchor | undefined
    /** Runs handed to consensus and not yet seen applied, oldest first. */
    const delivered: Array<{ fromHeight: number; throughHeight: number; peerId: string }> = []
    try {
      for (;;) {
        if (this.isStopped) return
        // Keep the window full: ranges in height order, each to a peer that has it.
        while (inFlight.size < syncRequestsInFlightMax) {
          const source = this.pickSource(planned, perPeer)
          if (source === undefined) break
          const count = Math.min(syncBlocksPerRequestMax, source[1].height - planned)
          request(source[0], planned, count)
          planned += count
        }
        const pending = inFlight.get(next)
        if (pending === undefined) break // nothing more to fetch
        const fetched = await pending
        inFlight.delete(next)
        if (fetched === undefined) break // the peer was penalised; the next status tick plans again
        // A short answer (the response size bound): fetch the gap before anything later.
        if (fetched.items.length < fetched.count) {
          const gapFrom = next + fetched.items.length
          request(fetched.peerId, gapFrom, fetched.count - fetched.items.length)
        }
        let rest = fetched
        while (rest.items.length > 0) {
          if (anchor === undefined || anchor.height !== next - 1) {
            // Verification follows the fetched headers; a new start is where consensus is.
            if (!(await this.settle(delivered))) return
            anchor = this.anchorFromDriver()
          }
          const run = await this.verifyRun(rest, anchor)
          if (run.items.length > 0) {
            await this.storeRun(run.items)
            const throughHeight = next + run.items.length - 1
            if (this.c.stateStore !== undefined) {
              // Stored and synced above, these blocks can be executed again after any crash:
              // their results and state go to disk once per settle, results first.
              this.c.blockStore.deferResultsThrough(throughHeight)
              this.c.stateStore.deferWrites()
            }
            for (const { block, commit } of run.items) driver.deliver({ type: 'commit', block, commit, nowMs: Date.now() })
            delivered.push({ fromHeight: next, throughHeight, peerId: rest.peerId })
            next = throughHeight + 1
            anchor = run.anchor
          }
          if (run.cut === 'invalid') {
            await this.settle(delivered)
            return // the peer was penalised; the next status tick plans again
          }
          rest = { ...rest, fromHeight: next, items: rest.items.slice(run.items.length) }
          if (run.cut === 'unverifiable' && rest.items.length > 0) {
            // Not provably decided against what we know (block 1 before the chain id is
            // known, a validator set whose keys only consensus has yet): consensus checks
            // the next block alone, then verification starts again from where it is.
            if (!(await this.settle(delivered))) return
            if (!(await this.applyOne(rest))) return
            next += 1
            anchor = undefined
            rest = { ...rest, fromHeight: next, items: rest.items.slice(1) }
          }
        }
        // Bound consensus's queue to about two runs: verify the next while it executes these.
        if (next - driver.height > 2 * syncBlocksPerRequestMax && !(await this.settle(delivered))) return
      }
      await this.settle(delivered)
    } finally {
      // Responses still on the wire are dropped; their peers are not at fault.
      inFlight.clear()
    }
  }

  /**
   * Waits until consensus has worked through every delivered run; a block it refused
   * (it stopped below the end of the runs) costs the peer that served it.
   */
  private async settle(delivered: Array<{ fromHeight: number; throughHeight: number; peerId: string }>): Promise<boolean> {
    if (delivered.length === 0) return true
    const driver = this.c.driver()
    await Promise.race([driver.idle(), this.stopped])
    if (this.isStopped) return false
    if (this.c.stateStore !== undefined) {
      await this.c.blockStore.flush()
      this.c.blockStore.deferResultsThrough(0)
      await this.c.stateStore.flush()
    }
    const last = delivered[delivered.length - 1] as (typeof delivered)[number]
    const refused = driver.height <= last.throughHeight ? delivered.find((r) => r.throughHeight >= driver.height) : undefined
    delivered.length = 0
    if (refused === undefined) return true
    this.c.p2p.penalize(refused.peerId, 'invalid-data')
    this.c.log('Consensus refused a synced block', { height: driver.height, peerId: refused.peerId })
    return false
  }

  /** The unverified path: one block through consensus, which checks the commit itself. */
  private async applyOne(fetched: Fetched): Promise<boolean> {
    const driver = this.c.driver()
    const item = fetched.items[0]
    if (item === undefined || item.block.header.height !== driver.height) return false
    driver.deliver({ type: 'commit', block: item.block, commit: item.commit, nowMs: Date.now() })
    await driver.idle()
    if (driver.height > item.block.header.height) return true
    // The commit did not verify against the validator set consensus knows.
    this.c.p2p.penalize(fetched.peerId, 'invalid-data')
    return false
  }

  /** Stores a verified run in one synced batch, skipping heights consensus stored meanwhile. */
  private async storeRun(items: BlocksResponse['items']): Promise<void> {
    const store = this.c.blockStore
    const fresh = items.filter((item) => item.block.header.height > store.height)
    if (fresh.length === 0 || (fresh[0] as (typeof fresh)[number]).block.header.height !== store.height + 1) return
    try {
      await store.saveBatch(fresh)
    } catch (err) {
      // Consensus stored one of these heights meanwhile (it decided it from gossip):
      // it stores the rest itself as it applies them.
      if (!(err instanceof RangeError)) throw err
    }
  }

  private pickSource(height: number, perPeer: ReadonlyMap<string, number>): [string, SyncPeer] | undefined {
    let best: [string, SyncPeer] | undefined
    for (const entry of this.c.peers()) {
      const [peerId, peer] = entry
      if (peer.height <= height || peer.baseHeight > height) continue
      const load = perPeer.get(peerId) ?? 0
      if (load >= syncRequestsPerPeerMax) continue
      if (best === undefined || load < (perPeer.get(best[0]) ?? 0)) best = entry
    }
    return best
  }

  private anchorFromDriver(): Anchor {
    const state = this.c.driver().current
    return {
      height: state.height - 1,
      hash: state.lastBlockHash,
      nextValidatorsHash: hashOfValidatorSet(state.validators),
      validators: state.lastValidators,
    }
  }

  private async resolveChainId(): Promise<string | undefined> {
    if (this.chainId !== undefined) return this.chainId
    const store = this.c.blockStore
    if (store.height === 0) return undefined
    this.chainId = (await store.block(store.baseHeight))?.header.chainId
    return this.chainId
  }

  /**
   * The longest prefix of a response that is provably decided, with every signature
   * of its commits (and of the last commits its blocks carry) verified in one batch.
   */
  private async verifyRun(
    fetched: Fetched,
    start: Anchor,
  ): Promise<{ items: BlocksResponse['items']; anchor: Anchor; cut: 'none' | 'unverifiable' | 'invalid' }> {
    const chainId = await this.resolveChainId()
    if (chainId === undefined) return { items: [], anchor: start, cut: 'unverifiable' }
    const state = this.c.driver().current
    const known = new Map<string, ValidatorSet>()
    for (const set of [state.validators, state.nextValidators, state.lastValidators])
      if (set !== null) known.set(toHex(hashOfValidatorSet(set)), set)

    // 1. The chain of headers: consecutive, linked, naming a validator set we hold.
    const linked: Array<{ block: Block; commit: Commit; set: ValidatorSet; previousSet: ValidatorSet | null }> = []
    let anchor = start
    for (const { block, commit } of fetched.items) {
      const header = block.header
      if (header.height !== anchor.height + 1 || header.chainId !== chainId) break
      if (!bytesEqual(header.lastBlockHash, anchor.hash) || !bytesEqual(header.validatorsHash, anchor.nextValidatorsHash)) break
      const set = known.get(toHex(header.validatorsHash))
      if (set === undefined) break
      linked.push({ block, commit, set, previousSet: anchor.validators })
      anchor = { height: header.height, hash: blockHash(header), nextValidatorsHash: header.nextValidatorsHash, validators: set }
    }

    // 2. Every signature in one batch on the pool.
    const items: SignedItem[] = []
    const meta: Array<{ publicKey: Uint8Array; payload: Uint8Array; signature: Uint8Array }> = []
    const seen = new Set<string>()
    const collect = (commit: Commit, set: ValidatorSet | null) => {
      if (set === null) return
      commit.signatures.forEach((sig, i) => {
        const validator = set.validators.find((v) => bytesEqual(v.address, sig.validator))
        const key = toHex(sig.signature)
        if (validator === undefined || seen.has(key)) return
        seen.add(key)
        const payload = voteSignBytes(commitVote(commit, i))
        items.push({ publicKey: validator.publicKey, message: domainMessage({ chainId, kind: 'vote' }, payload), signature: sig.signature })
        meta.push({ publicKey: validator.publicKey, payload, signature: sig.signature })
      })
    }
    for (const { block, commit, set, previousSet } of linked) {
      collect(commit, set)
      if (block.lastCommit !== null) collect(block.lastCommit, previousSet)
    }
    const verdicts = items.length === 0 ? [] : await this.pool().verifyBatch(items)
    const valid = new Map<string, { publicKey: Uint8Array; payload: Uint8Array }>()
    meta.forEach((m, i) => {
      if (verdicts[i] !== true) return
      valid.set(toHex(m.signature), m)
      this.c.verifiedSignatures?.add(chainId, 'vote', m.publicKey, m.payload, m.signature)
    })
    const fromBatch: VerifySignature = (id, kind, publicKey, payload, signature) => {
      const hit = valid.get(toHex(signature))
      if (hit !== undefined && bytesEqual(hit.publicKey, publicKey) && bytesEqual(hit.payload, payload)) return true
      return verifyInDomain(publicKey, { chainId: id, kind }, payload, signature)
    }

    // 3. More than 2/3 of the named set signed each block.
    const run: BlocksResponse['items'] = []
    let end = start
    let cut: 'none' | 'unverifiable' | 'invalid' = linked.length < fetched.items.length ? 'unverifiable' : 'none'
    for (const { block, commit, set } of linked) {
      const hash = blockHash(block.header)
      const tally = verifyCommit(set.validators, commit, { chainId, height: block.header.height, blockHash: hash, verify: fromBatch })
      if (typeof tally === 'string') {
        this.c.p2p.penalize(fetched.peerId, 'invalid-data')
        this.c.log('Synced commit did not verify', { height: block.header.height, reason: tally, peerId: fetched.peerId })
        cut = 'invalid'
        break
      }
      run.push({ block, commit })
      end = { height: block.header.height, hash, nextValidatorsHash: block.header.nextValidatorsHash, validators: set }
    }
    return { items: run, anchor: end, cut }
  }

  private pool(): VerifierPool {
    if (this.c.verifier !== undefined) return this.c.verifier
    // One worker: the main thread executes blocks on the other core meanwhile.
    this.ownPool ??= createVerifierPool({ workers: 1 })
    return this.ownPool
  }

  private async fetch(peerId: string, fromHeight: number, count: number): Promise<Fetched | undefined> {
    try {
      const bytes = await this.c.p2p.request(peerId, blocksProtocol, encode(blocksRequestSchema, { fromHeight, count }), {
        timeoutMs: syncRequestTimeoutMs,
      })
      const response = decode(blocksResponseSchema, bytes)
      // Only what we asked for: consecutive heights from `fromHeight`.
      const isAsked = response.items.every(
        (item, i) => item.block.header.height === fromHeight + i && item.commit.height === fromHeight + i,
      )
      if (!isAsked || response.items.length > count) {
        this.c.p2p.penalize(peerId, 'unsolicited-response')
        return undefined
      }
      if (response.items.length === 0) {
        // It said it was ahead but has nothing to give.
        this.c.p2p.penalize(peerId, 'lying-about-height')
        this.c.forgetPeer(peerId)
        return undefined
      }
      return { peerId, fromHeight, count, items: response.items }
    } catch (err) {
      if (this.isStopped) return undefined
      this.c.log('Block sync request failed', { peerId, error: (err as Error).message })
      this.c.p2p.penalize(peerId, 'unresponsive')
      return undefined
    }
  }
}

function estimateBytes(block: Block): number {
  let size = 1024
  for (const tx of block.txs) size += tx.length + 8
  return size
}
