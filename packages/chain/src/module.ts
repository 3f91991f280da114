import type { Schema } from '@terrane/codec'
import type { AppEvent } from './abci.ts'
import type { ChainParams } from './params.ts'
import type { Msg } from './tx.ts'

/** Scoped key-value access: a module sees only its own keys (0x80 || name || 0x00 || key). */
export interface ModuleStore {
  get<T>(schema: Schema<T>, key: Uint8Array | string): T | undefined
  /** Values are stored as given: never mutate a value after writing or reading it; write a fresh one. */
  set<T>(schema: Schema<T>, key: Uint8Array | string, value: T): void
  delete(key: Uint8Array | string): void
  /** Entries under a key prefix, in key order; keys are returned without the module prefix. */
  scan<T>(schema: Schema<T>, prefix: Uint8Array | string): Array<[string, T]>
}

/** Token movements a module may make; every one keeps the supply invariant. */
export interface ModuleBank {
  balanceOf(address: Uint8Array): bigint
  /** Throws ChainError CHAIN_INSUFFICIENT_FUNDS. */
  transfer(from: Uint8Array, to: Uint8Array, amountMicro: bigint): void
  /** Moves tokens from an account into this module's escrow (e.g. a payment-channel deposit). */
  lock(from: Uint8Array, amountMicro: bigint): void
  /** Pays tokens out of this module's escrow; throws CHAIN_INSUFFICIENT_FUNDS if the escrow is short. */
  unlock(to: Uint8Array, amountMicro: bigint): void
  escrowOf(): bigint
}

export interface BlockContext {
  readonly chainId: string
  readonly height: number
  /** Block time from the header: the only clock of the state machine. */
  readonly timeMs: number
  readonly params: Readonly<ChainParams>
  readonly store: ModuleStore
  readonly bank: ModuleBank
  emit(event: AppEvent): void
}

export interface TxContext extends BlockContext {
  /** The transaction's sender (already authenticated). */
  readonly sender: Uint8Array
  readonly txHash: Uint8Array
}

/**
 * A state-machine module. Its messages travel as `{ type: '<name>/<message>', ...fields }`;
 * `deliver` applies one and throws a ChainError to reject it (the whole
 * transaction's messages then roll back, fee and nonce stay consumed).
 */
export interface ChainModule {
  /** Lowercase, `[a-z][a-z0-9-]*`, unique in the chain. */
  readonly name: string
  /** Struct schemas by message name. */
  readonly messages: Readonly<Record<string, Schema<unknown>>>
  deliver(ctx: TxContext, msg: Msg): void
  beginBlock?(ctx: BlockContext): void
  endBlock?(ctx: BlockContext): void
  /** Called once from initChain with genesis.modules[name] (undefined if absent). */
  initGenesis?(ctx: BlockContext, genesis: unknown): void
}

/** Pays devices from the per-epoch DePIN emission (coverage and service-reward modules). */
export interface EmissionSink {
  /** The module paying out; a unique name. */
  readonly name: string
  /** Share of the emission pool offered to this sink each epoch, in basis points. */
  readonly weightBps: number
  /**
   * Called at each epoch boundary with the allowance; pay through `pay`, which
   * refuses to exceed the allowance. What is not paid stays in the pool.
   */
  distribute(ctx: BlockContext, epoch: number, allowanceMicro: bigint, pay: (to: Uint8Array, amountMicro: bigint) => void): void
}
