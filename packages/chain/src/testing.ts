/**
 * @terrane/chain/testing: a real chain app (one validator, a MemoryChainStore) driven block by block
 * as the consensus driver drives it, for the tests and benchmarks of chain modules. Keys come from
 * seeds, so every run is the same. Not for production paths.
 *
 * ```ts
 * import { TestChain, advanceTo, testChainId } from '@terrane/chain/testing'
 * const chain = new TestChain({ users: 3, epochBlocks: 10, modules: [channelsModule()] })
 * const [payer] = chain.users
 * const r = await chain.run(payer, [{ type: 'channels/open', ... }]) // one tx in its own block
 * chain.assertInvariants() // the supply invariant
 * ```
 */
import { accountIdOfPublicKey, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import type { FinalizeBlockResponse, TxResult } from './abci.ts'
import { createChainApp, type ChainApp } from './app.ts'
import { chainErrorCodes } from './errors.ts'
import { parseGenesis } from './genesis.ts'
import type { ChainModule } from './module.ts'
import { MemoryChainStore } from './store.ts'
import { signTx, type Msg } from './tx.ts'

/** The chain id of every TestChain. */
export const testChainId = 'terrane-test-1'
/** Micro-TRN per TRN. */
export const TRN = 1_000_000n
/** Fee of every transaction a TestChain signs unless told otherwise. */
export const testFeeMicro = 1_000n

/** A deterministic signer: seed = tag || i (16-bit little-endian) || zeros. */
export function signerOf(i: number, tag = 1): Signer {
  const seed = new Uint8Array(32)
  seed[0] = tag
  seed[1] = i & 0xff
  seed[2] = i >> 8
  return seedSigner(seed)
}

export function addressOf(s: Signer): Uint8Array {
  return accountIdOfPublicKey(s.publicKey)
}

export interface TestChainInit {
  /** Funded user accounts (signerOf(i, 1)). @default 4 */
  users?: number
  /** @default 1_000 TRN */
  userBalanceMicro?: bigint
  /** @default 10 */
  epochBlocks?: number
  /** Modules beyond the core ones. @default [] */
  modules?: ChainModule[]
  /** Genesis `modules` sections. @default {} */
  moduleGenesis?: Record<string, unknown>
}

/** A real chain app (one validator) driven block by block, as the consensus driver does. */
export class TestChain {
  readonly app: ChainApp
  readonly store = new MemoryChainStore()
  readonly users: Signer[]
  height = 0
  timeMs = 1_700_000_000_000
  private readonly nonces = new Map<string, number>()

  constructor(init: TestChainInit = {}) {
    this.users = Array.from({ length: init.users ?? 4 }, (_, i) => signerOf(i, 1))
    const operator = signerOf(0, 2)
    const consensus = signerOf(0, 3)
    const balance = String(init.userBalanceMicro ?? 1_000n * TRN)
    const genesis = parseGenesis({
      chainId: testChainId,
      params: { epochBlocks: init.epochBlocks ?? 10 },
      accounts: [
        ...this.users.map((u) => ({ address: encodeAddress(addressOf(u)), balance })),
        { address: encodeAddress(addressOf(operator)), balance: String(110n * TRN) },
      ],
      multisigAccounts: [],
      validators: [
        {
          operator: encodeAddress(addressOf(operator)),
          consensusKey: Buffer.from(consensus.publicKey).toString('hex'),
          selfStake: String(100n * TRN),
          commissionBps: 1000,
        },
      ],
      modules: init.moduleGenesis ?? {},
    })
    this.app = createChainApp({ genesis, store: this.store, modules: init.modules ?? [] })
    this.app.initChain()
  }

  /** Finalizes and commits the next block (one second after the last) with `txs`. */
  async block(txs: Uint8Array[] = []): Promise<FinalizeBlockResponse> {
    this.height++
    this.timeMs += 1000
    const res = await this.app.finalizeBlock({
      height: this.height,
      timeMs: this.timeMs,
      proposer: new Uint8Array(20),
      txs,
      lastCommitVotes: [],
      misbehavior: [],
    })
    await this.app.commit()
    return res
  }

  async blocks(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.block()
  }

  /** Signs a transaction with the signer's next nonce (nonces are tracked across unsent transactions). */
  tx(signer: Signer, messages: Msg[], feeMicro = testFeeMicro): Uint8Array {
    const sender = addressOf(signer)
    const k = Buffer.from(sender).toString('hex')
    const nonce = this.nonces.get(k) ?? this.app.account(sender).nonce
    const bytes = signTx(this.app.txBodySchema, { chainId: testChainId, sender, nonce, feeMicro, expiryHeight: 0, messages }, [signer])
    this.nonces.set(k, nonce + 1)
    return bytes
  }

  /** Runs one transaction in its own block and returns its result. */
  async run(signer: Signer, messages: Msg[]): Promise<TxResult & { res: FinalizeBlockResponse }> {
    const res = await this.block([this.tx(signer, messages)])
    const r = res.txResults[0]
    if (r === undefined) throw new Error('no tx result')
    return { ...r, res }
  }

  balance(s: Signer | Uint8Array): bigint {
    return this.app.account(s instanceof Uint8Array ? s : addressOf(s)).balanceMicro
  }

  /** The committed bytes of a full chain key. */
  read(key: Uint8Array): Uint8Array | undefined {
    return this.store.get(key)
  }

  /** Throws unless the chain's supply invariant holds. */
  assertInvariants(): void {
    const r = this.app.checkInvariants()
    if (!r.isOk) throw new Error(`supply invariant broken: ${r.violations.join('; ')}`)
  }
}

/** The name of a TxResult code ('OK' for 0). */
export function codeName(code: number): string {
  return code === 0 ? 'OK' : (Object.entries(chainErrorCodes).find(([, n]) => n === code)?.[0] ?? String(code))
}

/** Advances empty blocks so that the next block has height `height`. */
export async function advanceTo(chain: TestChain, height: number): Promise<void> {
  while (chain.height < height - 1) await chain.block()
}
