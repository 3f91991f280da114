import assert from 'node:assert/strict'
import { accountIdOfPublicKey, domainMessage, verifyInDomain, type SignedItem } from '@terrane/crypto'
import type { Schema } from '@terrane/codec'
import type { AppEvent, Application, CheckTxResponse, FinalizeBlockRequest, FinalizeBlockResponse, TxResult, Validator } from './abci.ts'
import { bytesEqual, Core, hex } from './core.ts'
import { ChainError, chainErrorCodes } from './errors.ts'
import type { Genesis } from './genesis.ts'
import { idAt, keys, prefixes } from './keys.ts'
import { coreMessages, messageRegistry } from './messages.ts'
import type { BlockContext, ChainModule, EmissionSink, TxContext } from './module.ts'
import { paramsSchema, type ChainParams } from './params.ts'
import {
  accountSchema,
  addressListSchema,
  redelegationPairsSchema,
  delegationSchema,
  escrowSchema,
  metaSchema,
  poolsSchema,
  redelegationSchema,
  supplySchema,
  unbondingSchema,
  validatorSchema,
  type Account,
  type Delegation,
  type Pools,
  type Redelegation,
  type Supply,
  type Unbonding,
  type ValidatorRecord,
} from './schemas.ts'
import { BlockState, keyBytes, keyOf } from './state.ts'
import { Staking } from './modules/staking.ts'
import type { ChainStore } from './store.ts'
import { decodeTx, multisigAddress, txBodySchema, type DecodedTx, type TxBody } from './tx.ts'

/** Verifies many signatures at once (e.g. @terrane/crypto's VerifierPool on all cores). */
export interface BatchVerifier {
  verifyBatch(items: readonly SignedItem[]): Promise<boolean[]>
}

export interface ChainAppInit {
  genesis: Genesis
  store: ChainStore
  /** Extra modules (devices, coverage rewards, channels...), after the core ones. */
  modules?: readonly ChainModule[]
  emissionSinks?: readonly EmissionSink[]
  /** Verifies a block's signatures in parallel before execution; without it, they are checked inline. */
  verifier?: BatchVerifier
}

/** Transactions a sender may have in the mempool ahead of its committed nonce. */
export const mempoolNonceAheadMax = 64
/** Entries of the signature-result cache (filled by checkTx, used by finalizeBlock). */
export const signatureCacheEntriesMax = 200_000

export interface AccountView {
  address: Uint8Array
  kind: 'key' | 'multisig' | 'unknown'
  balanceMicro: bigint
  nonce: number
  publicKey?: Uint8Array
  multisig?: Account['multisig']
}

export interface DelegationView {
  delegator: Uint8Array
  validator: Uint8Array
  shares: bigint
  tokensMicro: bigint
  pendingRewardsMicro: bigint
}

export interface InvariantReport {
  isOk: boolean
  violations: string[]
}

export interface ChainApp extends Application {
  readonly chainId: string
  /** The TxBody schema of this chain (all registered modules' messages). */
  readonly txBodySchema: Schema<TxBody>
  /**
   * Decodes a transaction (throws ChainError CHAIN_BAD_ENCODING): cached by the byte
   * array's identity, so a block's transactions the app already decoded cost nothing again.
   */
  decodeTx(bytes: Uint8Array): DecodedTx
  /** Last committed height and state root (ABCI Info). */
  info(): { height: number; stateRoot: Uint8Array }
  /** Adds an emission sink (before initChain). */
  registerEmissionSink(sink: EmissionSink): void
  account(address: Uint8Array): AccountView
  validator(operator: Uint8Array): ValidatorRecord | undefined
  validators(): ValidatorRecord[]
  activeSet(): Array<{ operator: Uint8Array; consensusKey: Uint8Array; power: number }>
  delegation(delegator: Uint8Array, validator: Uint8Array): DelegationView | undefined
  delegations(delegator: Uint8Array): DelegationView[]
  unbondings(delegator: Uint8Array): Array<{ validator: Uint8Array } & Unbonding>
  redelegations(delegator: Uint8Array): Array<{ source: Uint8Array; destination: Uint8Array } & Redelegation>
  params(): ChainParams
  supply(): Supply
  pools(): Pools
  /** Checks the accounting invariants over the current state (committed plus any finalized block). */
  checkInvariants(): InvariantReport
}

const namePattern = /^[a-z][a-z0-9-]*$/
const bpsTotal = 10_000

function ok(events?: AppEvent[]): TxResult {
  return events === undefined || events.length === 0 ? { code: 0, log: '' } : { code: 0, log: '', events }
}

function failure(err: ChainError): TxResult {
  return { code: chainErrorCodes[err.code], log: `${err.code}: ${err.message}` }
}

/** Creates the state machine over a store (see the package README for its rules). */
export function createChainApp(init: ChainAppInit): ChainApp {
  const { genesis, store } = init
  const state = new BlockState(store)
  const core = new Core(state, genesis.chainId, genesis.params)
  const staking = new Staking(core)
  const sinks: EmissionSink[] = [...(init.emissionSinks ?? [])]

  const coreModules: ChainModule[] = [
    {
      name: 'bank',
      messages: coreMessages.bank,
      deliver(ctx, msg) {
        const m = msg as unknown as { to: Uint8Array; amountMicro: bigint }
        if (m.amountMicro === 0n) throw new ChainError('CHAIN_ZERO_AMOUNT', 'transfer of zero')
        core.transfer(ctx.sender, m.to, m.amountMicro)
        core.emit('transfer', { sender: hex(ctx.sender), recipient: hex(m.to), amountMicro: String(m.amountMicro) })
      },
    },
    {
      name: 'staking',
      messages: coreMessages.staking,
      deliver(ctx, msg) {
        // The registry's schemas checked the fields before deliver is called.
        const m = msg as unknown as {
          consensusKey: Uint8Array
          commissionBps: number
          selfStakeMicro: bigint
          validator: Uint8Array
          amountMicro: bigint
          source: Uint8Array
          destination: Uint8Array
        }
        switch (msg.type) {
          case 'staking/create-validator':
            return staking.createValidator(ctx.sender, m.consensusKey, m.commissionBps, m.selfStakeMicro)
          case 'staking/edit-validator':
            return staking.editValidator(ctx.sender, m.commissionBps)
          case 'staking/delegate':
            return staking.delegate(ctx.sender, m.validator, m.amountMicro)
          case 'staking/undelegate':
            return staking.undelegate(ctx.sender, m.validator, m.amountMicro)
          case 'staking/redelegate':
            return staking.redelegate(ctx.sender, m.source, m.destination, m.amountMicro)
        }
      },
    },
    { name: 'slashing', messages: coreMessages.slashing, deliver: (ctx) => staking.unjail(ctx.sender) },
    {
      name: 'distribution',
      messages: coreMessages.distribution,
      deliver(ctx, msg) {
        if (msg.type === 'distribution/withdraw-rewards') staking.withdrawRewards(ctx.sender, msg.validator as Uint8Array)
        else staking.withdrawCommission(ctx.sender)
      },
    },
  ]
  const modules = [...coreModules]
  for (const m of init.modules ?? []) {
    if (!namePattern.test(m.name))
      throw new ChainError('CHAIN_MODULE_CONFLICT', `module name ${JSON.stringify(m.name)} is not [a-z][a-z0-9-]*`)
    if (modules.some((x) => x.name === m.name)) throw new ChainError('CHAIN_MODULE_CONFLICT', `module ${m.name} registered twice`)
    modules.push(m)
  }
  const byName = new Map(modules.map((m) => [m.name, m]))
  const bodySchema = txBodySchema(messageRegistry(modules))
  const signatureCache = new Map<string, boolean>()
  /**
   * Decoding is a pure function of the bytes: a transaction decoded by checkTx or
   * processProposal is not decoded again when the same byte array reaches
   * finalizeBlock. Keyed by identity, so callers must not mutate transaction bytes.
   */
  const decodeCache = new WeakMap<Uint8Array, DecodedTx | ChainError>()
  function decodeCached(raw: Uint8Array): DecodedTx {
    let hit = decodeCache.get(raw)
    if (hit === undefined) {
      try {
        hit = decodeTx(raw, bodySchema)
      } catch (err) {
        if (!(err instanceof ChainError)) throw err
        hit = err
      }
      decodeCache.set(raw, hit)
    }
    if (hit instanceof ChainError) throw hit
    return hit
  }

  /** Module contexts of the current block (height and time are fixed within it). */
  const blockContexts = new Map<string, BlockContext>()
  function blockContext(name: string): BlockContext {
    let ctx = blockContexts.get(name)
    if (ctx === undefined) {
      ctx = core.contextFor(name)
      blockContexts.set(name, ctx)
    }
    return ctx
  }
  /** Fees of the block's transactions, moved into pools.feesMicro before distribution. */
  let blockFeesMicro = 0n

  let phase: 'fresh' | 'genesis' | 'committed' | 'finalized' = 'fresh'
  let lastHeight = 0

  /** The mempool's view: the committed state, or the genesis state before the first commit (CometBFT's checkState). */
  function mempoolAccount(address: Uint8Array): Account {
    const k = keys.account(address)
    return (phase === 'genesis' ? state.get(accountSchema, k) : state.getCommitted(accountSchema, k)) ?? { nonce: 0, balanceMicro: 0n }
  }

  function readMeta(): { chainId: string; height: number } | undefined {
    return state.getCommitted(metaSchema, keys.meta())
  }

  // ------------------------------------------------------------ signatures

  function signedBytesOf(tx: DecodedTx): Uint8Array {
    return domainMessage({ chainId: tx.body.chainId, kind: 'tx' }, tx.envelope.body)
  }

  function cacheKey(tx: DecodedTx): string {
    return Buffer.from(tx.hash).toString('latin1')
  }

  /** Whether every signature in the envelope verifies (cached by transaction hash). */
  function signaturesValid(tx: DecodedTx): boolean {
    const k = cacheKey(tx)
    const hit = signatureCache.get(k)
    if (hit !== undefined) return hit
    const domain = { chainId: tx.body.chainId, kind: 'tx' }
    const valid = tx.envelope.signatures.every((s) => verifyInDomain(s.publicKey, domain, tx.envelope.body, s.signature))
    rememberSignatures(k, valid)
    return valid
  }

  function rememberSignatures(k: string, valid: boolean): void {
    if (signatureCache.size >= signatureCacheEntriesMax) signatureCache.clear()
    signatureCache.set(k, valid)
  }

  /** Authenticates the sender: keys belong to the account, signatures verify, multisig weights reach the threshold. */
  function authenticate(tx: DecodedTx, account: Account): void {
    const { body, envelope } = tx
    const multisig = account.multisig ?? envelope.multisig
    if (multisig !== undefined) {
      if (account.publicKey !== undefined) throw new ChainError('CHAIN_BAD_MULTISIG', 'sender is a single-key account')
      if (account.multisig === undefined && !bytesEqual(multisigAddress(multisig), body.sender))
        throw new ChainError('CHAIN_BAD_MULTISIG', 'multisig config does not hash to the sender address')
      if (account.multisig !== undefined && envelope.multisig !== undefined && !sameConfig(account.multisig, envelope.multisig))
        throw new ChainError('CHAIN_BAD_MULTISIG', 'revealed config differs from the account config')
      let weight = 0
      const used = new Set<string>()
      for (const s of envelope.signatures) {
        const key = multisig.keys.find((k) => bytesEqual(k.publicKey, s.publicKey))
        if (key === undefined) throw new ChainError('CHAIN_BAD_SIGNATURE', 'signature by a key outside the multisig config')
        const id = hex(s.publicKey)
        if (used.has(id)) throw new ChainError('CHAIN_BAD_SIGNATURE', 'two signatures by one key')
        used.add(id)
        weight += key.weight
      }
      if (!signaturesValid(tx)) throw new ChainError('CHAIN_BAD_SIGNATURE', 'a signature does not verify')
      if (weight < multisig.threshold)
        throw new ChainError('CHAIN_MULTISIG_THRESHOLD', `signed weight ${weight} below threshold ${multisig.threshold}`)
      return
    }
    const sig = envelope.signatures[0]
    if (envelope.signatures.length !== 1 || sig === undefined)
      throw new ChainError('CHAIN_BAD_SIGNATURE', 'a single-key account signs once')
    // The stored key hashes to the sender (checked on first use): a byte comparison suffices afterwards.
    const isSendersKey =
      account.publicKey !== undefined
        ? bytesEqual(account.publicKey, sig.publicKey)
        : bytesEqual(accountIdOfPublicKey(sig.publicKey), body.sender)
    if (!isSendersKey) throw new ChainError('CHAIN_BAD_SIGNATURE', 'key does not belong to the sender')
    if (!signaturesValid(tx)) throw new ChainError('CHAIN_BAD_SIGNATURE', 'signature does not verify')
  }

  function requiredFee(tx: DecodedTx): bigint {
    return core.params.txFeeMinMicro + core.params.txFeePerByteMicro * BigInt(tx.bytesLength)
  }

  /** Checks common to checkTx and execution, against `account` at `height`. */
  function ante(tx: DecodedTx, account: Account, height: number, isMempool: boolean): void {
    const { body } = tx
    if (body.chainId !== genesis.chainId) throw new ChainError('CHAIN_WRONG_CHAIN', `chain id ${JSON.stringify(body.chainId)}`)
    if (body.expiryHeight !== 0 && height > body.expiryHeight)
      throw new ChainError('CHAIN_EXPIRED', `expired at height ${body.expiryHeight}`)
    if (body.feeMicro < requiredFee(tx)) throw new ChainError('CHAIN_FEE_TOO_LOW', `fee ${body.feeMicro} below ${requiredFee(tx)}`)
    authenticate(tx, account)
    if (isMempool) {
      if (body.nonce < account.nonce || body.nonce >= account.nonce + mempoolNonceAheadMax)
        throw new ChainError('CHAIN_BAD_NONCE', `nonce ${body.nonce}, account at ${account.nonce}`)
    } else if (body.nonce !== account.nonce) throw new ChainError('CHAIN_BAD_NONCE', `nonce ${body.nonce}, expected ${account.nonce}`)
    if (account.balanceMicro < body.feeMicro)
      throw new ChainError('CHAIN_INSUFFICIENT_FUNDS', `balance ${account.balanceMicro} below fee ${body.feeMicro}`)
  }

  // ------------------------------------------------------------ execution

  function deliverTx(tx: DecodedTx): TxResult {
    const { body } = tx
    const account = core.account(body.sender)
    ante(tx, account, core.height, false)
    // Fee and nonce are consumed once the transaction is authentic, whatever its messages do (Cosmos SDK).
    const next: Account = { ...account, nonce: account.nonce + 1, balanceMicro: account.balanceMicro - body.feeMicro }
    if (account.publicKey === undefined && account.multisig === undefined) {
      if (tx.envelope.multisig !== undefined) next.multisig = tx.envelope.multisig
      else next.publicKey = (tx.envelope.signatures[0] as { publicKey: Uint8Array }).publicKey
    }
    core.setAccount(body.sender, next)
    blockFeesMicro += body.feeMicro
    const blockEvents = core.events
    core.events = []
    const mark = state.mark()
    try {
      for (const msg of body.messages) {
        const module = byName.get(msg.type.slice(0, msg.type.indexOf('/'))) as ChainModule
        const ctx: TxContext = { ...blockContext(module.name), sender: body.sender, txHash: tx.hash }
        module.deliver(ctx, msg)
      }
      state.release()
      return ok(core.events)
    } catch (err) {
      state.rollback(mark)
      state.release()
      if (err instanceof ChainError) return failure(err)
      throw err
    } finally {
      core.events = blockEvents
    }
  }

  function payEmission(epoch: number): void {
    const minted = core.params.emissionPerEpochMicro
    core.mint(minted)
    core.addPools({ emissionMicro: minted })
    const pool = core.pools().emissionMicro
    for (const sink of [...sinks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      let allowance = (pool * BigInt(sink.weightBps)) / BigInt(bpsTotal)
      const pay = (to: Uint8Array, amountMicro: bigint): void => {
        if (amountMicro < 0n || amountMicro > allowance)
          throw new ChainError('CHAIN_INSUFFICIENT_FUNDS', `sink ${sink.name} exceeds its allowance`)
        allowance -= amountMicro
        core.addPools({ emissionMicro: -amountMicro })
        core.credit(to, amountMicro)
      }
      sink.distribute(core.contextFor(sink.name), epoch, allowance, pay)
    }
  }

  // ------------------------------------------------------------ genesis

  function writeGenesis(): void {
    core.height = 0
    state.set(metaSchema, keys.meta(), { chainId: genesis.chainId, height: 0 })
    state.set(paramsSchema, keys.params(), genesis.params)
    let total = 0n
    for (const a of genesis.accounts) {
      core.setAccount(a.address, { nonce: 0, balanceMicro: a.balanceMicro })
      total += a.balanceMicro
    }
    for (const a of genesis.multisigAccounts) {
      core.setAccount(a.address, { nonce: 0, balanceMicro: a.balanceMicro, multisig: a.config })
      total += a.balanceMicro
    }
    state.set(supplySchema, keys.supply(), { totalMicro: total, mintedMicro: 0n, burnedMicro: 0n })
    state.set(poolsSchema, keys.pools(), {
      stakedMicro: 0n,
      unbondingMicro: 0n,
      rewardsMicro: 0n,
      communityMicro: 0n,
      emissionMicro: 0n,
      feesMicro: 0n,
    })
    for (const v of genesis.validators) staking.createValidator(v.operator, v.consensusKey, v.commissionBps, v.selfStakeMicro)
    for (const m of modules) m.initGenesis?.(core.contextFor(m.name), genesis.modules[m.name])
    staking.replaceActiveSet(staking.computeActiveSet())
    core.events = []
  }

  function consensusValidators(): Validator[] {
    return staking
      .activeSet()
      .validators.map((m) => ({ address: accountIdOfPublicKey(m.consensusKey), publicKey: m.consensusKey, power: m.power }))
  }

  // ------------------------------------------------------------ queries

  function delegationView(delegator: Uint8Array, validator: Uint8Array, d: Delegation): DelegationView {
    const v = staking.validator(validator) as ValidatorRecord
    return {
      delegator,
      validator,
      shares: d.shares,
      tokensMicro: v.shares === 0n ? 0n : (d.shares * v.tokensMicro) / v.shares,
      pendingRewardsMicro: staking.pendingRewards(v, d),
    }
  }

  const app: ChainApp = {
    chainId: genesis.chainId,
    txBodySchema: bodySchema,
    decodeTx: decodeCached,

    registerEmissionSink(sink) {
      if (phase !== 'fresh') throw new ChainError('CHAIN_BAD_STATE', 'emission sinks are registered before initChain')
      if (sinks.some((s) => s.name === sink.name))
        throw new ChainError('CHAIN_MODULE_CONFLICT', `emission sink ${sink.name} registered twice`)
      if (sinks.reduce((a, s) => a + s.weightBps, sink.weightBps) > bpsTotal)
        throw new ChainError('CHAIN_MODULE_CONFLICT', 'emission sink weights exceed 10000 bps')
      sinks.push(sink)
    },

    initChain() {
      assert.equal(phase, 'fresh', 'initChain called twice')
      const meta = readMeta()
      if (meta !== undefined) {
        // A store that already holds the chain: resume from it.
        if (meta.chainId !== genesis.chainId) throw new ChainError('CHAIN_BAD_STATE', `store holds chain ${meta.chainId}`)
        core.params = state.getCommitted(paramsSchema, keys.params()) as ChainParams
        lastHeight = meta.height
        phase = 'committed'
        return { validators: consensusValidators(), stateRoot: store.root() }
      }
      writeGenesis()
      phase = 'genesis'
      const stateRoot = store.stage(state.writes())
      return { validators: consensusValidators(), stateRoot }
    },

    checkTx(bytes): CheckTxResponse {
      let tx: DecodedTx
      try {
        tx = decodeCached(bytes)
        const account = mempoolAccount(tx.body.sender)
        ante(tx, account, lastHeight + 1, true)
      } catch (err) {
        if (err instanceof ChainError) return { code: chainErrorCodes[err.code], log: `${err.code}: ${err.message}` }
        throw err
      }
      return { code: 0, log: '', sender: tx.body.sender, nonce: tx.body.nonce, fee: tx.body.feeMicro }
    },

    prepareProposal(req) {
      const out: Uint8Array[] = []
      const nextNonce = new Map<string, number>()
      let bytes = 0
      for (const raw of req.txs) {
        if (bytes + raw.length > req.bytesMax) continue
        let tx: DecodedTx
        try {
          tx = decodeCached(raw)
        } catch {
          continue
        }
        const { body } = tx
        if (body.chainId !== genesis.chainId || (body.expiryHeight !== 0 && req.height > body.expiryHeight)) continue
        const sender = hex(body.sender)
        const expected = nextNonce.get(sender) ?? mempoolAccount(body.sender).nonce
        if (body.nonce !== expected) continue
        nextNonce.set(sender, expected + 1)
        out.push(raw)
        bytes += raw.length
      }
      return out
    },

    processProposal(req) {
      // A proposal is refused only for transactions no honest proposer could include
      // (undecodable, oversized, unknown messages); bad nonces or funds fail in execution.
      for (const raw of req.txs) {
        try {
          decodeCached(raw)
        } catch {
          return false
        }
      }
      return true
    },

    async finalizeBlock(req: FinalizeBlockRequest): Promise<FinalizeBlockResponse> {
      if (phase !== 'genesis' && phase !== 'committed') throw new ChainError('CHAIN_BAD_STATE', `finalizeBlock in phase ${phase}`)
      if (req.height !== lastHeight + 1) throw new ChainError('CHAIN_BAD_HEIGHT', `expected height ${lastHeight + 1}, got ${req.height}`)
      core.height = req.height
      core.timeMs = req.timeMs
      core.events = []
      blockContexts.clear()
      blockFeesMicro = 0n
      const decoded: Array<DecodedTx | ChainError> = req.txs.map((raw) => {
        try {
          return decodeCached(raw)
        } catch (err) {
          if (err instanceof ChainError) return err
          throw err
        }
      })
      if (init.verifier !== undefined) await preverify(decoded)

      staking.handleMisbehavior(req)
      staking.trackLiveness(req)
      for (const m of modules) m.beginBlock?.(blockContext(m.name))
      const beginEvents = core.events
      core.events = []

      const txResults: TxResult[] = decoded.map((tx) => {
        if (tx instanceof ChainError) return failure(tx)
        try {
          return deliverTx(tx)
        } catch (err) {
          if (err instanceof ChainError) return failure(err)
          throw err
        }
      })

      core.addPools({ feesMicro: blockFeesMicro })
      blockFeesMicro = 0n
      staking.distribute(req)
      staking.matureEntries()
      for (const m of modules) m.endBlock?.(blockContext(m.name))
      const isEpochBoundary = req.height % core.params.epochBlocks === 0
      if (isEpochBoundary) payEmission(req.height / core.params.epochBlocks)
      const validatorUpdates = staking.updateActiveSet(isEpochBoundary)
      state.set(metaSchema, keys.meta(), { chainId: genesis.chainId, height: req.height })
      const events = [...beginEvents, ...core.events]
      core.events = []
      const stateRoot = store.stage(state.writes())
      phase = 'finalized'
      return { txResults, validatorUpdates, stateRoot, events }
    },

    async commit() {
      if (phase !== 'finalized' && phase !== 'genesis') throw new ChainError('CHAIN_BAD_STATE', `commit in phase ${phase}`)
      await store.commit()
      state.committed()
      if (phase === 'finalized') lastHeight = core.height
      phase = 'committed'
    },

    info() {
      return { height: lastHeight, stateRoot: store.root() }
    },

    account(address) {
      const a = state.get(accountSchema, keys.account(address))
      const view: AccountView = {
        address,
        kind: a?.multisig !== undefined ? 'multisig' : a?.publicKey !== undefined ? 'key' : 'unknown',
        balanceMicro: a?.balanceMicro ?? 0n,
        nonce: a?.nonce ?? 0,
      }
      if (a?.publicKey !== undefined) view.publicKey = a.publicKey
      if (a?.multisig !== undefined) view.multisig = a.multisig
      return view
    },
    validator: (operator) => staking.validator(operator),
    validators: () => staking.operators().map((op) => staking.validator(op) as ValidatorRecord),
    activeSet: () => staking.activeSet().validators,
    delegation(delegator, validator) {
      const d = staking.delegation(delegator, validator)
      return d === undefined ? undefined : delegationView(delegator, validator, d)
    },
    delegations: (delegator) =>
      state.scan(delegationSchema, keys.delegationsOf(delegator)).map(([k, d]) => delegationView(delegator, idAt(k, 21), d)),
    unbondings: (delegator) =>
      state.scan(unbondingSchema, keys.unbondingsOf(delegator)).map(([k, u]) => ({ validator: idAt(k, 21), ...u })),
    redelegations: (delegator) =>
      state
        .scan(redelegationSchema, keys.redelegationsOf(delegator))
        .map(([k, r]) => ({ source: idAt(k, 21), destination: idAt(k, 41), ...r })),
    params: () => core.params,
    supply: () => core.supply(),
    pools: () => core.pools(),

    checkInvariants() {
      const violations: string[] = []
      const pools = core.pools()
      const supply = core.supply()
      let balances = 0n
      for (const [, a] of state.scan(accountSchema, keyOf(prefixes.account))) balances += a.balanceMicro
      let escrows = 0n
      for (const [, e] of state.scan(escrowSchema, keyOf(prefixes.escrow))) escrows += e.balanceMicro
      const accounted =
        balances +
        pools.stakedMicro +
        pools.unbondingMicro +
        pools.rewardsMicro +
        pools.communityMicro +
        pools.emissionMicro +
        pools.feesMicro +
        escrows
      if (accounted !== supply.totalMicro) violations.push(`supply ${supply.totalMicro} != accounted ${accounted}`)
      if (supply.totalMicro !== supply.mintedMicro - supply.burnedMicro + genesisSupply())
        violations.push('total supply != genesis + minted - burned')
      let tokens = 0n
      let claims = 0n
      const sharesByValidator = new Map<string, bigint>()
      for (const [k, d] of state.scan(delegationSchema, keyOf(prefixes.delegation))) {
        const op = idAt(k, 21)
        const v = staking.validator(op)
        if (v === undefined) {
          violations.push(`delegation to missing validator ${hex(op)}`)
          continue
        }
        sharesByValidator.set(hex(op), (sharesByValidator.get(hex(op)) ?? 0n) + d.shares)
        claims += staking.pendingRewards(v, d)
      }
      for (const [, v] of state.scan(validatorSchema, keyOf(prefixes.validator))) {
        tokens += v.tokensMicro
        claims += v.commissionPendingMicro
        const shares = sharesByValidator.get(hex(v.operator)) ?? 0n
        if (shares !== v.shares) violations.push(`validator ${hex(v.operator)} shares ${v.shares} != delegated ${shares}`)
      }
      if (tokens !== pools.stakedMicro) violations.push(`staked pool ${pools.stakedMicro} != validator tokens ${tokens}`)
      let unbonding = 0n
      for (const [k, u] of state.scan(unbondingSchema, keyOf(prefixes.unbonding))) {
        for (const e of u.entries) unbonding += e.balanceMicro
        const index = state.get(addressListSchema, keys.unbondingByValidator(idAt(k, 21)))?.addresses ?? []
        if (!index.some((a) => bytesEqual(a, idAt(k, 1)))) violations.push(`unbonding ${hex(keyBytes(k))} missing from its validator index`)
      }
      for (const [k] of state.scan(redelegationSchema, keyOf(prefixes.redelegation))) {
        const [delegator, source, destination] = [idAt(k, 1), idAt(k, 21), idAt(k, 41)]
        const pairs = state.get(redelegationPairsSchema, keys.redelegationBySource(source))?.pairs ?? []
        if (!pairs.some((p) => bytesEqual(p.delegator, delegator) && bytesEqual(p.destination, destination)))
          violations.push(`redelegation ${hex(keyBytes(k))} missing from its source index`)
        const into = state.get(addressListSchema, keys.redelegationInto(delegator, destination))?.addresses ?? []
        if (!into.some((a) => bytesEqual(a, source))) violations.push(`redelegation ${hex(keyBytes(k))} missing from its destination index`)
      }
      if (unbonding !== pools.unbondingMicro) violations.push(`unbonding pool ${pools.unbondingMicro} != entries ${unbonding}`)
      if (claims > pools.rewardsMicro) violations.push(`reward claims ${claims} exceed the rewards pool ${pools.rewardsMicro}`)
      return { isOk: violations.length === 0, violations }
    },
  }

  function genesisSupply(): bigint {
    let total = 0n
    for (const a of genesis.accounts) total += a.balanceMicro
    for (const a of genesis.multisigAccounts) total += a.balanceMicro
    return total
  }

  async function preverify(decoded: ReadonlyArray<DecodedTx | ChainError>): Promise<void> {
    const items: SignedItem[] = []
    const owners: Array<{ key: string; count: number }> = []
    for (const tx of decoded) {
      if (tx instanceof ChainError) continue
      const k = cacheKey(tx)
      if (signatureCache.has(k)) continue
      const message = signedBytesOf(tx)
      for (const s of tx.envelope.signatures) items.push({ publicKey: s.publicKey, message, signature: s.signature })
      owners.push({ key: k, count: tx.envelope.signatures.length })
    }
    if (items.length === 0) return
    const results = await (init.verifier as BatchVerifier).verifyBatch(items)
    let at = 0
    for (const o of owners) {
      let valid = true
      for (let i = 0; i < o.count; i++) valid = results[at + i] === true && valid
      at += o.count
      rememberSignatures(o.key, valid)
    }
  }

  return app
}

function sameConfig(a: NonNullable<Account['multisig']>, b: NonNullable<Account['multisig']>): boolean {
  return (
    a.threshold === b.threshold &&
    a.keys.length === b.keys.length &&
    a.keys.every((k, i) => bytesEqual(k.publicKey, b.keys[i]?.publicKey ?? new Uint8Array()) && k.weight === b.keys[i]?.weight)
  )
}
