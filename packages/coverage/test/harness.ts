// A real chain app with the coverage module and sink registered, driven block by block.
import { encode, merkleRoot } from '@terrane/codec'
import { accountIdOfPublicKey, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import {
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  signTx,
  type ChainApp,
  type FinalizeBlockResponse,
  type Msg,
  type TxResult,
} from '@terrane/chain'
import { payoutSchema, type Payout } from '@terrane/verifier'
import { committedModuleStore, coverage, coverageErrorCodeOfLog, type CoverageErrorCode, type CoverageInit } from '../src/index.ts'
import type { ModuleStore } from '@terrane/chain'

export const chainId = 'terrane-test-1'
export const TRN = 1_000_000n
export const epochBlocks = 10

export function signerOf(i: number, tag: number): Signer {
  const seed = new Uint8Array(32)
  seed[0] = tag
  seed[1] = i
  return seedSigner(seed)
}

export function addressOf(s: Signer): Uint8Array {
  return accountIdOfPublicKey(s.publicKey)
}

export interface HarnessInit {
  coverage?: Record<string, unknown>
  emissionPerEpochMicro?: bigint
  sink?: CoverageInit
  verifierBondMicro?: bigint
}

export class Harness {
  readonly app: ChainApp
  readonly store = new MemoryChainStore()
  /** Four verifiers bonded at genesis (100 TRN each by default). */
  readonly verifiers = [0, 1, 2, 3].map((i) => signerOf(i, 5))
  /** Device owners: they send nothing, so their balances move only by payouts. */
  readonly owners = [0, 1, 2].map((i) => signerOf(i, 6))
  readonly challenger = signerOf(0, 7)
  readonly outsider = signerOf(1, 7)
  height = 0
  private readonly nonces = new Map<string, number>()

  constructor(init: HarnessInit = {}) {
    const operator = signerOf(0, 2)
    const bond = init.verifierBondMicro ?? 100n * TRN
    const genesis = parseGenesis({
      chainId,
      params: { epochBlocks, emissionPerEpochMicro: String(init.emissionPerEpochMicro ?? 1000n * TRN) },
      accounts: [
        ...[...this.verifiers, this.challenger, this.outsider].map((s) => ({
          address: encodeAddress(addressOf(s)),
          balance: String(1000n * TRN),
        })),
        ...this.owners.map((s) => ({ address: encodeAddress(addressOf(s)), balance: '0' })),
        { address: encodeAddress(addressOf(operator)), balance: String(200n * TRN) },
      ],
      validators: [
        {
          operator: encodeAddress(addressOf(operator)),
          consensusKey: Buffer.from(signerOf(0, 3).publicKey).toString('hex'),
          selfStake: String(100n * TRN),
        },
      ],
      modules: {
        coverage: {
          verifiers: this.verifiers.map((v) => ({ address: encodeAddress(addressOf(v)), bond: String(bond) })),
          ...init.coverage,
        },
      },
    })
    const { module, sink } = coverage(init.sink)
    this.app = createChainApp({ genesis, store: this.store, modules: [module], emissionSinks: [sink] })
    this.app.initChain()
  }

  get moduleStore(): ModuleStore {
    return committedModuleStore(this.store)
  }

  get epoch(): number {
    return Math.floor(this.height / epochBlocks)
  }

  async block(txs: Uint8Array[] = []): Promise<FinalizeBlockResponse> {
    this.height++
    const res = await this.app.finalizeBlock({
      height: this.height,
      timeMs: 1_000_000 + this.height * 1000,
      proposer: new Uint8Array(20),
      txs,
      lastCommitVotes: [],
      misbehavior: [],
    })
    await this.app.commit()
    const report = this.app.checkInvariants()
    if (!report.isOk) throw new Error(`invariants broken at ${this.height}: ${report.violations.join('; ')}`)
    return res
  }

  /** Runs blocks until just after the next epoch boundary (its emission is paid). */
  async toNextEpoch(): Promise<FinalizeBlockResponse[]> {
    const out: FinalizeBlockResponse[] = []
    do out.push(await this.block())
    while (this.height % epochBlocks !== 0)
    return out
  }

  tx(signer: Signer, messages: Msg[]): Uint8Array {
    const sender = addressOf(signer)
    const key = Buffer.from(sender).toString('hex')
    const nonce = this.nonces.get(key) ?? this.app.account(sender).nonce
    const bytes = signTx(this.app.txBodySchema, { chainId, sender, nonce, feeMicro: 1_000n, expiryHeight: 0, messages }, [signer])
    this.nonces.set(key, nonce + 1)
    return bytes
  }

  /** One block with one tx per message; returns the results. */
  async send(...items: Array<[Signer, Msg]>): Promise<TxResult[]> {
    return (await this.block(items.map(([s, m]) => this.tx(s, [m])))).txResults
  }

  balance(s: Signer): bigint {
    return this.app.account(addressOf(s)).balanceMicro
  }
}

export function codeOf(result: TxResult | undefined): CoverageErrorCode | 'OK' | undefined {
  if (result === undefined) return undefined
  return result.code === 0 ? 'OK' : coverageErrorCodeOfLog(result.log)
}

export function payout(
  deviceId: string,
  owner: Signer,
  earnedMicro: bigint,
  init: { escrowedMicro?: bigint; releasedMicro?: bigint } = {},
): Payout {
  const escrowedMicro = init.escrowedMicro ?? 0n
  const releasedMicro = init.releasedMicro ?? 0n
  return {
    deviceId,
    owner: encodeAddress(addressOf(owner)),
    earnedMicro,
    paidMicro: earnedMicro - escrowedMicro + releasedMicro,
    escrowedMicro,
    releasedMicro,
    forfeitedMicro: 0n,
  }
}

export function leavesOf(payouts: readonly Payout[]): Uint8Array[] {
  return payouts.map((p) => encode(payoutSchema, p))
}

/** The `coverage/submit-digest` message of an epoch whose payouts are `payouts`. */
export function digestMsg(epoch: number, payouts: readonly Payout[]): Msg {
  return {
    type: 'coverage/submit-digest',
    epoch,
    poolMicro: payouts.reduce((a, p) => a + p.earnedMicro, 0n),
    unallocatedMicro: 0n,
    acceptedReportsRoot: new Uint8Array(32).fill(1),
    verdictsRoot: new Uint8Array(32).fill(2),
    payoutsRoot: merkleRoot(leavesOf(payouts)),
  }
}

export function chunks(epoch: number, payouts: readonly Payout[], size: number): Msg[] {
  const out: Msg[] = []
  for (let i = 0; i * size < payouts.length || (i === 0 && payouts.length === 0); i++)
    out.push({
      type: 'coverage/submit-payouts',
      epoch,
      chunkIndex: i,
      payouts: payouts.slice(i * size, (i + 1) * size),
      isLast: (i + 1) * size >= payouts.length,
    })
  return out
}

/** Three of four verifiers agree on `payouts` for `epoch`, the first uploads them; paid at the next boundary. */
export async function settle(h: Harness, epoch: number, payouts: readonly Payout[]): Promise<void> {
  const [a, b, c] = h.verifiers as [Signer, Signer, Signer]
  const digest = digestMsg(epoch, payouts)
  const results = await h.send([a, digest], [b, digest], [c, digest])
  for (const r of results) if (r.code !== 0) throw new Error(r.log)
  for (const m of chunks(epoch, payouts, 2)) {
    const [r] = await h.send([a, m])
    if (r?.code !== 0) throw new Error(r?.log)
  }
  await h.toNextEpoch()
}
