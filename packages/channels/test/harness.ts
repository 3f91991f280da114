import { accountIdOfPublicKey, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import {
  chainErrorCodes,
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  signTx,
  type ChainApp,
  type ChainModule,
  type FinalizeBlockResponse,
  type Msg,
  type TxResult,
} from '@terrane/chain'

export const chainId = 'terrane-test-1'
export const TRN = 1_000_000n

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

export interface HarnessInit {
  users?: number
  userBalanceMicro?: bigint
  epochBlocks?: number
  modules: ChainModule[]
  moduleGenesis?: Record<string, unknown>
}

/** A real chain app (one validator) driven block by block, as the consensus driver does. */
export class Harness {
  readonly app: ChainApp
  readonly store = new MemoryChainStore()
  readonly users: Signer[]
  height = 0
  timeMs = 1_700_000_000_000
  private readonly nonces = new Map<string, number>()

  constructor(init: HarnessInit) {
    this.users = Array.from({ length: init.users ?? 4 }, (_, i) => signerOf(i, 1))
    const operator = signerOf(0, 2)
    const consensus = signerOf(0, 3)
    const balance = String(init.userBalanceMicro ?? 1_000n * TRN)
    const genesis = parseGenesis({
      chainId,
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
    this.app = createChainApp({ genesis, store: this.store, modules: init.modules })
    this.app.initChain()
  }

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

  tx(signer: Signer, messages: Msg[], feeMicro = 1_000n): Uint8Array {
    const sender = addressOf(signer)
    const k = Buffer.from(sender).toString('hex')
    const nonce = this.nonces.get(k) ?? this.app.account(sender).nonce
    const bytes = signTx(this.app.txBodySchema, { chainId, sender, nonce, feeMicro, expiryHeight: 0, messages }, [signer])
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

  read(key: Uint8Array): Uint8Array | undefined {
    return this.store.get(key)
  }

  assertInvariants(): void {
    const r = this.app.checkInvariants()
    if (!r.isOk) throw new Error(`supply invariant broken: ${r.violations.join('; ')}`)
  }
}

export function codeName(code: number): string {
  return code === 0 ? 'OK' : (Object.entries(chainErrorCodes).find(([, n]) => n === code)?.[0] ?? String(code))
}
