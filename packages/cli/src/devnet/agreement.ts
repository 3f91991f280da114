import { toHex } from '@terrane/codec'
import { blockHash } from '@terrane/consensus'
import { BlockStore, nodePaths } from '@terrane/node'
import { createClient } from '@terrane/sdk'

/** What one node stored for one height. */
export interface StoredHeight {
  hash: string
  lastBlockHash: string
  /** The header's state root: the app state after height - 1 (CometBFT's app hash). */
  stateRoot: string
  /** The app state root after executing this height, from the node's saved results (if any). */
  resultStateRoot: string | undefined
  /** Validators (hex addresses) in the commit this node saw for this height. */
  commitSigners: string[]
  /** Validators (hex addresses) in the next block's `lastCommit` (the canonical commit), if stored. */
  canonicalSigners: string[] | undefined
}

/** One node's chain as read from its block store. */
export interface StoredChain {
  label: string
  height: number
  baseHeight: number
  heights: Map<number, StoredHeight>
}

/**
 * Reads a stopped node's block store (LevelDB allows one process at a time, so
 * the node must not be running).
 */
export async function readStoredChain(home: string, label: string): Promise<StoredChain> {
  const store = await BlockStore.open(nodePaths(home).blocks)
  try {
    const heights = new Map<number, StoredHeight>()
    for (let h = Math.max(1, store.baseHeight); h <= store.height; h++) {
      const block = await store.block(h)
      const commit = await store.commit(h)
      if (block === undefined || commit === undefined) continue
      const results = await store.results(h)
      heights.set(h, {
        hash: toHex(blockHash(block.header)),
        lastBlockHash: toHex(block.header.lastBlockHash),
        stateRoot: toHex(block.header.stateRoot),
        resultStateRoot: results === undefined ? undefined : toHex(results.stateRoot),
        commitSigners: commit.signatures.map((s) => toHex(s.validator)),
        canonicalSigners: undefined,
      })
      const previous = heights.get(h - 1)
      if (previous !== undefined && block.lastCommit !== null)
        previous.canonicalSigners = block.lastCommit.signatures.map((s) => toHex(s.validator))
    }
    return { label, height: store.height, baseHeight: store.baseHeight, heights }
  } finally {
    await store.close()
  }
}

export interface AgreementReport {
  /** Heights at which at least one node stored a block. */
  heightsChecked: number
  /** Lowest and highest tip among the nodes. */
  minHeight: number
  maxHeight: number
  /** Empty when every node agrees at every height; otherwise one line per disagreement. */
  violations: string[]
}

/**
 * The CometBFT e2e invariant: at every height, every node that stored a block
 * stored the same block hash and state root, each block links to its parent,
 * and the state root a node computed for h equals the root in header h + 1.
 */
export function checkAgreement(chains: readonly StoredChain[]): AgreementReport {
  const violations: string[] = []
  const maxHeight = Math.max(0, ...chains.map((c) => c.height))
  const minHeight = chains.length === 0 ? 0 : Math.min(...chains.map((c) => c.height))
  let heightsChecked = 0
  for (let h = 1; h <= maxHeight; h++) {
    const stored = chains.flatMap((c) => {
      const s = c.heights.get(h)
      return s === undefined ? [] : [{ label: c.label, s }]
    })
    if (stored.length === 0) continue
    heightsChecked++
    const [first] = stored as [{ label: string; s: StoredHeight }]
    for (const { label, s } of stored) {
      if (s.hash !== first.s.hash) violations.push(`height ${h}: ${label} has block ${s.hash}, ${first.label} has ${first.s.hash}`)
      if (s.stateRoot !== first.s.stateRoot)
        violations.push(`height ${h}: ${label} has state root ${s.stateRoot}, ${first.label} has ${first.s.stateRoot}`)
    }
    for (const chain of chains) {
      const s = chain.heights.get(h)
      const previous = chain.heights.get(h - 1)
      if (s === undefined) continue
      if (previous !== undefined && s.lastBlockHash !== previous.hash)
        violations.push(`height ${h}: ${chain.label}'s block does not link to its block ${h - 1}`)
      if (previous?.resultStateRoot !== undefined && previous.resultStateRoot !== s.stateRoot)
        violations.push(
          `height ${h}: ${chain.label} computed root ${previous.resultStateRoot} for ${h - 1} but header ${h} says ${s.stateRoot}`,
        )
    }
  }
  return { heightsChecked, minHeight, maxHeight, violations }
}

/** Heights above `afterHeight` whose stored commits (seen or canonical) carry `validator`'s signature. */
export function heightsSignedBy(chain: StoredChain, validator: string, afterHeight: number): number[] {
  const out: number[] = []
  for (const [h, s] of chain.heights) {
    if (h <= afterHeight) continue
    if (s.commitSigners.includes(validator) || s.canonicalSigners?.includes(validator) === true) out.push(h)
  }
  return out.sort((a, b) => a - b)
}

/** Block requests in flight per node while reading a chain over the API. */
const apiReadConcurrency = 8

/**
 * Reads heights `fromHeight..toHeight` of a running node through its API (the
 * SDK): block hashes, parent links and state roots; no commit signatures.
 */
export async function readApiChain(url: string, label: string, fromHeight: number, toHeight: number): Promise<StoredChain> {
  const client = createClient({ url, timeoutMs: 30_000 })
  const heights = new Map<number, StoredHeight>()
  let next = Math.max(1, fromHeight)
  const worker = async () => {
    while (next <= toHeight) {
      const h = next++
      const block = await client.block(h)
      if (block === null) continue
      heights.set(h, {
        hash: block.header.hash,
        lastBlockHash: block.header.parentHash,
        stateRoot: block.header.stateRoot,
        resultStateRoot: undefined,
        commitSigners: [],
        canonicalSigners: undefined,
      })
    }
  }
  await Promise.all(Array.from({ length: apiReadConcurrency }, worker))
  const stored = [...heights.keys()]
  return { label, height: Math.max(0, ...stored), baseHeight: Math.min(toHeight, ...stored), heights }
}
