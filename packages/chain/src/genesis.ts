import { decodeAddress, isValidPublicKey } from '@terrane/crypto'
import { ChainError } from './errors.ts'
import { defaultParams, paramsSchema, type ChainParams } from './params.ts'
import { multisigConfigSchema, type MultisigConfig } from './schemas.ts'
import { checkMultisigConfig, multisigAddress } from './tx.ts'

/** The validated genesis: what initChain writes. */
export interface Genesis {
  chainId: string
  params: ChainParams
  accounts: Array<{ address: Uint8Array; balanceMicro: bigint }>
  multisigAccounts: Array<{ address: Uint8Array; config: MultisigConfig; balanceMicro: bigint }>
  /** Self-stake is taken from the operator's genesis balance. */
  validators: Array<{ operator: Uint8Array; consensusKey: Uint8Array; selfStakeMicro: bigint; commissionBps: number }>
  /** Module genesis sections, by module name, passed as parsed JSON to ChainModule.initGenesis. */
  modules: Record<string, unknown>
}

const u64Max = (1n << 64n) - 1n

function fail(path: string, message: string): never {
  throw new ChainError('CHAIN_BAD_GENESIS', message, path)
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object')
  return v as Record<string, unknown>
}

function only(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path === '' ? k : `${path}.${k}`, 'unknown field')
}

function arr(v: unknown, path: string): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) fail(path, 'expected an array')
  return v
}

/** Amounts are decimal strings in JSON (a number would lose precision above 2^53). */
function amount(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v)) fail(path, 'expected an amount as a decimal string')
  const n = BigInt(v)
  if (n > u64Max) fail(path, 'amount exceeds u64')
  return n
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(path, `expected an integer in [${min}, ${max}]`)
  return v
}

function address(v: unknown, path: string): Uint8Array {
  if (typeof v !== 'string') fail(path, 'expected a trn1... address')
  try {
    return decodeAddress(v)
  } catch (err) {
    fail(path, (err as Error).message)
  }
}

function hexBytes(v: unknown, path: string, length: number): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-f]*$/.test(v) || v.length !== length * 2) fail(path, `expected ${length} bytes as lowercase hex`)
  return Uint8Array.from(Buffer.from(v, 'hex'))
}

function parseParams(v: unknown, path: string): ChainParams {
  if (v === undefined) return { ...defaultParams }
  const o = obj(v, path)
  const names = Object.keys(defaultParams) as Array<keyof ChainParams>
  only(o, names, path)
  const out: Record<string, unknown> = {}
  for (const name of names) {
    const d = defaultParams[name]
    const raw = o[name]
    const p = `${path}.${name}`
    out[name] = raw === undefined ? d : typeof d === 'bigint' ? amount(raw, p) : int(raw, p, 0, Number.MAX_SAFE_INTEGER)
  }
  let params: ChainParams
  try {
    params = paramsSchema.parse(out, path)
  } catch (err) {
    fail(path, (err as Error).message)
  }
  if (params.epochBlocks < 1) fail(`${path}.epochBlocks`, 'must be at least 1')
  if (params.validatorsActiveMax < 1) fail(`${path}.validatorsActiveMax`, 'must be at least 1')
  if (params.powerReductionMicro < 1n) fail(`${path}.powerReductionMicro`, 'must be at least 1')
  if (params.unbondingBlocks < 1) fail(`${path}.unbondingBlocks`, 'must be at least 1')
  if (params.unbondingEntriesMax < 1) fail(`${path}.unbondingEntriesMax`, 'must be at least 1')
  if (params.powerCapBps < 1) fail(`${path}.powerCapBps`, 'must be at least 1')
  return params
}

/**
 * Validates a genesis document (parsed JSON or its text) into a Genesis.
 * Every problem is a ChainError CHAIN_BAD_GENESIS whose `path` points at the field.
 */
export function parseGenesis(json: unknown): Genesis {
  let doc = json
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json)
    } catch (err) {
      fail('', `not JSON: ${(err as Error).message}`)
    }
  }
  const root = obj(doc, '')
  only(root, ['chainId', 'params', 'accounts', 'multisigAccounts', 'validators', 'modules'], '')
  const chainId = root.chainId
  if (typeof chainId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,47}$/.test(chainId)) fail('chainId', 'expected 1-48 chars of [a-z0-9-]')
  const params = parseParams(root.params, 'params')
  const seen = new Set<string>()
  const claim = (a: Uint8Array, path: string): void => {
    const k = Buffer.from(a).toString('hex')
    if (seen.has(k)) fail(path, 'duplicate account')
    seen.add(k)
  }
  const accounts = arr(root.accounts, 'accounts').map((raw, i) => {
    const p = `accounts[${i}]`
    const o = obj(raw, p)
    only(o, ['address', 'balance'], p)
    const a = { address: address(o.address, `${p}.address`), balanceMicro: amount(o.balance, `${p}.balance`) }
    claim(a.address, `${p}.address`)
    return a
  })
  const multisigAccounts = arr(root.multisigAccounts, 'multisigAccounts').map((raw, i) => {
    const p = `multisigAccounts[${i}]`
    const o = obj(raw, p)
    only(o, ['threshold', 'keys', 'balance'], p)
    const keyList = arr(o.keys, `${p}.keys`).map((k, j) => {
      const kp = `${p}.keys[${j}]`
      const ko = obj(k, kp)
      only(ko, ['publicKey', 'weight'], kp)
      return { publicKey: hexBytes(ko.publicKey, `${kp}.publicKey`, 32), weight: int(ko.weight, `${kp}.weight`, 1, 1_000_000) }
    })
    let config: MultisigConfig
    try {
      config = multisigConfigSchema.parse({ threshold: int(o.threshold, `${p}.threshold`, 1, 1_000_000), keys: keyList }, p)
      checkMultisigConfig(config, p)
    } catch (err) {
      if (err instanceof ChainError && err.code === 'CHAIN_BAD_GENESIS') throw err
      const { path = '', message } = err as { path?: string; message: string }
      fail(path === '' ? p : path, path === '' ? message : message.slice(path.length + 2))
    }
    const a = { address: multisigAddress(config), config, balanceMicro: amount(o.balance, `${p}.balance`) }
    claim(a.address, p)
    return a
  })
  const consensusKeys = new Set<string>()
  const operators = new Set<string>()
  const validators = arr(root.validators, 'validators').map((raw, i) => {
    const p = `validators[${i}]`
    const o = obj(raw, p)
    only(o, ['operator', 'consensusKey', 'selfStake', 'commissionBps'], p)
    const v = {
      operator: address(o.operator, `${p}.operator`),
      consensusKey: hexBytes(o.consensusKey, `${p}.consensusKey`, 32),
      selfStakeMicro: amount(o.selfStake, `${p}.selfStake`),
      commissionBps: int(o.commissionBps ?? 0, `${p}.commissionBps`, 0, 10_000),
    }
    if (!isValidPublicKey(v.consensusKey)) fail(`${p}.consensusKey`, 'not a valid Ed25519 public key')
    const ck = Buffer.from(v.consensusKey).toString('hex')
    if (consensusKeys.has(ck)) fail(`${p}.consensusKey`, 'duplicate consensus key')
    consensusKeys.add(ck)
    const ok = Buffer.from(v.operator).toString('hex')
    if (operators.has(ok)) fail(`${p}.operator`, 'duplicate operator')
    operators.add(ok)
    if (v.selfStakeMicro < params.selfStakeMinMicro) fail(`${p}.selfStake`, `below selfStakeMinMicro ${params.selfStakeMinMicro}`)
    const funded = accounts.find((a) => Buffer.compare(a.address, v.operator) === 0)?.balanceMicro ?? 0n
    if (funded < v.selfStakeMicro) fail(`${p}.selfStake`, `operator's genesis balance ${funded} does not cover the self-stake`)
    return v
  })
  // Several validators per operator are refused above, so one balance covers at most one self-stake.
  if (validators.length === 0) fail('validators', 'at least one validator is required')
  let total = 0n
  for (const a of [...accounts, ...multisigAccounts]) total += a.balanceMicro
  if (total > u64Max) fail('accounts', 'total supply exceeds u64')
  const modules = root.modules === undefined ? {} : obj(root.modules, 'modules')
  return { chainId, params, accounts, multisigAccounts, validators, modules }
}
