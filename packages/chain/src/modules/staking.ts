import { accountIdOfPublicKey, isValidPublicKey } from '@terrane/crypto'
import type { FinalizeBlockRequest, ValidatorUpdate } from '../abci.ts'
import { bytesEqual, hex, type Core } from '../core.ts'
import { ChainError } from '../errors.ts'
import { keys } from '../keys.ts'
import {
  activeSetSchema,
  consensusIndexSchema,
  delegationSchema,
  addressListSchema,
  redelegationPairsSchema,
  redelegationQueueSchema,
  redelegationSchema,
  rewardScale,
  signingInfoSchema,
  unbondingQueueSchema,
  unbondingSchema,
  validatorListSchema,
  validatorSchema,
  type ActiveSet,
  type Delegation,
  type SigningInfo,
  type ValidatorRecord,
} from '../schemas.ts'

const bps = 10_000n
/** jailedUntilHeight of a tombstoned validator. */
const foreverHeight = Number.MAX_SAFE_INTEGER

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

export interface ActiveMember {
  operator: Uint8Array
  consensusKey: Uint8Array
  power: number
}

/**
 * Caps voting power so that no validator holds a blocking third alone.
 * Repeat until stable: cap = floor(total * capBps / 10000) (at least 1); every
 * power above cap becomes cap. The total shrinks at every round that changes
 * something, so it terminates; at the fixed point max <= capBps/10000 * total
 * < total / 3. With at most floor(10000 / capBps) validators no such cap exists
 * (n powers at most capBps/10000 of the total cannot add up to the total): the
 * powers are then made equal to the smallest one, the best a set that small can do.
 */
export function capPowers(powers: readonly number[], capBps: number): number[] {
  const out = [...powers]
  if (out.length === 0) return out
  if (out.length * capBps <= 10_000) {
    const min = Math.min(...out)
    return out.map(() => min)
  }
  for (;;) {
    const total = out.reduce((a, b) => a + b, 0)
    const cap = Math.max(1, Math.floor((total * capBps) / 10_000))
    let changed = false
    for (let i = 0; i < out.length; i++) {
      if ((out[i] as number) > cap) {
        out[i] = cap
        changed = true
      }
    }
    if (!changed) return out
  }
}

/** Staking, slashing and reward distribution: they share validator records, so they share one class. */
export class Staking {
  constructor(private readonly core: Core) {}

  private get params() {
    return this.core.params
  }

  validator(operator: Uint8Array): ValidatorRecord | undefined {
    return this.core.state.get(validatorSchema, keys.validator(operator))
  }

  private mustValidator(operator: Uint8Array): ValidatorRecord {
    const v = this.validator(operator)
    if (v === undefined) throw new ChainError('CHAIN_VALIDATOR_NOT_FOUND', `no validator ${hex(operator)}`)
    return v
  }

  setValidator(v: ValidatorRecord): void {
    this.core.state.set(validatorSchema, keys.validator(v.operator), v)
  }

  validatorByConsensus(consensusAddress: Uint8Array): ValidatorRecord | undefined {
    const index = this.core.state.get(consensusIndexSchema, keys.consensusIndex(consensusAddress))
    return index === undefined ? undefined : this.validator(index.operator)
  }

  delegation(delegator: Uint8Array, validator: Uint8Array): Delegation | undefined {
    return this.core.state.get(delegationSchema, keys.delegation(delegator, validator))
  }

  operators(): Uint8Array[] {
    return this.core.state.get(validatorListSchema, keys.validatorList())?.operators ?? []
  }

  activeSet(): ActiveSet {
    return this.core.state.get(activeSetSchema, keys.activeSet()) ?? { validators: [] }
  }

  // ---------------------------------------------------------------- index records (sorted, unique)

  private addToList(key: string, address: Uint8Array): void {
    const list = this.core.state.get(addressListSchema, key)?.addresses ?? []
    if (list.some((a) => bytesEqual(a, address))) return
    this.core.state.set(addressListSchema, key, { addresses: [...list, address].sort((a, b) => Buffer.compare(a, b)) })
  }

  private removeFromList(key: string, address: Uint8Array): void {
    const list = this.core.state.get(addressListSchema, key)?.addresses ?? []
    const left = list.filter((a) => !bytesEqual(a, address))
    if (left.length === list.length) return
    if (left.length === 0) this.core.state.delete(key)
    else this.core.state.set(addressListSchema, key, { addresses: left })
  }

  private redelegationPairs(source: Uint8Array): Array<{ delegator: Uint8Array; destination: Uint8Array }> {
    return this.core.state.get(redelegationPairsSchema, keys.redelegationBySource(source))?.pairs ?? []
  }

  private setRedelegationPairs(source: Uint8Array, pairs: Array<{ delegator: Uint8Array; destination: Uint8Array }>): void {
    const key = keys.redelegationBySource(source)
    if (pairs.length === 0) this.core.state.delete(key)
    else this.core.state.set(redelegationPairsSchema, key, { pairs })
  }

  // ---------------------------------------------------------------- messages

  createValidator(operator: Uint8Array, consensusKey: Uint8Array, commissionBps: number, selfStakeMicro: bigint): void {
    if (this.validator(operator) !== undefined)
      throw new ChainError('CHAIN_VALIDATOR_EXISTS', `${hex(operator)} already operates a validator`)
    if (!isValidPublicKey(consensusKey)) throw new ChainError('CHAIN_BAD_KEY', 'consensus key is not a valid Ed25519 key')
    const consensusAddress = accountIdOfPublicKey(consensusKey)
    if (this.core.state.get(consensusIndexSchema, keys.consensusIndex(consensusAddress)) !== undefined)
      throw new ChainError('CHAIN_CONSENSUS_KEY_IN_USE', 'consensus key already registered')
    if (commissionBps > 10_000) throw new ChainError('CHAIN_BAD_COMMISSION', `commission ${commissionBps} bps above 10000`)
    if (selfStakeMicro < this.params.selfStakeMinMicro)
      throw new ChainError('CHAIN_SELF_STAKE_TOO_LOW', `self-stake ${selfStakeMicro} below ${this.params.selfStakeMinMicro}`)
    this.setValidator({
      operator,
      consensusKey,
      consensusAddress,
      commissionBps,
      tokensMicro: 0n,
      shares: 0n,
      isJailed: false,
      jailedUntilHeight: 0,
      isTombstoned: false,
      commissionPendingMicro: 0n,
      rewardPerShare: '0',
      createdHeight: this.core.height,
    })
    this.core.state.set(consensusIndexSchema, keys.consensusIndex(consensusAddress), { operator })
    const list = [...this.operators(), operator].sort((a, b) => Buffer.compare(a, b))
    this.core.state.set(validatorListSchema, keys.validatorList(), { operators: list })
    this.resetSigningInfo(consensusAddress)
    this.delegate(operator, operator, selfStakeMicro)
    this.core.emit('create-validator', { operator: hex(operator), consensusKey: hex(consensusKey) })
  }

  editValidator(operator: Uint8Array, commissionBps: number): void {
    const v = this.mustValidator(operator)
    if (commissionBps > 10_000) throw new ChainError('CHAIN_BAD_COMMISSION', `commission ${commissionBps} bps above 10000`)
    this.setValidator({ ...v, commissionBps })
  }

  delegate(delegator: Uint8Array, operator: Uint8Array, amountMicro: bigint): void {
    if (amountMicro === 0n) throw new ChainError('CHAIN_ZERO_AMOUNT', 'delegation of zero')
    const v = this.mustValidator(operator)
    this.core.debit(delegator, amountMicro)
    const shares = this.bond(delegator, v, amountMicro)
    this.core.addPools({ stakedMicro: amountMicro })
    this.core.emit('delegate', {
      delegator: hex(delegator),
      validator: hex(operator),
      amountMicro: String(amountMicro),
      shares: String(shares),
    })
  }

  /** Adds tokens to a validator for a delegator (settling its rewards first); returns the shares issued. */
  private bond(delegator: Uint8Array, v: ValidatorRecord, amountMicro: bigint): bigint {
    if (v.tokensMicro === 0n && v.shares > 0n) throw new ChainError('CHAIN_VALIDATOR_SLASHED_OUT', 'validator has no tokens left')
    const shares = v.shares === 0n ? amountMicro : (amountMicro * v.shares) / v.tokensMicro
    if (shares === 0n) throw new ChainError('CHAIN_ZERO_AMOUNT', 'amount buys no shares')
    const d = this.settle(delegator, v)
    this.core.state.set(delegationSchema, keys.delegation(delegator, v.operator), {
      shares: (d?.shares ?? 0n) + shares,
      rewardPerShareStart: v.rewardPerShare,
    })
    this.setValidator({ ...this.mustValidator(v.operator), tokensMicro: v.tokensMicro + amountMicro, shares: v.shares + shares })
    return shares
  }

  /** Removes `amountMicro` worth of a delegator's shares; returns the shares removed. */
  private unbond(delegator: Uint8Array, operator: Uint8Array, amountMicro: bigint): bigint {
    if (amountMicro === 0n) throw new ChainError('CHAIN_ZERO_AMOUNT', 'amount of zero')
    const v = this.mustValidator(operator)
    const d = this.delegation(delegator, operator)
    if (d === undefined) throw new ChainError('CHAIN_DELEGATION_NOT_FOUND', `no delegation to ${hex(operator)}`)
    if (v.tokensMicro < amountMicro) throw new ChainError('CHAIN_INSUFFICIENT_SHARES', 'validator holds fewer tokens')
    const shares = ceilDiv(amountMicro * v.shares, v.tokensMicro)
    if (shares > d.shares) throw new ChainError('CHAIN_INSUFFICIENT_SHARES', `needs ${shares} shares, delegation holds ${d.shares}`)
    this.settle(delegator, v)
    const remaining = d.shares - shares
    if (remaining === 0n) this.core.state.delete(keys.delegation(delegator, operator))
    else
      this.core.state.set(delegationSchema, keys.delegation(delegator, operator), {
        shares: remaining,
        rewardPerShareStart: v.rewardPerShare,
      })
    let next: ValidatorRecord = { ...v, tokensMicro: v.tokensMicro - amountMicro, shares: v.shares - shares }
    // A validator whose operator takes its self-stake below the minimum is jailed (Cosmos SDK).
    if (bytesEqual(delegator, operator) && !next.isJailed && next.shares > 0n) {
      const selfTokens = (remaining * next.tokensMicro) / next.shares
      if (selfTokens < this.params.selfStakeMinMicro) next = { ...next, isJailed: true, jailedUntilHeight: this.core.height }
    } else if (bytesEqual(delegator, operator) && next.shares === 0n)
      next = { ...next, isJailed: true, jailedUntilHeight: this.core.height }
    this.setValidator(next)
    return shares
  }

  undelegate(delegator: Uint8Array, operator: Uint8Array, amountMicro: bigint): void {
    const key = keys.unbonding(delegator, operator)
    const ub = this.core.state.get(unbondingSchema, key) ?? { entries: [] }
    if (ub.entries.length >= this.params.unbondingEntriesMax)
      throw new ChainError('CHAIN_TOO_MANY_ENTRIES', `${ub.entries.length} unbonding entries already`)
    this.unbond(delegator, operator, amountMicro)
    this.core.addPools({ stakedMicro: -amountMicro, unbondingMicro: amountMicro })
    const completionHeight = this.core.height + this.params.unbondingBlocks
    this.core.state.set(unbondingSchema, key, {
      entries: [
        ...ub.entries,
        { creationHeight: this.core.height, completionHeight, initialMicro: amountMicro, balanceMicro: amountMicro },
      ],
    })
    this.addToList(keys.unbondingByValidator(operator), delegator)
    const qk = keys.unbondingQueue(completionHeight)
    const q = this.core.state.get(unbondingQueueSchema, qk) ?? { pairs: [] }
    this.core.state.set(unbondingQueueSchema, qk, { pairs: [...q.pairs, { delegator, validator: operator }] })
    this.core.emit('undelegate', {
      delegator: hex(delegator),
      validator: hex(operator),
      amountMicro: String(amountMicro),
      completionHeight: String(completionHeight),
    })
  }

  redelegate(delegator: Uint8Array, source: Uint8Array, destination: Uint8Array, amountMicro: bigint): void {
    if (bytesEqual(source, destination)) throw new ChainError('CHAIN_SELF_REDELEGATION', 'source and destination are the same validator')
    const dst = this.mustValidator(destination)
    this.mustValidator(source)
    // Cosmos SDK: no transitive redelegation while stake redelegated into `source` is still slashable.
    if (this.core.state.get(addressListSchema, keys.redelegationInto(delegator, source)) !== undefined)
      throw new ChainError('CHAIN_REDELEGATION_TRANSITIVE', 'stake redelegated into the source is still maturing')
    const key = keys.redelegation(delegator, source, destination)
    const red = this.core.state.get(redelegationSchema, key) ?? { entries: [] }
    if (red.entries.length >= this.params.unbondingEntriesMax)
      throw new ChainError('CHAIN_TOO_MANY_ENTRIES', `${red.entries.length} redelegation entries already`)
    this.unbond(delegator, source, amountMicro)
    const sharesDst = this.bond(delegator, this.mustValidator(dst.operator), amountMicro)
    const completionHeight = this.core.height + this.params.unbondingBlocks
    this.core.state.set(redelegationSchema, key, {
      entries: [...red.entries, { creationHeight: this.core.height, completionHeight, initialMicro: amountMicro, sharesDst }],
    })
    const pairs = this.redelegationPairs(source)
    if (!pairs.some((p) => bytesEqual(p.delegator, delegator) && bytesEqual(p.destination, destination)))
      this.setRedelegationPairs(
        source,
        [...pairs, { delegator, destination }].sort(
          (a, b) => Buffer.compare(a.delegator, b.delegator) || Buffer.compare(a.destination, b.destination),
        ),
      )
    this.addToList(keys.redelegationInto(delegator, destination), source)
    const qk = keys.redelegationQueue(completionHeight)
    const q = this.core.state.get(redelegationQueueSchema, qk) ?? { triples: [] }
    this.core.state.set(redelegationQueueSchema, qk, { triples: [...q.triples, { delegator, source, destination }] })
    this.core.emit('redelegate', {
      delegator: hex(delegator),
      source: hex(source),
      destination: hex(destination),
      amountMicro: String(amountMicro),
    })
  }

  unjail(operator: Uint8Array): void {
    const v = this.mustValidator(operator)
    if (v.isTombstoned) throw new ChainError('CHAIN_TOMBSTONED', 'a double-signing validator stays jailed')
    if (!v.isJailed) throw new ChainError('CHAIN_NOT_JAILED', 'validator is not jailed')
    if (this.core.height < v.jailedUntilHeight) throw new ChainError('CHAIN_JAIL_NOT_EXPIRED', `jailed until height ${v.jailedUntilHeight}`)
    const self = this.delegation(operator, operator)
    const selfTokens = self === undefined || v.shares === 0n ? 0n : (self.shares * v.tokensMicro) / v.shares
    if (selfTokens < this.params.selfStakeMinMicro)
      throw new ChainError('CHAIN_SELF_STAKE_TOO_LOW', `self-stake ${selfTokens} below minimum`)
    this.setValidator({ ...v, isJailed: false })
    this.resetSigningInfo(v.consensusAddress)
    this.core.emit('unjail', { operator: hex(operator) })
  }

  // ---------------------------------------------------------------- rewards (F1 over shares)

  /** Rewards a delegation has earned and not withdrawn. */
  pendingRewards(v: ValidatorRecord, d: Delegation): bigint {
    return (d.shares * (BigInt(v.rewardPerShare) - BigInt(d.rewardPerShareStart))) / rewardScale
  }

  /** Pays a delegation's pending rewards and restarts its accumulator; returns the delegation as it was. */
  private settle(delegator: Uint8Array, v: ValidatorRecord): Delegation | undefined {
    const d = this.delegation(delegator, v.operator)
    if (d === undefined) return undefined
    const reward = this.pendingRewards(v, d)
    if (reward > 0n) {
      this.core.addPools({ rewardsMicro: -reward })
      this.core.credit(delegator, reward)
    }
    if (d.rewardPerShareStart !== v.rewardPerShare)
      this.core.state.set(delegationSchema, keys.delegation(delegator, v.operator), {
        shares: d.shares,
        rewardPerShareStart: v.rewardPerShare,
      })
    return d
  }

  withdrawRewards(delegator: Uint8Array, operator: Uint8Array): void {
    const v = this.mustValidator(operator)
    const d = this.delegation(delegator, operator)
    if (d === undefined) throw new ChainError('CHAIN_DELEGATION_NOT_FOUND', `no delegation to ${hex(operator)}`)
    const reward = this.pendingRewards(v, d)
    this.settle(delegator, v)
    this.core.emit('withdraw-rewards', { delegator: hex(delegator), validator: hex(operator), amountMicro: String(reward) })
  }

  withdrawCommission(operator: Uint8Array): void {
    const v = this.mustValidator(operator)
    const amount = v.commissionPendingMicro
    if (amount > 0n) {
      this.setValidator({ ...v, commissionPendingMicro: 0n })
      this.core.addPools({ rewardsMicro: -amount })
      this.core.credit(operator, amount)
    }
    this.core.emit('withdraw-commission', { operator: hex(operator), amountMicro: String(amount) })
  }

  /** Credits `amountMicro` (already in the rewards pool) to a validator: commission, then per share. Returns what could not be credited. */
  private allocate(v: ValidatorRecord, amountMicro: bigint): bigint {
    if (amountMicro === 0n) return 0n
    const current = this.mustValidator(v.operator)
    if (current.shares === 0n) return amountMicro
    const commission = (amountMicro * BigInt(current.commissionBps)) / bps
    const perShare = ((amountMicro - commission) * rewardScale) / current.shares
    this.setValidator({
      ...current,
      commissionPendingMicro: current.commissionPendingMicro + commission,
      rewardPerShare: String(BigInt(current.rewardPerShare) + perShare),
    })
    return 0n
  }

  /**
   * Block rewards: issuance plus the block's fees (less the burn share). The
   * proposer gets proposerBonusBps first; the rest is shared by voting power
   * among the validators that signed the previous commit. Nothing earned (no
   * signers, a validator without shares, integer remainders) goes to the
   * community pool.
   */
  distribute(req: FinalizeBlockRequest): void {
    const pools = this.core.pools()
    const fees = pools.feesMicro
    const burned = (fees * BigInt(this.params.feeBurnBps)) / bps
    const issuance = this.params.blockRewardMicro
    this.core.burn(burned)
    this.core.mint(issuance)
    const total = fees - burned + issuance
    this.core.addPools({ feesMicro: -fees, rewardsMicro: total })
    if (total === 0n) return
    const signers: Array<{ v: ValidatorRecord; power: bigint }> = []
    let signedPower = 0n
    for (const vote of req.lastCommitVotes) {
      if (!vote.signed || vote.power <= 0) continue
      const v = this.validatorByConsensus(vote.validator)
      if (v === undefined) continue
      signers.push({ v, power: BigInt(vote.power) })
      signedPower += BigInt(vote.power)
    }
    let unallocated = total
    if (signers.length > 0) {
      const proposer = this.validatorByConsensus(req.proposer)
      if (proposer !== undefined) {
        const bonus = (total * BigInt(this.params.proposerBonusBps)) / bps
        unallocated -= bonus - this.allocate(proposer, bonus)
      }
      const rest = unallocated
      for (const { v, power } of signers) {
        const share = (rest * power) / signedPower
        unallocated -= share - this.allocate(v, share)
      }
    }
    if (unallocated > 0n) this.core.addPools({ rewardsMicro: -unallocated, communityMicro: unallocated })
  }

  // ---------------------------------------------------------------- slashing

  private resetSigningInfo(consensusAddress: Uint8Array): void {
    this.core.state.set(signingInfoSchema, keys.signingInfo(consensusAddress), {
      startHeight: this.core.height,
      indexOffset: 0,
      missedBitmap: new Uint8Array(Math.ceil(this.params.signedBlocksWindow / 8)),
      missedCount: 0,
    })
  }

  /**
   * Slashes `fractionBps` of a validator's tokens, and (for double-signing) of
   * every unbonding and redelegation from it that started at or after the
   * infraction height: that stake was at risk when the offence happened.
   * Slashed tokens are burned. Delegations keep their shares, so this is O(1)
   * in the number of delegators.
   */
  slash(v: ValidatorRecord, infractionHeight: number, fractionBps: number, includeEntries: boolean): bigint {
    const fraction = BigInt(fractionBps)
    let burned = 0n
    if (includeEntries) {
      for (const delegator of this.core.state.get(addressListSchema, keys.unbondingByValidator(v.operator))?.addresses ?? []) {
        const uk = keys.unbonding(delegator, v.operator)
        const ub = this.core.state.get(unbondingSchema, uk)
        if (ub === undefined) continue
        let slashed = 0n
        const entries = ub.entries.map((e) => {
          if (e.creationHeight < infractionHeight || e.balanceMicro === 0n) return e
          const s = [(e.initialMicro * fraction) / bps, e.balanceMicro].reduce((a, b) => (a < b ? a : b))
          slashed += s
          return { ...e, balanceMicro: e.balanceMicro - s }
        })
        if (slashed > 0n) {
          this.core.state.set(unbondingSchema, uk, { entries })
          this.core.addPools({ unbondingMicro: -slashed })
          burned += slashed
        }
      }
      for (const { delegator, destination } of this.redelegationPairs(v.operator)) {
        const rk = keys.redelegation(delegator, v.operator, destination)
        const red = this.core.state.get(redelegationSchema, rk)
        if (red === undefined) continue
        const entries = red.entries.map((e) => {
          if (e.creationHeight < infractionHeight || e.sharesDst === 0n) return e
          const dst = this.mustValidator(destination)
          const d = this.delegation(delegator, destination)
          if (d === undefined || dst.shares === 0n || dst.tokensMicro === 0n) return e
          const wanted = ceilDiv(((e.initialMicro * fraction) / bps) * dst.shares, dst.tokensMicro)
          const shares = [wanted, e.sharesDst, d.shares].reduce((a, b) => (a < b ? a : b))
          if (shares === 0n) return e
          const tokens = (shares * dst.tokensMicro) / dst.shares
          this.settle(delegator, dst)
          const remaining = d.shares - shares
          if (remaining === 0n) this.core.state.delete(keys.delegation(delegator, destination))
          else
            this.core.state.set(delegationSchema, keys.delegation(delegator, destination), {
              shares: remaining,
              rewardPerShareStart: dst.rewardPerShare,
            })
          this.setValidator({ ...dst, tokensMicro: dst.tokensMicro - tokens, shares: dst.shares - shares })
          this.core.addPools({ stakedMicro: -tokens })
          burned += tokens
          return { ...e, sharesDst: e.sharesDst - shares }
        })
        this.core.state.set(redelegationSchema, rk, { entries })
      }
    }
    const current = this.mustValidator(v.operator)
    const fromValidator = (current.tokensMicro * fraction) / bps
    if (fromValidator > 0n) {
      this.setValidator({ ...current, tokensMicro: current.tokensMicro - fromValidator })
      this.core.addPools({ stakedMicro: -fromValidator })
      burned += fromValidator
    }
    this.core.burn(burned)
    return burned
  }

  /** Double-sign evidence: slash, jail and tombstone, once per validator (later evidence finds it tombstoned). */
  handleMisbehavior(req: FinalizeBlockRequest): void {
    for (const m of req.misbehavior) {
      const v = this.validatorByConsensus(m.validator)
      if (v === undefined || v.isTombstoned) continue
      if (req.height - m.height > this.params.evidenceAgeBlocksMax) {
        this.core.emit('evidence-expired', { validator: hex(m.validator), height: String(m.height) })
        continue
      }
      const burned = this.slash(v, m.height, this.params.slashDoubleSignBps, true)
      this.setValidator({ ...this.mustValidator(v.operator), isJailed: true, isTombstoned: true, jailedUntilHeight: foreverHeight })
      this.core.emit('slash', { operator: hex(v.operator), reason: 'double-sign', height: String(m.height), burnedMicro: String(burned) })
    }
  }

  /** Downtime: a sliding window of signed/missed bits per validator in the last commit (Cosmos SDK x/slashing). */
  trackLiveness(req: FinalizeBlockRequest): void {
    const window = this.params.signedBlocksWindow
    if (window === 0) return
    const missedMax = window - Math.ceil((window * this.params.minSignedBps) / 10_000)
    for (const vote of req.lastCommitVotes) {
      const v = this.validatorByConsensus(vote.validator)
      if (v === undefined || v.isJailed) continue
      const ik = keys.signingInfo(v.consensusAddress)
      const info = this.core.state.get(signingInfoSchema, ik) as SigningInfo
      const index = info.indexOffset % window
      const byte = index >> 3
      const bit = 1 << (index & 7)
      const wasMissed = ((info.missedBitmap[byte] as number) & bit) !== 0
      const isMissed = !vote.signed
      let missedCount = info.missedCount
      let missedBitmap = info.missedBitmap
      if (wasMissed !== isMissed) {
        missedBitmap = Uint8Array.from(info.missedBitmap)
        missedBitmap[byte] = (missedBitmap[byte] as number) ^ bit
        missedCount += isMissed ? 1 : -1
      }
      const next = { ...info, indexOffset: info.indexOffset + 1, missedBitmap, missedCount }
      if (next.indexOffset >= window && missedCount > missedMax) {
        const burned = this.slash(v, req.height, this.params.slashDowntimeBps, false)
        const jailedUntilHeight = req.height + this.params.downtimeJailBlocks
        this.setValidator({ ...this.mustValidator(v.operator), isJailed: true, jailedUntilHeight })
        this.resetSigningInfo(v.consensusAddress)
        this.core.emit('slash', { operator: hex(v.operator), reason: 'downtime', height: String(req.height), burnedMicro: String(burned) })
      } else {
        this.core.state.set(signingInfoSchema, ik, next)
      }
    }
  }

  // ---------------------------------------------------------------- maturity and the active set

  matureEntries(): void {
    const h = this.core.height
    const uq = keys.unbondingQueue(h)
    for (const { delegator, validator } of this.core.state.get(unbondingQueueSchema, uq)?.pairs ?? []) {
      const uk = keys.unbonding(delegator, validator)
      const ub = this.core.state.get(unbondingSchema, uk)
      if (ub === undefined) continue
      let paid = 0n
      const left = ub.entries.filter((e) => {
        if (e.completionHeight > h) return true
        paid += e.balanceMicro
        return false
      })
      if (paid > 0n) {
        this.core.addPools({ unbondingMicro: -paid })
        this.core.credit(delegator, paid)
        this.core.emit('unbonded', { delegator: hex(delegator), validator: hex(validator), amountMicro: String(paid) })
      }
      if (left.length === 0) {
        this.core.state.delete(uk)
        this.removeFromList(keys.unbondingByValidator(validator), delegator)
      } else this.core.state.set(unbondingSchema, uk, { entries: left })
    }
    this.core.state.delete(uq)
    const rq = keys.redelegationQueue(h)
    for (const { delegator, source, destination } of this.core.state.get(redelegationQueueSchema, rq)?.triples ?? []) {
      const rk = keys.redelegation(delegator, source, destination)
      const red = this.core.state.get(redelegationSchema, rk)
      if (red === undefined) continue
      const left = red.entries.filter((e) => e.completionHeight > h)
      if (left.length === 0) {
        this.core.state.delete(rk)
        this.setRedelegationPairs(
          source,
          this.redelegationPairs(source).filter((p) => !(bytesEqual(p.delegator, delegator) && bytesEqual(p.destination, destination))),
        )
        this.removeFromList(keys.redelegationInto(delegator, destination), source)
      } else this.core.state.set(redelegationSchema, rk, { entries: left })
    }
    this.core.state.delete(rq)
  }

  /**
   * The top validatorsActiveMax candidates (not jailed, power >= 1) by tokens,
   * ties broken by operator address; power = tokens / powerReductionMicro, then
   * capped (capPowers).
   */
  computeActiveSet(members?: ReadonlyArray<Uint8Array>): ActiveMember[] {
    const reduction = this.params.powerReductionMicro
    const candidates: Array<{ v: ValidatorRecord; raw: bigint }> = []
    for (const op of members ?? this.operators()) {
      const v = this.validator(op)
      if (v === undefined || v.isJailed || v.isTombstoned) continue
      const raw = v.tokensMicro / reduction
      if (raw >= 1n) candidates.push({ v, raw })
    }
    candidates.sort((a, b) => (a.raw !== b.raw ? (a.raw > b.raw ? -1 : 1) : Buffer.compare(a.v.operator, b.v.operator)))
    const top = candidates.slice(0, this.params.validatorsActiveMax)
    const safeMax = BigInt(Number.MAX_SAFE_INTEGER) / 1024n
    const powers = capPowers(
      top.map((c) => Number(c.raw > safeMax ? safeMax : c.raw)),
      this.params.powerCapBps,
    )
    return top.map((c, i) => ({ operator: c.v.operator, consensusKey: c.v.consensusKey, power: powers[i] as number }))
  }

  /**
   * Stores a new active set and returns the changes from the previous one, by consensus key.
   * A selection that would leave no validator at all keeps the previous set (an empty set
   * halts consensus for good; a set of jailed validators can still be unjailed).
   */
  replaceActiveSet(next: ActiveMember[]): ValidatorUpdate[] {
    const previous = this.activeSet().validators
    if (next.length === 0 && previous.length > 0) {
      this.core.emit('active-set-empty', { kept: String(previous.length) })
      return []
    }
    const byKey = new Map<string, number>()
    for (const m of previous) byKey.set(hex(m.consensusKey), m.power)
    const updates: ValidatorUpdate[] = []
    const nextKeys = new Set<string>()
    for (const m of next) {
      const k = hex(m.consensusKey)
      nextKeys.add(k)
      if (byKey.get(k) !== m.power) updates.push({ publicKey: m.consensusKey, power: m.power })
    }
    for (const m of previous) if (!nextKeys.has(hex(m.consensusKey))) updates.push({ publicKey: m.consensusKey, power: 0 })
    updates.sort((a, b) => Buffer.compare(a.publicKey, b.publicKey))
    this.core.state.set(activeSetSchema, keys.activeSet(), {
      validators: [...next].sort((a, b) => Buffer.compare(a.operator, b.operator)),
    })
    return updates
  }

  /** End of block: a full reselection at epoch boundaries; otherwise jailed members leave at once. */
  updateActiveSet(isEpochBoundary: boolean): ValidatorUpdate[] {
    if (isEpochBoundary) return this.replaceActiveSet(this.computeActiveSet())
    const current = this.activeSet().validators
    const hasLeaver = current.some((m) => {
      const v = this.validator(m.operator)
      return v === undefined || v.isJailed
    })
    if (!hasLeaver) return []
    return this.replaceActiveSet(this.computeActiveSet(current.map((m) => m.operator)))
  }
}
