import assert from 'node:assert/strict'
import { bytesEqual, encode, hashOf, merkleRoot, sha256, verifyMerkleProof } from '@terrane/codec'
import { decodeAddress, encodeAddress, verifyInDomain } from '@terrane/crypto'
import { appealSchema, epochDigestSchema, payoutSchema, type Payout } from '@terrane/verifier'
import type { BlockContext, ChainModule, EmissionSink, ModuleStore, TxContext } from '@terrane/chain'
import { CoverageError } from './errors.ts'
import { parseCoverageGenesis, shareBpsAt } from './genesis.ts'
import { coverageKeys as k } from './keys.ts'
import {
  chunkSchema,
  coverageMessages,
  coverageParamsSchema,
  epochSchema,
  escrowSchema,
  markerSchema,
  reserveSchema,
  reviewersSchema,
  scheduleSchema,
  submissionSchema,
  uploadSchema,
  verifierSchema,
  type CoverageParamsOnChain,
  type EpochState,
  type Reserve,
  type Submission,
  type VerifierState,
} from './schemas.ts'

const bpsTotal = 10_000n
/**
 * The keyless account that emission for escrow passes through: `pay` credits accounts only, so
 * the sink pays here and locks it into the module escrow in the same step. Nobody holds a key
 * whose account id is this hash.
 */
export const escrowTransitAddress = sha256(new TextEncoder().encode('terrane/coverage/escrow-transit')).slice(0, 20)
/** Settled epochs paid per epoch boundary (a backlog drains one epoch per boundary). */
export const settlementsPerBoundaryMax = 1

function paramsOf(store: ModuleStore): CoverageParamsOnChain {
  const p = store.get(coverageParamsSchema, k.params())
  if (p === undefined) throw new Error('coverage module used before its genesis')
  return p
}

function epochOf(ctx: BlockContext): number {
  return Math.floor(ctx.height / ctx.params.epochBlocks)
}

function isActive(v: VerifierState): boolean {
  return v.releaseEpoch === undefined && !v.isSlashed
}

function activeVerifier(ctx: TxContext): VerifierState {
  const v = ctx.store.get(verifierSchema, k.verifier(ctx.sender))
  if (v === undefined || !isActive(v)) throw new CoverageError('COVERAGE_NOT_VERIFIER', 'the sender is not an active verifier')
  return v
}

function reserveOf(store: ModuleStore): Reserve {
  return store.get(reserveSchema, k.reserve()) ?? { forfeitedMicro: 0n, slashedMicro: 0n }
}

// ------------------------------------------------------------------ verifiers

function registerVerifier(ctx: BlockContext, address: Uint8Array, bondMicro: bigint): void {
  const params = paramsOf(ctx.store)
  const existing = ctx.store.get(verifierSchema, k.verifier(address))
  if (existing !== undefined) throw new CoverageError('COVERAGE_VERIFIER_EXISTS', 'already registered (or still unbonding)')
  if (bondMicro < params.bondMinMicro) throw new CoverageError('COVERAGE_BOND_TOO_LOW', `bond ${bondMicro} below ${params.bondMinMicro}`)
  ctx.bank.lock(address, bondMicro)
  ctx.store.set(verifierSchema, k.verifier(address), { address, bondMicro, registeredHeight: ctx.height, isSlashed: false })
  ctx.emit({ type: 'coverage-verifier-registered', attributes: { verifier: encodeAddress(address), bondMicro: String(bondMicro) } })
}

function unregisterVerifier(ctx: TxContext): void {
  const v = activeVerifier(ctx)
  const releaseEpoch = epochOf(ctx) + paramsOf(ctx.store).unbondingEpochs
  ctx.store.set(verifierSchema, k.verifier(v.address), { ...v, releaseEpoch })
  ctx.emit({ type: 'coverage-verifier-leaving', attributes: { verifier: encodeAddress(v.address), releaseEpoch: String(releaseEpoch) } })
}

/** Returns bonds whose unbonding ended (at epoch boundaries). */
function releaseBonds(ctx: BlockContext): void {
  const epoch = epochOf(ctx)
  for (const [, v] of ctx.store.scan(verifierSchema, k.verifiers())) {
    if (v.releaseEpoch === undefined || v.releaseEpoch > epoch) continue
    ctx.bank.unlock(v.address, v.bondMicro)
    ctx.store.delete(k.verifier(v.address))
    ctx.emit({ type: 'coverage-bond-released', attributes: { verifier: encodeAddress(v.address), bondMicro: String(v.bondMicro) } })
  }
}

// ------------------------------------------------------------------ digests

type DigestMsg = Omit<Submission, 'digestHash' | 'bondMicro' | 'submittedHeight' | 'isProvenWrong'>

function submitDigest(ctx: TxContext, msg: DigestMsg): void {
  const v = activeVerifier(ctx)
  const params = paramsOf(ctx.store)
  const now = epochOf(ctx)
  if (msg.epoch >= now) throw new CoverageError('COVERAGE_EPOCH_NOT_OVER', `epoch ${msg.epoch} is not over (chain epoch ${now})`)
  if (now - msg.epoch > params.submitWindowEpochs)
    throw new CoverageError('COVERAGE_EPOCH_TOO_OLD', `epoch ${msg.epoch} closed ${params.submitWindowEpochs} epochs after its end`)
  if (ctx.store.get(submissionSchema, k.submission(msg.epoch, v.address)) !== undefined)
    throw new CoverageError('COVERAGE_ALREADY_SUBMITTED', `already submitted for epoch ${msg.epoch}`)
  const body = {
    epoch: msg.epoch,
    poolMicro: msg.poolMicro,
    unallocatedMicro: msg.unallocatedMicro,
    acceptedReportsRoot: msg.acceptedReportsRoot,
    verdictsRoot: msg.verdictsRoot,
    payoutsRoot: msg.payoutsRoot,
  }
  const digestHash = hashOf(epochDigestSchema, body)
  ctx.store.set(submissionSchema, k.submission(msg.epoch, v.address), {
    ...body,
    digestHash,
    bondMicro: v.bondMicro,
    submittedHeight: ctx.height,
    isProvenWrong: false,
  })
  const hashHex = Buffer.from(digestHash).toString('hex')
  ctx.emit({ type: 'coverage-digest', attributes: { epoch: String(msg.epoch), verifier: encodeAddress(v.address), digestHash: hashHex } })
  const agreed = ctx.store.get(epochSchema, k.epoch(msg.epoch))
  if (agreed !== undefined) {
    if (!bytesEqual(agreed.digestHash, digestHash))
      ctx.emit({
        type: 'coverage-disagreement',
        attributes: { epoch: String(msg.epoch), verifier: encodeAddress(v.address), digestHash: hashHex },
      })
    return
  }
  // Quorum by bond among the verifiers active now: the same digest from more than quorumBps of it.
  let totalMicro = 0n
  let forMicro = 0n
  for (const [, w] of ctx.store.scan(verifierSchema, k.verifiers())) {
    if (!isActive(w)) continue
    totalMicro += w.bondMicro
    const s = ctx.store.get(submissionSchema, k.submission(msg.epoch, w.address))
    if (s !== undefined && bytesEqual(s.digestHash, digestHash)) forMicro += w.bondMicro
  }
  if (totalMicro === 0n || forMicro * bpsTotal < totalMicro * BigInt(params.quorumBps)) return
  ctx.store.set(epochSchema, k.epoch(msg.epoch), {
    epoch: msg.epoch,
    status: 'agreed',
    digestHash,
    payoutsRoot: msg.payoutsRoot,
    agreedHeight: ctx.height,
  })
  ctx.emit({ type: 'coverage-agreed', attributes: { epoch: String(msg.epoch), digestHash: hashHex, bondMicro: String(forMicro) } })
}

// ------------------------------------------------------------------ payout lists

function checkPayout(p: Payout, index: number): void {
  const at = `payout ${index} (${p.deviceId})`
  if (p.paidMicro < p.releasedMicro) throw new CoverageError('COVERAGE_BAD_PAYOUT', `${at}: paid below released`)
  if (p.paidMicro - p.releasedMicro + p.escrowedMicro !== p.earnedMicro)
    throw new CoverageError('COVERAGE_BAD_PAYOUT', `${at}: earned != paid - released + escrowed`)
  try {
    decodeAddress(p.owner)
  } catch {
    throw new CoverageError('COVERAGE_BAD_PAYOUT', `${at}: owner is not an address`)
  }
}

function uploadedPayouts(store: ModuleStore, epoch: number, uploader: Uint8Array, chunks: number): Payout[] {
  const out: Payout[] = []
  for (let i = 0; i < chunks; i++) out.push(...(store.get(chunkSchema, k.chunk(epoch, uploader, i))?.payouts ?? []))
  return out
}

function deleteUpload(store: ModuleStore, epoch: number, uploader: Uint8Array): void {
  const upload = store.get(uploadSchema, k.upload(epoch, uploader))
  if (upload === undefined) return
  for (let i = 0; i < upload.chunks; i++) store.delete(k.chunk(epoch, uploader, i))
  store.delete(k.upload(epoch, uploader))
}

function submitPayouts(ctx: TxContext, msg: { epoch: number; chunkIndex: number; payouts: Payout[]; isLast: boolean }): void {
  const v = activeVerifier(ctx)
  const state = ctx.store.get(epochSchema, k.epoch(msg.epoch))
  if (state === undefined) throw new CoverageError('COVERAGE_NOT_AGREED', `no quorum digest for epoch ${msg.epoch}`)
  if (state.status !== 'agreed') throw new CoverageError('COVERAGE_ALREADY_COMPLETE', `epoch ${msg.epoch} is ${state.status}`)
  const upload = ctx.store.get(uploadSchema, k.upload(msg.epoch, v.address)) ?? { chunks: 0, payouts: 0 }
  if (msg.chunkIndex !== upload.chunks)
    throw new CoverageError('COVERAGE_BAD_CHUNK', `expected chunk ${upload.chunks}, got ${msg.chunkIndex}`)
  msg.payouts.forEach((p, i) => checkPayout(p, upload.payouts + i))
  ctx.store.set(chunkSchema, k.chunk(msg.epoch, v.address, msg.chunkIndex), { payouts: msg.payouts })
  const next = { chunks: upload.chunks + 1, payouts: upload.payouts + msg.payouts.length }
  ctx.store.set(uploadSchema, k.upload(msg.epoch, v.address), next)
  if (!msg.isLast) return
  const payouts = uploadedPayouts(ctx.store, msg.epoch, v.address, next.chunks)
  const root = merkleRoot(payouts.map((p) => encode(payoutSchema, p)))
  if (!bytesEqual(root, state.payoutsRoot))
    throw new CoverageError(
      'COVERAGE_PAYOUTS_ROOT_MISMATCH',
      'the list does not hash to the agreed payoutsRoot (reset-payouts and upload again)',
    )
  const devices = new Set<string>()
  for (const p of payouts) {
    if (devices.has(p.deviceId)) throw new CoverageError('COVERAGE_BAD_PAYOUT', `device ${p.deviceId} paid twice`)
    devices.add(p.deviceId)
  }
  ctx.store.set(epochSchema, k.epoch(msg.epoch), { ...state, status: 'complete', payoutsFrom: v.address, payoutCount: payouts.length })
  ctx.store.set(markerSchema, k.queue(msg.epoch), {})
  ctx.emit({ type: 'coverage-payouts', attributes: { epoch: String(msg.epoch), payouts: String(payouts.length) } })
}

function resetPayouts(ctx: TxContext, msg: { epoch: number }): void {
  const v = activeVerifier(ctx)
  const state = ctx.store.get(epochSchema, k.epoch(msg.epoch))
  // The accepted list of a complete epoch is kept (it is what gets paid).
  if (state !== undefined && state.status !== 'agreed' && state.payoutsFrom !== undefined && bytesEqual(state.payoutsFrom, v.address))
    throw new CoverageError('COVERAGE_ALREADY_COMPLETE', `epoch ${msg.epoch} is ${state.status}`)
  deleteUpload(ctx.store, msg.epoch, v.address)
}

// ------------------------------------------------------------------ escrow

function releaseEscrow(ctx: BlockContext, deviceId: string, reason: string): bigint {
  const escrow = ctx.store.get(escrowSchema, k.escrow(deviceId))
  if (escrow === undefined) return 0n
  const amount = escrow.entries.reduce((a, e) => a + e.amountMicro, 0n)
  ctx.bank.unlock(decodeAddress(escrow.owner), amount)
  ctx.store.delete(k.escrow(deviceId))
  ctx.emit({ type: 'coverage-escrow-released', attributes: { deviceId, owner: escrow.owner, amountMicro: String(amount), reason } })
  return amount
}

function appeal(
  ctx: TxContext,
  msg: { deviceId: string; epoch: number; evidenceHash: Uint8Array; reviewerKey: Uint8Array; signature: Uint8Array },
): void {
  const reviewers = ctx.store.get(reviewersSchema, k.reviewers())?.keys ?? []
  if (!reviewers.some((r) => bytesEqual(r, msg.reviewerKey)))
    throw new CoverageError('COVERAGE_UNKNOWN_REVIEWER', 'not an appointed reviewer')
  const payload = encode(appealSchema, { deviceId: msg.deviceId, epoch: msg.epoch, evidenceHash: msg.evidenceHash })
  // Same signed ruling as @terrane/verifier's AppealRuling: domain kind 'coverage-appeal'.
  if (!verifyInDomain(msg.reviewerKey, { chainId: ctx.chainId, kind: 'coverage-appeal' }, payload, msg.signature))
    throw new CoverageError('COVERAGE_BAD_APPEAL_SIGNATURE', 'ruling not signed by the reviewer')
  const rulingKey = k.appeal(sha256(payload))
  if (ctx.store.get(markerSchema, rulingKey) !== undefined) throw new CoverageError('COVERAGE_APPEAL_USED', 'ruling already applied')
  if (ctx.store.get(escrowSchema, k.escrow(msg.deviceId)) === undefined)
    throw new CoverageError('COVERAGE_NO_ESCROW', `nothing held for ${msg.deviceId}`)
  ctx.store.set(markerSchema, rulingKey, {})
  releaseEscrow(ctx, msg.deviceId, 'appeal')
}

// ------------------------------------------------------------------ fraud proofs

type ProofMsg = {
  epoch: number
  verifier: Uint8Array
  claimed: Payout
  claimedProof: { index: number; count: number; siblings: Uint8Array[] }
  agreed: Payout
  agreedProof: { index: number; count: number; siblings: Uint8Array[] }
}

function proveWrongPayout(ctx: TxContext, msg: ProofMsg): void {
  const params = paramsOf(ctx.store)
  const state = ctx.store.get(epochSchema, k.epoch(msg.epoch))
  if (state === undefined) throw new CoverageError('COVERAGE_NOT_AGREED', `no agreed digest for epoch ${msg.epoch}`)
  const submission = ctx.store.get(submissionSchema, k.submission(msg.epoch, msg.verifier))
  if (submission === undefined) throw new CoverageError('COVERAGE_NO_SUBMISSION', 'the verifier submitted nothing for this epoch')
  if (bytesEqual(submission.digestHash, state.digestHash))
    throw new CoverageError('COVERAGE_NOT_DISAGREEING', 'the verifier signed the agreed digest')
  if (submission.isProvenWrong) throw new CoverageError('COVERAGE_ALREADY_SLASHED', 'this submission was already proven wrong')
  const claimedLeaf = encode(payoutSchema, msg.claimed)
  const agreedLeaf = encode(payoutSchema, msg.agreed)
  if (!verifyMerkleProof(submission.payoutsRoot, claimedLeaf, msg.claimedProof))
    throw new CoverageError('COVERAGE_BAD_PROOF', "the claimed payout is not under the verifier's payoutsRoot")
  if (!verifyMerkleProof(state.payoutsRoot, agreedLeaf, msg.agreedProof))
    throw new CoverageError('COVERAGE_BAD_PROOF', 'the agreed payout is not under the agreed payoutsRoot')
  if (msg.claimed.deviceId !== msg.agreed.deviceId || bytesEqual(claimedLeaf, agreedLeaf))
    throw new CoverageError('COVERAGE_PAYOUT_NOT_WRONG', 'the payouts are for different devices, or equal')
  const v = ctx.store.get(verifierSchema, k.verifier(msg.verifier))
  ctx.store.set(submissionSchema, k.submission(msg.epoch, msg.verifier), { ...submission, isProvenWrong: true })
  if (v === undefined) return // bond already returned: the proof is recorded, nothing left to slash
  const slashMicro = (v.bondMicro * BigInt(params.slashBps)) / bpsTotal
  const rewardMicro = (slashMicro * BigInt(params.challengerRewardBps)) / bpsTotal
  ctx.bank.unlock(ctx.sender, rewardMicro)
  const reserve = reserveOf(ctx.store)
  ctx.store.set(reserveSchema, k.reserve(), { ...reserve, slashedMicro: reserve.slashedMicro + slashMicro - rewardMicro })
  // Slashed verifiers leave the quorum at once; the rest of the bond stays slashable while it unbonds.
  ctx.store.set(verifierSchema, k.verifier(v.address), {
    ...v,
    bondMicro: v.bondMicro - slashMicro,
    isSlashed: true,
    releaseEpoch: v.releaseEpoch ?? epochOf(ctx) + params.unbondingEpochs,
  })
  ctx.emit({
    type: 'coverage-slashed',
    attributes: {
      epoch: String(msg.epoch),
      verifier: encodeAddress(v.address),
      deviceId: msg.claimed.deviceId,
      slashMicro: String(slashMicro),
      rewardMicro: String(rewardMicro),
    },
  })
}

// ------------------------------------------------------------------ settlement

function forfeitOld(ctx: BlockContext, params: CoverageParamsOnChain, epoch: number): bigint {
  let forfeited = 0n
  for (const [key, escrow] of ctx.store.scan(escrowSchema, k.escrows())) {
    const kept = escrow.entries.filter((e) => epoch - e.epoch < params.escrowHoldEpochs)
    if (kept.length === escrow.entries.length) continue
    const amount = escrow.entries.reduce((a, e) => a + e.amountMicro, 0n) - kept.reduce((a, e) => a + e.amountMicro, 0n)
    forfeited += amount
    if (kept.length === 0) ctx.store.delete(key)
    else ctx.store.set(escrowSchema, key, { ...escrow, entries: kept })
    ctx.emit({ type: 'coverage-escrow-forfeited', attributes: { deviceId: key.slice(k.escrows().length), amountMicro: String(amount) } })
  }
  if (forfeited > 0n) {
    const reserve = reserveOf(ctx.store)
    ctx.store.set(reserveSchema, k.reserve(), { ...reserve, forfeitedMicro: reserve.forfeitedMicro + forfeited })
  }
  return forfeited
}

/**
 * Pays one complete epoch: new money (earned) from the allowance, capped at the schedule's share;
 * if the agreed payouts exceed the cap, each is scaled by cap / total, rounded down, and the
 * remainder stays in the emission pool. Escrowed amounts go to the module escrow per device;
 * a payout with releasedMicro > 0 (the verifier's re-check cleared the device) releases the
 * device's whole escrow on chain.
 */
function settle(
  ctx: BlockContext,
  state: EpochState,
  allowanceMicro: bigint,
  weightBps: number,
  pay: (to: Uint8Array, amountMicro: bigint) => void,
): void {
  const params = paramsOf(ctx.store)
  const schedule = ctx.store.get(scheduleSchema, k.schedule())?.steps ?? []
  const shareBps = Math.min(shareBpsAt(schedule, state.epoch), weightBps)
  const capMicro = weightBps === 0 ? 0n : (allowanceMicro * BigInt(shareBps)) / BigInt(weightBps)
  const uploader = state.payoutsFrom as Uint8Array
  const upload = ctx.store.get(uploadSchema, k.upload(state.epoch, uploader))
  assert.ok(upload !== undefined && upload.payouts === state.payoutCount, 'a complete epoch keeps its accepted upload')
  const payouts = uploadedPayouts(ctx.store, state.epoch, uploader, upload.chunks)
  let earnedMicro = 0n
  for (const p of payouts) earnedMicro += p.earnedMicro
  const scale = (amount: bigint): bigint => (earnedMicro <= capMicro ? amount : (amount * capMicro) / earnedMicro)
  let paidMicro = 0n
  let escrowedMicro = 0n
  for (const p of payouts) {
    const owner = decodeAddress(p.owner)
    if (p.releasedMicro > 0n) releaseEscrow(ctx, p.deviceId, 'recheck')
    const now = scale(p.paidMicro - p.releasedMicro)
    if (now > 0n) pay(owner, now)
    const held = scale(p.escrowedMicro)
    if (held > 0n) {
      pay(escrowTransitAddress, held)
      ctx.bank.lock(escrowTransitAddress, held)
      const escrow = ctx.store.get(escrowSchema, k.escrow(p.deviceId)) ?? { owner: p.owner, entries: [] }
      ctx.store.set(escrowSchema, k.escrow(p.deviceId), {
        owner: p.owner,
        entries: [...escrow.entries, { epoch: state.epoch, amountMicro: held }],
      })
    }
    paidMicro += now
    escrowedMicro += held
  }
  forfeitOld(ctx, params, state.epoch)
  ctx.store.set(epochSchema, k.epoch(state.epoch), { ...state, status: 'paid', paidMicro, escrowedMicro })
  ctx.store.delete(k.queue(state.epoch))
  ctx.emit({
    type: 'coverage-settled',
    attributes: {
      epoch: String(state.epoch),
      shareBps: String(shareBps),
      capMicro: String(capMicro),
      earnedMicro: String(earnedMicro),
      paidMicro: String(paidMicro),
      escrowedMicro: String(escrowedMicro),
    },
  })
}

/** Sum the module escrow must hold: bonds, device escrows and the reserve (checked at every boundary). */
export function accountedEscrowMicro(store: ModuleStore): bigint {
  let total = 0n
  for (const [, v] of store.scan(verifierSchema, k.verifiers())) total += v.bondMicro
  for (const [, e] of store.scan(escrowSchema, k.escrows())) for (const x of e.entries) total += x.amountMicro
  const reserve = reserveOf(store)
  return total + reserve.forfeitedMicro + reserve.slashedMicro
}

export interface CoverageInit {
  /**
   * The sink's weight: its ceiling share of the emission pool; the genesis schedule decays the
   * share within it (a schedule step above the weight is clipped). @default 10_000
   */
  weightBps?: number
}

export interface Coverage {
  module: ChainModule
  sink: EmissionSink
}

/**
 * The coverage chain module and its emission sink (register both; they share the name 'coverage').
 *
 * @example
 * const { module, sink } = coverage({ weightBps: 3_000 })
 * const app = createChainApp({ genesis, store, modules: [module], emissionSinks: [sink] })
 */
export function coverage(init: CoverageInit = {}): Coverage {
  const weightBps = init.weightBps ?? 10_000
  assert.ok(Number.isInteger(weightBps) && weightBps >= 0 && weightBps <= 10_000, 'weightBps in [0, 10000]')
  const name = 'coverage'
  const module: ChainModule = {
    name,
    messages: coverageMessages,
    deliver(ctx, msg) {
      // The registry's schemas checked every field before deliver is called.
      const m = msg as never
      switch (msg.type.slice(name.length + 1)) {
        case 'register-verifier':
          return registerVerifier(ctx, ctx.sender, (msg as unknown as { bondMicro: bigint }).bondMicro)
        case 'unregister-verifier':
          return unregisterVerifier(ctx)
        case 'submit-digest':
          return submitDigest(ctx, m)
        case 'submit-payouts':
          return submitPayouts(ctx, m)
        case 'reset-payouts':
          return resetPayouts(ctx, m)
        case 'appeal':
          return appeal(ctx, m)
        case 'prove-wrong-payout':
          return proveWrongPayout(ctx, m)
      }
    },
    endBlock(ctx) {
      if (ctx.height % ctx.params.epochBlocks !== 0) return
      releaseBonds(ctx)
      assert.equal(ctx.bank.escrowOf(), accountedEscrowMicro(ctx.store), 'coverage escrow != bonds + device escrows + reserve')
    },
    initGenesis(ctx, json) {
      const g = parseCoverageGenesis(json)
      ctx.store.set(coverageParamsSchema, k.params(), g.params)
      ctx.store.set(scheduleSchema, k.schedule(), { steps: g.schedule })
      ctx.store.set(reviewersSchema, k.reviewers(), { keys: g.reviewerKeys })
      for (const v of g.verifiers) registerVerifier(ctx, v.address, v.bondMicro)
    },
  }
  const sink: EmissionSink = {
    name,
    weightBps,
    distribute(ctx, _epoch, allowanceMicro, pay) {
      const queued = ctx.store.scan(markerSchema, k.queued()).slice(0, settlementsPerBoundaryMax)
      for (const [key] of queued) {
        const state = ctx.store.get(epochSchema, k.epoch(Number(key.slice(k.queued().length)))) as EpochState
        settle(ctx, state, allowanceMicro, weightBps, pay)
      }
      assert.equal(ctx.bank.escrowOf(), accountedEscrowMicro(ctx.store), 'coverage escrow != bonds + device escrows + reserve')
    },
  }
  return { module, sink }
}
