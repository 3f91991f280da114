import { chainErrorCodes as codes } from '../src/index.ts'
import { accountIdOfPublicKey, encodeAddress, type Signer } from '@terrane/crypto'
import {
  createChainApp,
  MemoryChainStore,
  parseGenesis,
  signTx,
  type ChainApp,
  type ChainAppInit,
  type ChainStore,
  type FinalizeBlockRequest,
  type FinalizeBlockResponse,
  type Msg,
  type MultisigConfig,
  type Validator,
} from '../src/index.ts'

export const chainId = 'terrane-test-1'
// The deterministic signers and units every package's tests share.
export { TRN, addressOf, signerOf } from '../src/testing.ts'
import { TRN, addressOf, signerOf } from '../src/testing.ts'
export interface Fixture {
  users: Signer[]
  operators: Signer[]
  consensus: Signer[]
  genesisJson: Record<string, unknown>
}

export interface FixtureInit {
  users?: number
  validators?: number
  userBalance?: bigint
  selfStake?: bigint
  params?: Record<string, unknown>
  multisigAccounts?: unknown[]
}

export function fixture(init: FixtureInit = {}): Fixture {
  const users = Array.from({ length: init.users ?? 4 }, (_, i) => signerOf(i, 1))
  const operators = Array.from({ length: init.validators ?? 4 }, (_, i) => signerOf(i, 2))
  const consensus = Array.from({ length: init.validators ?? 4 }, (_, i) => signerOf(i, 3))
  const balance = String(init.userBalance ?? 1_000n * TRN)
  const selfStake = init.selfStake ?? 100n * TRN
  const genesisJson = {
    chainId,
    params: { epochBlocks: 10, unbondingBlocks: 20, signedBlocksWindow: 10, downtimeJailBlocks: 5, ...init.params },
    accounts: [
      ...users.map((u) => ({ address: encodeAddress(addressOf(u)), balance })),
      ...operators.map((o) => ({ address: encodeAddress(addressOf(o)), balance: String(selfStake + 10n * TRN) })),
    ],
    multisigAccounts: init.multisigAccounts ?? [],
    validators: operators.map((o, i) => ({
      operator: encodeAddress(addressOf(o)),
      consensusKey: Buffer.from((consensus[i] as Signer).publicKey).toString('hex'),
      selfStake: String(selfStake),
      commissionBps: 1000,
    })),
  }
  return { users, operators, consensus, genesisJson }
}

export interface BlockInit {
  /** Consensus addresses that did not sign the last commit. */
  absent?: Uint8Array[]
  misbehavior?: FinalizeBlockRequest['misbehavior']
  proposer?: Uint8Array
}

/** Drives an app the way the consensus driver does: finalize, commit, feed the last commit's votes. */
export class Harness {
  readonly app: ChainApp
  height = 0
  timeMs = 1_000_000
  lastCommitVotes: FinalizeBlockRequest['lastCommitVotes'] = []
  readonly store: ChainStore
  readonly nonces = new Map<string, number>()

  constructor(
    readonly fx: Fixture,
    init: Partial<ChainAppInit> = {},
  ) {
    this.store = init.store ?? new MemoryChainStore()
    this.app = createChainApp({ genesis: parseGenesis(fx.genesisJson), ...init, store: this.store })
    const init0 = this.app.initChain()
    this.genesisValidators = init0.validators
    this.genesisRoot = init0.stateRoot
  }

  readonly genesisValidators: Validator[]
  readonly genesisRoot: Uint8Array

  async block(txs: Uint8Array[], init: BlockInit = {}): Promise<FinalizeBlockResponse> {
    this.height++
    this.timeMs += 1000
    const active = this.app.activeSet()
    const proposer =
      init.proposer ??
      accountIdOfPublicKey((active[this.height % Math.max(1, active.length)] ?? active[0])?.consensusKey ?? new Uint8Array(32))
    const res = await this.app.finalizeBlock({
      height: this.height,
      timeMs: this.timeMs,
      proposer,
      txs,
      lastCommitVotes: this.lastCommitVotes,
      misbehavior: init.misbehavior ?? [],
    })
    await this.app.commit()
    const absent = new Set((init.absent ?? []).map((a) => Buffer.from(a).toString('hex')))
    this.lastCommitVotes = this.app.activeSet().map((m) => {
      const validator = accountIdOfPublicKey(m.consensusKey)
      return { validator, power: m.power, signed: !absent.has(Buffer.from(validator).toString('hex')) }
    })
    return res
  }

  async blocks(n: number, init: BlockInit = {}): Promise<void> {
    for (let i = 0; i < n; i++) await this.block([], init)
  }

  /** Signs messages from a single-key signer with its next nonce (tracked locally). */
  tx(
    signer: Signer,
    messages: Msg[],
    opts: { nonce?: number; feeMicro?: bigint; expiryHeight?: number; chainId?: string } = {},
  ): Uint8Array {
    const sender = addressOf(signer)
    return this.txFrom(sender, [signer], messages, opts)
  }

  txFrom(
    sender: Uint8Array,
    signers: Signer[],
    messages: Msg[],
    opts: { nonce?: number; feeMicro?: bigint; expiryHeight?: number; chainId?: string; multisig?: MultisigConfig } = {},
  ): Uint8Array {
    const k = Buffer.from(sender).toString('hex')
    const nonce = opts.nonce ?? this.nonces.get(k) ?? this.app.account(sender).nonce
    if (opts.nonce === undefined) this.nonces.set(k, nonce + 1)
    return signTx(
      this.app.txBodySchema,
      {
        chainId: opts.chainId ?? chainId,
        sender,
        nonce,
        feeMicro: opts.feeMicro ?? 1_000n,
        expiryHeight: opts.expiryHeight ?? 0,
        messages,
      },
      signers,
      opts.multisig === undefined ? {} : { multisig: opts.multisig },
    )
  }

  send(from: Signer, to: Uint8Array, amountMicro: bigint, opts: { nonce?: number; feeMicro?: bigint } = {}): Uint8Array {
    return this.tx(from, [{ type: 'bank/send', to, amountMicro }], opts)
  }
}

export function codeName(code: number): string {
  return code === 0 ? 'OK' : (Object.entries(codes).find(([, n]) => n === code)?.[0] ?? String(code))
}
