import type { Schema } from '@terrane/codec'
import type { AppEvent } from './abci.ts'
import { ChainError } from './errors.ts'
import { keys } from './keys.ts'
import type { BlockContext, ModuleBank, ModuleStore } from './module.ts'
import type { ChainParams } from './params.ts'
import { accountSchema, escrowSchema, poolsSchema, supplySchema, type Account, type Pools, type Supply } from './schemas.ts'
import { keyOf, type BlockState } from './state.ts'

const u64Max = (1n << 64n) - 1n
const emptyAccount: Account = { nonce: 0, balanceMicro: 0n }

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The execution core shared by the modules: accounts, balances, pools, supply, events, the block's clock. */
export class Core {
  height = 0
  timeMs = 0
  /** Events of the block (begin/end block) or of the current transaction. */
  events: AppEvent[] = []

  constructor(
    readonly state: BlockState,
    readonly chainId: string,
    public params: ChainParams,
  ) {}

  account(address: Uint8Array): Account {
    return this.state.get(accountSchema, keys.account(address)) ?? emptyAccount
  }

  setAccount(address: Uint8Array, account: Account): void {
    this.state.set(accountSchema, keys.account(address), account)
  }

  balanceOf(address: Uint8Array): bigint {
    return this.account(address).balanceMicro
  }

  credit(address: Uint8Array, amountMicro: bigint): void {
    if (amountMicro === 0n) return
    const a = this.account(address)
    const balanceMicro = a.balanceMicro + amountMicro
    if (balanceMicro > u64Max) throw new ChainError('CHAIN_OVERFLOW', 'balance would exceed u64')
    this.setAccount(address, { ...a, balanceMicro })
  }

  debit(address: Uint8Array, amountMicro: bigint): void {
    if (amountMicro === 0n) return
    const a = this.account(address)
    if (a.balanceMicro < amountMicro) throw new ChainError('CHAIN_INSUFFICIENT_FUNDS', `balance ${a.balanceMicro} is below ${amountMicro}`)
    this.setAccount(address, { ...a, balanceMicro: a.balanceMicro - amountMicro })
  }

  transfer(from: Uint8Array, to: Uint8Array, amountMicro: bigint): void {
    this.debit(from, amountMicro)
    this.credit(to, amountMicro)
  }

  pools(): Pools {
    return this.state.get(poolsSchema, keys.pools()) as Pools
  }

  /** Applies deltas to pools (a pool going negative is a broken invariant: crash). */
  addPools(delta: Partial<Pools>): void {
    const p = { ...this.pools() }
    for (const [k, d] of Object.entries(delta) as Array<[keyof Pools, bigint]>) {
      const v = p[k] + d
      if (v < 0n) throw new Error(`pool ${k} would go negative`)
      p[k] = v
    }
    this.state.set(poolsSchema, keys.pools(), p)
  }

  supply(): Supply {
    return this.state.get(supplySchema, keys.supply()) as Supply
  }

  mint(amountMicro: bigint): void {
    if (amountMicro === 0n) return
    const s = this.supply()
    this.state.set(supplySchema, keys.supply(), { ...s, totalMicro: s.totalMicro + amountMicro, mintedMicro: s.mintedMicro + amountMicro })
  }

  burn(amountMicro: bigint): void {
    if (amountMicro === 0n) return
    const s = this.supply()
    this.state.set(supplySchema, keys.supply(), { ...s, totalMicro: s.totalMicro - amountMicro, burnedMicro: s.burnedMicro + amountMicro })
  }

  escrowOf(module: string): bigint {
    return this.state.get(escrowSchema, keys.escrow(module))?.balanceMicro ?? 0n
  }

  setEscrow(module: string, balanceMicro: bigint): void {
    this.state.set(escrowSchema, keys.escrow(module), { balanceMicro })
  }

  emit(type: string, attributes: Record<string, string>): void {
    this.events.push({ type, attributes })
  }

  /** The context handed to a module: its own store scope and bank. */
  contextFor(module: string): BlockContext {
    return contextOf(this, module)
  }
}

function contextOf(core: Core, module: string): BlockContext {
  const scoped = (k: Uint8Array | string): string => keys.module(module, typeof k === 'string' ? k : keyOf(k))
  const prefix = keys.module(module, '')
  const store: ModuleStore = {
    get: <T>(schema: Schema<T>, key: Uint8Array | string) => core.state.get(schema, scoped(key)),
    set: <T>(schema: Schema<T>, key: Uint8Array | string, value: T) => core.state.set(schema, scoped(key), value),
    delete: (key) => core.state.delete(scoped(key)),
    scan: <T>(schema: Schema<T>, p: Uint8Array | string) =>
      core.state.scan(schema, scoped(p)).map(([k, v]) => [k.slice(prefix.length), v] as [string, T]),
  }
  const bank: ModuleBank = {
    balanceOf: (a) => core.balanceOf(a),
    transfer: (from, to, amount) => core.transfer(from, to, amount),
    lock: (from, amount) => {
      core.debit(from, amount)
      core.setEscrow(module, core.escrowOf(module) + amount)
    },
    unlock: (to, amount) => {
      const held = core.escrowOf(module)
      if (held < amount) throw new ChainError('CHAIN_INSUFFICIENT_FUNDS', `escrow of ${module} holds ${held}, below ${amount}`)
      core.setEscrow(module, held - amount)
      core.credit(to, amount)
    },
    escrowOf: () => core.escrowOf(module),
  }
  return {
    chainId: core.chainId,
    height: core.height,
    timeMs: core.timeMs,
    params: core.params,
    store,
    bank,
    emit: (event) => core.events.push(event),
  }
}
