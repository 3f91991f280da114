import { ChainError } from '@terrane/chain'
import { decodeAddress, isValidPublicKey } from '@terrane/crypto'
import { reviewersMax, scheduleStepsMax, type CoverageParamsOnChain, type ShareStep } from './schemas.ts'

/** Defaults of the module's chain parameters, with their sources. */
export const defaultCoverageChainParams: CoverageParamsOnChain = {
  bondMinMicro: 100_000_000n, // Terrane: 100 TRN (a verifier is a validator's side job in the devnet)
  quorumBps: 6_667, // Tendermint: more than 2/3 (6,667 bps of bond is above two thirds)
  submitWindowEpochs: 4, // Terrane: digests arrive within 4 epochs after the epoch ends
  escrowHoldEpochs: 12, // @terrane/verifier defaultCoverageParams.escrowHoldEpochs (12 x 6 h = 3 days)
  slashBps: 1_000, // Terrane: 10% of the bond per proven wrong payout (Streamr slashes 10% on a lost flag vote)
  challengerRewardBps: 5_000, // Terrane: half of the slash to the prover, half to the module reserve
  unbondingEpochs: 4, // Terrane: a leaving verifier stays slashable for the submit window
}

/**
 * Coverage share of the DePIN emission by epoch: a bootstrap subsidy that decays, then the
 * data-only phase (0) as Helium did in 2026 (HIP-147 set coverage rewards to zero, HIP-149 pays
 * for data). Same steps as @terrane/verifier defaultCoverageParams.coverageSchedule.
 */
export const defaultShareSchedule: ShareStep[] = [
  { fromEpoch: 0, shareBps: 3_000 },
  { fromEpoch: 1_460, shareBps: 2_000 },
  { fromEpoch: 2_920, shareBps: 1_000 },
  { fromEpoch: 4_380, shareBps: 0 },
]

export interface CoverageGenesis {
  params: CoverageParamsOnChain
  schedule: ShareStep[]
  /** Ed25519 keys of appeal reviewers (governance-appointed). */
  reviewerKeys: Uint8Array[]
  /** Verifiers bonded at genesis (the bond is taken from the address's genesis balance). */
  verifiers: Array<{ address: Uint8Array; bondMicro: bigint }>
}

function fail(path: string, message: string): never {
  throw new ChainError('CHAIN_BAD_GENESIS', message, `modules.coverage${path === '' ? '' : '.' + path}`)
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object')
  return v as Record<string, unknown>
}

function only(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path === '' ? k : `${path}.${k}`, 'unknown field')
}

function arr(v: unknown, path: string, lengthMax: number): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || v.length > lengthMax) fail(path, `expected an array of at most ${lengthMax}`)
  return v
}

function amount(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) >= 1n << 64n)
    fail(path, 'expected a u64 amount as a decimal string')
  return BigInt(v)
}

function int(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(path, `expected an integer in [0, ${max}]`)
  return v
}

/** Validates the `modules.coverage` genesis section (absent: all defaults). */
export function parseCoverageGenesis(json: unknown): CoverageGenesis {
  const root = json === undefined ? {} : obj(json, '')
  only(root, ['params', 'schedule', 'reviewerKeys', 'verifiers'], '')
  const params: CoverageParamsOnChain = { ...defaultCoverageChainParams }
  if (root.params !== undefined) {
    const o = obj(root.params, 'params')
    only(o, Object.keys(defaultCoverageChainParams), 'params')
    const w = params as unknown as Record<string, unknown>
    for (const [name, d] of Object.entries(defaultCoverageChainParams)) {
      if (o[name] === undefined) continue
      const bpsMax = name.endsWith('Bps') ? 10_000 : Number.MAX_SAFE_INTEGER
      w[name] = typeof d === 'bigint' ? amount(o[name], `params.${name}`) : int(o[name], `params.${name}`, bpsMax)
    }
  }
  if (params.quorumBps <= 5_000) fail('params.quorumBps', 'a quorum must be more than half of the bond')
  let previous = -1
  const schedule =
    root.schedule === undefined
      ? defaultShareSchedule
      : arr(root.schedule, 'schedule', scheduleStepsMax).map((raw, i) => {
          const p = `schedule[${i}]`
          const o = obj(raw, p)
          only(o, ['fromEpoch', 'shareBps'], p)
          const step = {
            fromEpoch: int(o.fromEpoch, `${p}.fromEpoch`, Number.MAX_SAFE_INTEGER),
            shareBps: int(o.shareBps, `${p}.shareBps`, 10_000),
          }
          if (step.fromEpoch <= previous) fail(`${p}.fromEpoch`, 'steps must be in increasing epoch order')
          previous = step.fromEpoch
          return step
        })
  const reviewerKeys = arr(root.reviewerKeys, 'reviewerKeys', reviewersMax).map((raw, i) => {
    if (typeof raw !== 'string' || !/^[0-9a-f]{64}$/.test(raw)) fail(`reviewerKeys[${i}]`, 'expected 32 bytes as lowercase hex')
    const key = Uint8Array.from(Buffer.from(raw, 'hex'))
    if (!isValidPublicKey(key)) fail(`reviewerKeys[${i}]`, 'not a valid Ed25519 key')
    return key
  })
  const seen = new Set<string>()
  const verifiers = arr(root.verifiers, 'verifiers', 1000).map((raw, i) => {
    const p = `verifiers[${i}]`
    const o = obj(raw, p)
    only(o, ['address', 'bond'], p)
    let address: Uint8Array
    try {
      address = decodeAddress(String(o.address))
    } catch (err) {
      fail(`${p}.address`, (err as Error).message)
    }
    const key = Buffer.from(address).toString('hex')
    if (seen.has(key)) fail(`${p}.address`, 'duplicate verifier')
    seen.add(key)
    const bondMicro = amount(o.bond, `${p}.bond`)
    if (bondMicro < params.bondMinMicro) fail(`${p}.bond`, `below bondMinMicro ${params.bondMinMicro}`)
    return { address, bondMicro }
  })
  return { params, schedule, reviewerKeys, verifiers }
}

/** The share of emission (bps) for an epoch: the last step at or before it. */
export function shareBpsAt(schedule: readonly ShareStep[], epoch: number): number {
  let share = 0
  for (const step of schedule) if (epoch >= step.fromEpoch) share = step.shareBps
  return share
}
