import { encode, t, type Infer } from '@terrane/codec'
import { accountIdOfPublicKey, signInDomain, verifyInDomain, type Signer } from '@terrane/crypto'
import { ChainError, type BlockContext, type ChainModule, type Msg, type TxContext } from '@terrane/chain'
import { AgreementError } from './errors.ts'
import {
  agreementsMessages,
  agreementsParamsSchema,
  agreementStateSchema,
  agreementTermsSchema,
  defaultAgreementsParams,
  figuresRecordSchema,
  proberSchema,
  slaTermsSchema,
  type Agreement,
  type AgreementsParams,
  type AgreementState,
  type AgreementTerms,
  type Figures,
  type FiguresRecord,
  type ProberRecord,
  type SettlementOutcome,
  type SignedFigures,
  type SlaTerms,
} from './schemas.ts'

const u64Max = (1n << 64n) - 1n
/** Buckets of the active-agreement index: ids are spread by id % indexBucketCount. */
export const indexBucketCount = 256
/**
 * An index bucket lists its active agreements with the terms settlement needs (copied from the
 * immutable terms at accept), so an epoch boundary reads one bucket per ~40 agreements instead of
 * every agreement's terms record.
 */
const bucketSchema = t.struct({
  entries: t.array(
    t.struct({
      id: t.uint(),
      customer: t.bytes({ length: 20 }),
      provider: t.bytes({ length: 20 }),
      pricePerEpochMicro: t.u64(),
      terms: slaTermsSchema,
      penaltyBps: t.uint({ max: 10_000 }),
      breachesMax: t.uint(),
      bondInitialMicro: t.u64(),
    }),
  ),
})
type BucketEntry = Infer<typeof bucketSchema>['entries'][number]

/** Keys and texts settlement derives from a bucket entry. */
interface EntryKeys {
  idText: string
  priceText: string
  stateKey: string
  figuresKeyPrefix: string
  customerKey: string
  providerKey: string
  /** What one breached epoch forfeits from the bond (before the cap at what is left). */
  penaltyDueMicro: bigint
}

/**
 * A memo of pure functions of bucket entries. Decoded entries stay the same objects in the chain's
 * read cache from one epoch to the next, so the keys are built once per entry, not once per epoch.
 * Only derived from an entry's own fields: it cannot change any result.
 */
const entryKeysMemo = new WeakMap<BucketEntry, EntryKeys>()

/**
 * The same per bucket entries array (decoded values are never mutated in place: a changed bucket is a
 * new array), so an epoch does one memo lookup per bucket rather than one per agreement.
 */
const bucketKeysMemo = new WeakMap<readonly BucketEntry[], EntryKeys[]>()

function bucketKeysOf(entries: readonly BucketEntry[]): EntryKeys[] {
  let keys = bucketKeysMemo.get(entries)
  if (keys === undefined) {
    keys = entries.map(entryKeysOf)
    bucketKeysMemo.set(entries, keys)
  }
  return keys
}

function entryKeysOf(e: BucketEntry): EntryKeys {
  let k = entryKeysMemo.get(e)
  if (k === undefined) {
    const idKey = u64Key(e.id)
    k = {
      idText: String(e.id),
      priceText: String(e.pricePerEpochMicro),
      stateKey: 'a/' + idKey,
      figuresKeyPrefix: 'f/' + idKey,
      customerKey: shortLatin1(e.customer),
      providerKey: shortLatin1(e.provider),
      penaltyDueMicro: (e.bondInitialMicro * BigInt(e.penaltyBps)) / 10_000n,
    }
    entryKeysMemo.set(e, k)
  }
  return k
}
/** The next agreement id (ids are 1, 2, 3, ... in opening order). */
export const seqSchema = t.struct({ next: t.uint() })
/** Value of a party-index entry: the key says everything. */
export const markerSchema = t.struct({})
/**
 * Where the settlement of `epoch` continues in the next block: index bucket `bucket`, entry `offset`.
 * Present only while an epoch is partly settled (see `settleSliceMax`).
 */
export const settleCursorSchema = t.struct({ epoch: t.uint(), bucket: t.uint(), offset: t.uint() })
export type SettleCursor = Infer<typeof settleCursorSchema>

/** 8-byte big-endian key of a safe integer, as a latin1 string (no Buffer: this is on the settlement path). */
function u64Key(n: number): string {
  const hi = Math.floor(n / 0x1_0000_0000)
  const lo = n >>> 0
  return String.fromCharCode(
    hi >>> 24,
    (hi >>> 16) & 255,
    (hi >>> 8) & 255,
    hi & 255,
    lo >>> 24,
    (lo >>> 16) & 255,
    (lo >>> 8) & 255,
    lo & 255,
  )
}
function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
/** latin1 of a short byte string (an address): cheaper than a Buffer round trip. */
function shortLatin1(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[])
}
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

/** Store keys inside the module's scope. */
export const agreementKeys = {
  params: 'params',
  seq: 'seq',
  /** The settlement in progress (`settleCursorSchema`), absent when none is. */
  settleCursor: 'c',
  /** Mutable state of an agreement. */
  state: (id: number): string => 'a/' + u64Key(id),
  /** Immutable terms of an agreement. */
  terms: (id: number): string => 't/' + u64Key(id),
  bucket: (id: number): string => 'i/' + String.fromCharCode(id % indexBucketCount),
  /** A ring of figures slots per agreement: epoch e uses slot e % figuresSlots(params). */
  figures: (id: number, slot: number): string => 'f/' + u64Key(id) + String.fromCharCode(slot),
  prober: (address: Uint8Array): string => 'p/' + latin1(address),
  /** Party index (written at open, never removed): `bc/<customer 20 bytes><id u64 BE>` -> marker. */
  byCustomer: (customer: Uint8Array, id?: number): string => 'bc/' + latin1(customer) + (id === undefined ? '' : u64Key(id)),
  /** Party index: `bp/<provider 20 bytes><id u64 BE>` -> marker. */
  byProvider: (provider: Uint8Array, id?: number): string => 'bp/' + latin1(provider) + (id === undefined ? '' : u64Key(id)),
}

/** The id in the last 8 bytes of an index key (see `agreementKeys.byCustomer`). */
export function idOfIndexKey(key: string): number {
  let n = 0
  for (let i = key.length - 8; i < key.length; i++) n = n * 256 + key.charCodeAt(i)
  return n
}

/**
 * Figures slots per agreement: submissions for the current and previous epoch, the epoch whose
 * settlement may still be in progress in slices (epoch s settles during epoch s + 2 at the latest),
 * plus the settled epochs still open to disputes. Older slots are overwritten, so figures never need
 * deleting.
 */
export function figuresSlots(p: AgreementsParams): number {
  return p.disputeWindowEpochs + 3
}

/** The epoch a height belongs to: epoch k holds heights (k-1)E+1 .. kE. */
export function epochOfHeight(height: number, epochBlocks: number): number {
  return Math.ceil(height / epochBlocks)
}

/** The bytes a prober signs for one agreement's figures (domain `{ chainId, kind: 'sla-figures' }`). */
export function figuresSigningPayload(f: Omit<SignedFigures, 'proberKey' | 'signature'>): Uint8Array {
  return encode(
    t.struct({ agreementId: t.uint(), epoch: t.uint(), uptimeBps: t.uint(), latencyP95Ms: t.uint(), bandwidthKbps: t.uint() }),
    {
      agreementId: f.agreementId,
      epoch: f.epoch,
      uptimeBps: f.uptimeBps,
      latencyP95Ms: f.latencyP95Ms,
      bandwidthKbps: f.bandwidthKbps,
    },
  )
}

/** A prober signs the figures it submits and hands them to both parties: their evidence in a dispute. */
export function signFigures(chainId: string, prober: Signer, f: Omit<SignedFigures, 'proberKey' | 'signature'>): SignedFigures {
  return { ...f, proberKey: prober.publicKey, signature: signInDomain(prober, { chainId, kind: 'sla-figures' }, figuresSigningPayload(f)) }
}

/** Whether figures meet the terms. */
export function meetsTerms(f: Figures, terms: SlaTerms): boolean {
  return f.uptimeBps >= terms.uptimeBpsMin && f.latencyP95Ms <= terms.latencyP95MsMax && f.bandwidthKbps >= terms.bandwidthKbpsMin
}

/** Median per criterion (lower median) over the probers' submissions. */
export function medianFigures(record: FiguresRecord): Figures {
  const subs = record.submissions
  const mid = (subs.length - 1) >> 1
  const uptime: number[] = []
  const latency: number[] = []
  const bandwidth: number[] = []
  for (const s of subs) {
    uptime.push(s.uptimeBps)
    latency.push(s.latencyP95Ms)
    bandwidth.push(s.bandwidthKbps)
  }
  const ascending = (a: number, b: number): number => a - b
  return {
    uptimeBps: uptime.sort(ascending)[mid] as number,
    latencyP95Ms: latency.sort(ascending)[mid] as number,
    bandwidthKbps: bandwidth.sort(ascending)[mid] as number,
  }
}

export interface AgreementsModuleInit {
  /** Used when genesis has no `modules.agreements`. */
  params?: Partial<AgreementsParams>
}

/** What one settlement slice did. */
export interface SettleStats {
  epoch: number
  /** Index entries visited (at most `settleSliceMax`, unless an overdue epoch was finished at once). */
  visited: number
  /** Agreements settled for `epoch` (one `agreement-settled` event each). */
  settled: number
  /** Agreements that ended in this slice. */
  ended: number
  /** Whether this slice finished the epoch. */
  isComplete: boolean
}

/** What the module exposes beyond ChainModule (for benchmarks and tests). */
export interface AgreementsModule extends ChainModule {
  /**
   * Settles `epoch` for every active agreement not yet settled for it, in one go (tests and
   * benchmarks; the chain settles in slices from `endBlock`). Not to be mixed with a sliced
   * settlement in progress: it does not move that settlement's cursor.
   */
  settleEpoch(ctx: BlockContext, epoch: number): SettleStats
  /** Stats of the last settlement slice. */
  lastSettlement(): SettleStats | undefined
}

/**
 * The service-agreement state machine module. Register it with `createChainApp({ modules: [agreementsModule()] })`.
 * Events: agreement-opened, agreement-accepted, agreement-cancelled, agreement-settled, agreement-ended,
 * prober-registered, prober-unregistered, prober-withdrawn, figures-submitted, dispute-upheld.
 */
export function agreementsModule(init: AgreementsModuleInit = {}): AgreementsModule {
  const fallback: AgreementsParams = { ...defaultAgreementsParams, ...init.params }
  let last: SettleStats | undefined

  const params = (ctx: BlockContext): AgreementsParams => ctx.store.get(agreementsParamsSchema, agreementKeys.params) ?? fallback
  const currentEpoch = (ctx: BlockContext): number => epochOfHeight(ctx.height, ctx.params.epochBlocks)

  function load(ctx: BlockContext, id: number): Agreement {
    const terms = ctx.store.get(agreementTermsSchema, agreementKeys.terms(id))
    const state = ctx.store.get(agreementStateSchema, agreementKeys.state(id))
    if (terms === undefined || state === undefined) throw new AgreementError('agreement-not-found', String(id))
    return { ...terms, ...state }
  }
  function save(ctx: BlockContext, a: Agreement): void {
    const state: AgreementState = {
      status: a.status,
      escrowMicro: a.escrowMicro,
      bondMicro: a.bondMicro,
      startEpoch: a.startEpoch,
      endEpoch: a.endEpoch,
      consecutiveBreaches: a.consecutiveBreaches,
      epochsMet: a.epochsMet,
      epochsBreached: a.epochsBreached,
      epochsNoData: a.epochsNoData,
      lastSettledEpoch: a.lastSettledEpoch,
    }
    ctx.store.set(agreementStateSchema, agreementKeys.state(a.id), state)
  }

  function indexAdd(ctx: BlockContext, a: AgreementTerms): void {
    const k = agreementKeys.bucket(a.id)
    const entries = ctx.store.get(bucketSchema, k)?.entries ?? []
    const entry: BucketEntry = {
      id: a.id,
      customer: a.customer,
      provider: a.provider,
      pricePerEpochMicro: a.pricePerEpochMicro,
      terms: a.terms,
      penaltyBps: a.penaltyBps,
      breachesMax: a.breachesMax,
      bondInitialMicro: a.bondInitialMicro,
    }
    ctx.store.set(bucketSchema, k, { entries: [...entries, entry] })
  }
  /**
   * Removes agreements from the index. A settlement cursor inside a bucket moves back by the entries
   * removed before it, so no entry is skipped: `cursor` when given (settlement's own cursor, not yet
   * stored), else the stored one (a cancellation between slices).
   */
  function indexRemove(ctx: BlockContext, ids: readonly number[], cursor?: SettleCursor): void {
    const byBucket = new Map<number, Set<number>>()
    for (const id of ids) {
      const b = id % indexBucketCount
      const s = byBucket.get(b) ?? new Set()
      s.add(id)
      byBucket.set(b, s)
    }
    const stored = cursor === undefined ? ctx.store.get(settleCursorSchema, agreementKeys.settleCursor) : undefined
    const c = cursor ?? stored
    for (const [b, gone] of byBucket) {
      const k = agreementKeys.bucket(b)
      const entries = ctx.store.get(bucketSchema, k)?.entries ?? []
      if (c !== undefined && c.bucket === b) {
        let before = 0
        for (let i = 0; i < c.offset && i < entries.length; i++) if (gone.has((entries[i] as BucketEntry).id)) before++
        // Stored values are never mutated in place (the chain's read cache and rollback journal hold them).
        if (before > 0 && cursor !== undefined) cursor.offset -= before
        else if (before > 0) ctx.store.set(settleCursorSchema, agreementKeys.settleCursor, { ...c, offset: c.offset - before })
      }
      ctx.store.set(bucketSchema, k, { entries: entries.filter((e) => !gone.has(e.id)) })
    }
  }

  function event(ctx: BlockContext, type: string, a: Agreement, attributes: Record<string, string> = {}): void {
    ctx.emit({ type, attributes: { agreementId: String(a.id), status: a.status, ...attributes } })
  }

  function checkTerms(p: AgreementsParams, m: (typeof agreementsMessages.open)['parse'] extends (v: unknown) => infer T ? T : never): void {
    if (m.pricePerEpochMicro === 0n) throw new AgreementError('zero-amount', 'price per epoch')
    const impossible = (why: string) => new AgreementError('impossible-terms', why)
    if (m.durationEpochs < 1) throw impossible('duration of zero epochs')
    if (m.durationEpochs > p.durationEpochsMax) throw impossible(`duration above ${p.durationEpochsMax} epochs`)
    if (m.pricePerEpochMicro * BigInt(m.durationEpochs) > u64Max) throw impossible('price x duration exceeds u64')
    if (m.terms.latencyP95MsMax < p.latencyMsFloor) throw impossible(`p95 latency below ${p.latencyMsFloor} ms`)
    if (m.terms.bandwidthKbpsMin > p.bandwidthKbpsCeiling) throw impossible(`bandwidth above ${p.bandwidthKbpsCeiling} kbps`)
    if (m.breachesMax < 1) throw impossible('breachesMax of zero')
    if (m.service.length === 0) throw impossible('no service named')
  }

  function open(ctx: TxContext, m: Parameters<typeof checkTerms>[1]): void {
    if (same(m.provider, ctx.sender)) throw new AgreementError('self-agreement')
    checkTerms(params(ctx), m)
    const escrowMicro = m.pricePerEpochMicro * BigInt(m.durationEpochs)
    const id = ctx.store.get(seqSchema, agreementKeys.seq)?.next ?? 1
    ctx.store.set(seqSchema, agreementKeys.seq, { next: id + 1 })
    ctx.bank.lock(ctx.sender, escrowMicro)
    const terms: AgreementTerms = {
      id,
      customer: ctx.sender,
      provider: m.provider,
      service: m.service,
      pricePerEpochMicro: m.pricePerEpochMicro,
      durationEpochs: m.durationEpochs,
      terms: m.terms,
      penaltyBps: m.penaltyBps,
      breachesMax: m.breachesMax,
      bondInitialMicro: m.bondMicro,
      openedHeight: ctx.height,
    }
    ctx.store.set(agreementTermsSchema, agreementKeys.terms(id), terms)
    ctx.store.set(markerSchema, agreementKeys.byCustomer(ctx.sender, id), {})
    ctx.store.set(markerSchema, agreementKeys.byProvider(m.provider, id), {})
    const a: Agreement = {
      ...terms,
      status: 'pending',
      escrowMicro,
      bondMicro: 0n,
      startEpoch: 0,
      endEpoch: 0,
      consecutiveBreaches: 0,
      epochsMet: 0,
      epochsBreached: 0,
      epochsNoData: 0,
      lastSettledEpoch: 0,
    }
    save(ctx, a)
    event(ctx, 'agreement-opened', a, {
      customer: hex(a.customer),
      provider: hex(a.provider),
      service: a.service,
      escrowMicro: String(escrowMicro),
      pricePerEpochMicro: String(a.pricePerEpochMicro),
    })
  }

  function accept(ctx: TxContext, id: number): void {
    const a = load(ctx, id)
    if (!same(ctx.sender, a.provider)) throw new AgreementError('not-provider')
    if (a.status !== 'pending') throw new AgreementError('not-pending', a.status)
    ctx.bank.lock(ctx.sender, a.bondInitialMicro)
    const startEpoch = currentEpoch(ctx) + 1
    const next: Agreement = { ...a, status: 'active', bondMicro: a.bondInitialMicro, startEpoch, endEpoch: startEpoch + a.durationEpochs }
    save(ctx, next)
    indexAdd(ctx, a)
    event(ctx, 'agreement-accepted', next, {
      startEpoch: String(startEpoch),
      endEpoch: String(next.endEpoch),
      bondMicro: String(next.bondMicro),
    })
  }

  function cancel(ctx: TxContext, id: number): void {
    const a = load(ctx, id)
    const isCustomer = same(ctx.sender, a.customer)
    const isProvider = same(ctx.sender, a.provider)
    if (!isCustomer && !isProvider) throw new AgreementError('not-a-party')
    if (a.status === 'pending') {
      ctx.bank.unlock(a.customer, a.escrowMicro)
      const next: Agreement = { ...a, status: 'cancelled', escrowMicro: 0n }
      save(ctx, next)
      event(ctx, 'agreement-cancelled', next, { by: hex(ctx.sender), refundMicro: String(a.escrowMicro) })
      return
    }
    if (a.status !== 'active') throw new AgreementError('not-active', a.status)
    // A cancelled agreement stays active until its last epoch settles: a second cancel would charge the
    // provider's penalty again for nothing.
    if (a.endEpoch <= currentEpoch(ctx) + 1) throw new AgreementError('already-ending', `ends at epoch ${a.endEpoch}`)
    // The epoch under way still settles on its figures; later ones are refunded now.
    const endEpoch = Math.max(a.startEpoch, Math.min(a.endEpoch, currentEpoch(ctx) + 1))
    const refundMicro = a.pricePerEpochMicro * BigInt(a.endEpoch - endEpoch)
    ctx.bank.unlock(a.customer, refundMicro)
    // A provider walking away forfeits one epoch's penalty to the customer.
    const penaltyMicro = isProvider ? min(a.bondMicro, (a.bondInitialMicro * BigInt(a.penaltyBps)) / 10_000n) : 0n
    ctx.bank.unlock(a.customer, penaltyMicro)
    let next: Agreement = { ...a, endEpoch, escrowMicro: a.escrowMicro - refundMicro, bondMicro: a.bondMicro - penaltyMicro }
    if (endEpoch <= a.startEpoch) {
      next = finish(ctx, next, 'cancelled')
      indexRemove(ctx, [id])
    } else save(ctx, next)
    event(ctx, 'agreement-cancelled', next, {
      by: hex(ctx.sender),
      endEpoch: String(endEpoch),
      refundMicro: String(refundMicro),
      penaltyMicro: String(penaltyMicro),
    })
  }

  /** Returns what is left to each party and marks the agreement finished (caller saves and unindexes). */
  function finish(ctx: BlockContext, a: Agreement, status: 'ended' | 'cancelled' | 'breached'): Agreement {
    ctx.bank.unlock(a.customer, a.escrowMicro)
    ctx.bank.unlock(a.provider, a.bondMicro)
    const next: Agreement = { ...a, status, escrowMicro: 0n, bondMicro: 0n }
    save(ctx, next)
    event(ctx, 'agreement-ended', next, { refundMicro: String(a.escrowMicro), bondReturnedMicro: String(a.bondMicro) })
    return next
  }

  function registerProber(ctx: TxContext, m: { publicKey: Uint8Array; bondMicro: bigint }): void {
    if (!same(accountIdOfPublicKey(m.publicKey), ctx.sender)) throw new AgreementError('bad-prober-key')
    if (ctx.store.get(proberSchema, agreementKeys.prober(ctx.sender)) !== undefined) throw new AgreementError('prober-exists')
    const p = params(ctx)
    if (m.bondMicro < p.proberBondMinMicro) throw new AgreementError('bond-too-low', `${m.bondMicro} < ${p.proberBondMinMicro}`)
    ctx.bank.lock(ctx.sender, m.bondMicro)
    ctx.store.set(proberSchema, agreementKeys.prober(ctx.sender), {
      publicKey: m.publicKey,
      bondMicro: m.bondMicro,
      isActive: true,
      releaseEpoch: 0,
    })
    ctx.emit({ type: 'prober-registered', attributes: { prober: hex(ctx.sender), bondMicro: String(m.bondMicro) } })
  }

  function activeProber(ctx: TxContext): ProberRecord {
    const p = ctx.store.get(proberSchema, agreementKeys.prober(ctx.sender))
    if (p === undefined || !p.isActive) throw new AgreementError('unregistered-prober', hex(ctx.sender))
    return p
  }

  function unregisterProber(ctx: TxContext): void {
    const p = activeProber(ctx)
    // The bond stays at stake until every epoch it submitted for is past its dispute window.
    const releaseEpoch = currentEpoch(ctx) + params(ctx).disputeWindowEpochs + 2
    ctx.store.set(proberSchema, agreementKeys.prober(ctx.sender), { ...p, isActive: false, releaseEpoch })
    ctx.emit({ type: 'prober-unregistered', attributes: { prober: hex(ctx.sender), releaseEpoch: String(releaseEpoch) } })
  }

  function withdrawProberBond(ctx: TxContext): void {
    const p = ctx.store.get(proberSchema, agreementKeys.prober(ctx.sender))
    if (p === undefined) throw new AgreementError('unregistered-prober')
    if (p.isActive || p.releaseEpoch === 0) throw new AgreementError('not-unbonding')
    if (currentEpoch(ctx) < p.releaseEpoch) throw new AgreementError('prober-bond-locked', `from epoch ${p.releaseEpoch}`)
    ctx.bank.unlock(ctx.sender, p.bondMicro)
    ctx.store.delete(agreementKeys.prober(ctx.sender))
    ctx.emit({ type: 'prober-withdrawn', attributes: { prober: hex(ctx.sender), bondMicro: String(p.bondMicro) } })
  }

  function submitFigures(ctx: TxContext, m: { epoch: number; figures: Array<{ agreementId: number } & Figures> }): void {
    activeProber(ctx)
    const cur = currentEpoch(ctx)
    if (m.epoch > cur) throw new AgreementError('epoch-in-future', `epoch ${m.epoch}, now ${cur}`)
    if (m.epoch < cur - 1) throw new AgreementError('epoch-closed', `epoch ${m.epoch}, now ${cur}`)
    const p = params(ctx)
    // One bad item never fails the batch: it is skipped and counted by reason.
    const skipped: Record<string, number> = {}
    const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1)
    let accepted = 0
    const slot = m.epoch % figuresSlots(p)
    for (const f of m.figures) {
      const a = ctx.store.get(agreementStateSchema, agreementKeys.state(f.agreementId))
      if (a === undefined) skip('agreement-not-found')
      else if (a.status !== 'active') skip('not-active')
      else if (m.epoch < a.startEpoch || m.epoch >= a.endEpoch) skip('not-covered')
      else {
        const k = agreementKeys.figures(f.agreementId, slot)
        const held = ctx.store.get(figuresRecordSchema, k)
        const record: FiguresRecord = held !== undefined && held.epoch === m.epoch ? held : { epoch: m.epoch, submissions: [] }
        if (record.submissions.some((s) => same(s.prober, ctx.sender))) skip('duplicate')
        else if (record.submissions.length >= p.probersPerFiguresMax) skip('too-many-probers')
        else {
          const entry = { prober: ctx.sender, uptimeBps: f.uptimeBps, latencyP95Ms: f.latencyP95Ms, bandwidthKbps: f.bandwidthKbps }
          ctx.store.set(figuresRecordSchema, k, { epoch: m.epoch, submissions: [...record.submissions, entry] })
          accepted++
        }
      }
    }
    ctx.emit({
      type: 'figures-submitted',
      attributes: { prober: hex(ctx.sender), epoch: String(m.epoch), accepted: String(accepted), skipped: JSON.stringify(skipped) },
    })
  }

  function dispute(ctx: TxContext, m: { agreementId: number; epoch: number; evidence: SignedFigures }): void {
    const a = load(ctx, m.agreementId)
    if (!same(ctx.sender, a.customer) && !same(ctx.sender, a.provider)) throw new AgreementError('not-a-party')
    const e = m.evidence
    if (e.agreementId !== m.agreementId || e.epoch !== m.epoch) throw new AgreementError('evidence-mismatch')
    const cur = currentEpoch(ctx)
    // Epoch s is settled at the end of epoch s + 1; disputes run for disputeWindowEpochs after that.
    if (!(m.epoch <= cur - 2 && cur - 2 - m.epoch < params(ctx).disputeWindowEpochs))
      throw new AgreementError('outside-window', `epoch ${m.epoch}, now ${cur}`)
    const proberAddress = accountIdOfPublicKey(e.proberKey)
    const prober = ctx.store.get(proberSchema, agreementKeys.prober(proberAddress))
    if (prober === undefined || !same(prober.publicKey, e.proberKey)) throw new AgreementError('unknown-prober')
    if (!verifyInDomain(e.proberKey, { chainId: ctx.chainId, kind: 'sla-figures' }, figuresSigningPayload(e), e.signature))
      throw new AgreementError('bad-evidence-signature')
    const held = ctx.store.get(figuresRecordSchema, agreementKeys.figures(m.agreementId, m.epoch % figuresSlots(params(ctx))))
    const record = held?.epoch === m.epoch ? held : undefined
    const onChain = record?.submissions.find((s) => same(s.prober, proberAddress))
    if (
      onChain === undefined ||
      (onChain.uptimeBps === e.uptimeBps && onChain.latencyP95Ms === e.latencyP95Ms && onChain.bandwidthKbps === e.bandwidthKbps)
    )
      throw new AgreementError('no-conflict')
    // The prober signed two different figures for the same agreement and epoch: provable equivocation.
    const slashMicro = (prober.bondMicro * BigInt(params(ctx).proberSlashBps)) / 10_000n
    ctx.bank.unlock(ctx.sender, slashMicro)
    ctx.store.set(proberSchema, agreementKeys.prober(proberAddress), {
      ...prober,
      bondMicro: prober.bondMicro - slashMicro,
      isActive: false,
      releaseEpoch: Math.max(prober.releaseEpoch, cur + params(ctx).disputeWindowEpochs + 2),
    })
    event(ctx, 'dispute-upheld', a, {
      epoch: String(m.epoch),
      prober: hex(proberAddress),
      slashedMicro: String(slashMicro),
      to: hex(ctx.sender),
    })
  }

  /**
   * Settles `cursor.epoch` from the cursor on, visiting at most `visitsMax` index entries; moves the
   * cursor (a local object, the caller stores it) to where the next slice continues.
   */
  function settleSlice(ctx: BlockContext, cursor: SettleCursor, visitsMax: number): SettleStats {
    const epoch = cursor.epoch
    const slot = String.fromCharCode(epoch % figuresSlots(params(ctx)))
    const epochText = String(epoch)
    const finished: number[] = []
    // Payouts are summed per recipient and paid once each at the end (one escrow debit per account).
    const payouts: Payouts = new Map()
    let settled = 0
    let visited = 0
    let b = cursor.bucket
    let i = cursor.offset
    slice: for (; b < indexBucketCount; b++, i = 0) {
      const bucket = ctx.store.get(bucketSchema, 'i/' + String.fromCharCode(b))
      if (bucket === undefined) continue
      const entries = bucket.entries
      const entryKeys = bucketKeysOf(entries)
      for (; i < entries.length; i++) {
        if (visited >= visitsMax) break slice
        visited++
        const a = entries[i] as BucketEntry
        const id = a.id
        const { idText, priceText, stateKey, figuresKeyPrefix, customerKey, providerKey, penaltyDueMicro } = entryKeys[i] as EntryKeys
        const state = ctx.store.get(agreementStateSchema, stateKey) as AgreementState
        if (state.status !== 'active' || epoch < state.startEpoch || epoch >= state.endEpoch) continue
        // Exactly once per epoch, whatever order slices and transactions come in.
        if (state.lastSettledEpoch >= epoch) continue
        const record = ctx.store.get(figuresRecordSchema, figuresKeyPrefix + slot)
        let outcome: SettlementOutcome
        let penaltyMicro = 0n
        let consecutiveBreaches = state.consecutiveBreaches
        let { epochsMet, epochsBreached, epochsNoData } = state
        const price = a.pricePerEpochMicro
        if (record === undefined || record.epoch !== epoch || record.submissions.length === 0) {
          // No verified figures: the customer is not charged and the provider not penalised.
          outcome = 'no-data'
          epochsNoData++
          addPayout(payouts, customerKey, a.customer, price)
        } else if (meetsTerms(record.submissions.length === 1 ? (record.submissions[0] as Figures) : medianFigures(record), a.terms)) {
          outcome = 'met'
          epochsMet++
          consecutiveBreaches = 0
          addPayout(payouts, providerKey, a.provider, price)
        } else {
          outcome = 'breached'
          epochsBreached++
          penaltyMicro = penaltyDueMicro < state.bondMicro ? penaltyDueMicro : state.bondMicro
          consecutiveBreaches++
          addPayout(payouts, customerKey, a.customer, price + penaltyMicro)
        }
        const isExpired = epoch + 1 >= state.endEpoch
        const isFinished = isExpired || consecutiveBreaches >= a.breachesMax
        const escrowMicro = state.escrowMicro - price
        const bondMicro = penaltyMicro === 0n ? state.bondMicro : state.bondMicro - penaltyMicro
        settled++
        ctx.emit({
          type: 'agreement-settled',
          attributes: {
            agreementId: idText,
            epoch: epochText,
            outcome,
            paidMicro: outcome === 'met' ? priceText : '0',
            refundMicro: outcome === 'met' ? '0' : priceText,
            penaltyMicro: penaltyMicro === 0n ? '0' : String(penaltyMicro),
          },
        })
        ctx.store.set(agreementStateSchema, stateKey, {
          status: isFinished ? (isExpired ? 'ended' : 'breached') : state.status,
          // Finished: what is left goes back (escrow to the customer, bond to the provider).
          escrowMicro: isFinished ? 0n : escrowMicro,
          bondMicro: isFinished ? 0n : bondMicro,
          startEpoch: state.startEpoch,
          endEpoch: state.endEpoch,
          consecutiveBreaches,
          epochsMet,
          epochsBreached,
          epochsNoData,
          lastSettledEpoch: epoch,
        } satisfies AgreementState)
        if (!isFinished) continue
        addPayout(payouts, customerKey, a.customer, escrowMicro)
        addPayout(payouts, providerKey, a.provider, bondMicro)
        ctx.emit({
          type: 'agreement-ended',
          attributes: {
            agreementId: idText,
            status: isExpired ? 'ended' : 'breached',
            refundMicro: String(escrowMicro),
            bondReturnedMicro: String(bondMicro),
          },
        })
        finished.push(id)
      }
    }
    for (const { to, amountMicro } of payouts.values()) if (amountMicro > 0n) ctx.bank.unlock(to, amountMicro)
    cursor.bucket = b
    cursor.offset = i
    if (finished.length > 0) indexRemove(ctx, finished, cursor)
    last = { epoch, visited, settled, ended: finished.length, isComplete: b >= indexBucketCount }
    return last
  }

  function settleEpoch(ctx: BlockContext, epoch: number): SettleStats {
    return settleSlice(ctx, { epoch, bucket: 0, offset: 0 }, Number.POSITIVE_INFINITY)
  }

  /**
   * Epoch s starts settling in the last block of epoch s + 1 (its figures are final then) and goes on
   * for `settleSliceMax` index entries per block. An epoch still unfinished at the next boundary is
   * finished there at once, before the next one starts, so epoch s is settled by the end of epoch
   * s + 2 at the latest (its figures slot lives until then: `figuresSlots`).
   */
  function settleBlock(ctx: BlockContext): void {
    const epochBlocks = ctx.params.epochBlocks
    const stored = ctx.store.get(settleCursorSchema, agreementKeys.settleCursor)
    let cursor = stored === undefined ? undefined : { ...stored }
    if (ctx.height % epochBlocks === 0) {
      if (cursor !== undefined) settleSlice(ctx, cursor, Number.POSITIVE_INFINITY)
      const epoch = ctx.height / epochBlocks - 1
      cursor = epoch >= 1 ? { epoch, bucket: 0, offset: 0 } : undefined
    }
    if (cursor === undefined) {
      if (stored !== undefined) ctx.store.delete(agreementKeys.settleCursor)
      return
    }
    const stats = settleSlice(ctx, cursor, params(ctx).settleSliceMax)
    if (!stats.isComplete) ctx.store.set(settleCursorSchema, agreementKeys.settleCursor, cursor)
    else if (stored !== undefined) ctx.store.delete(agreementKeys.settleCursor)
  }

  return {
    name: 'agreements',
    messages: agreementsMessages,
    initGenesis(ctx, genesis) {
      let p: AgreementsParams
      try {
        const given = (genesis ?? {}) as Record<string, unknown>
        const merged: Record<string, unknown> = { ...fallback, ...given }
        if (typeof merged.proberBondMinMicro === 'string') merged.proberBondMinMicro = BigInt(merged.proberBondMinMicro)
        p = agreementsParamsSchema.parse(merged, 'modules.agreements')
      } catch (err) {
        throw new ChainError('CHAIN_BAD_GENESIS', (err as Error).message, 'modules.agreements')
      }
      ctx.store.set(agreementsParamsSchema, agreementKeys.params, p)
    },
    deliver(ctx: TxContext, msg: Msg): void {
      // The registry's schemas parsed every field before deliver is called.
      const m = msg as never
      switch (msg.type) {
        case 'agreements/open':
          return open(ctx, m)
        case 'agreements/accept':
          return accept(ctx, (msg as unknown as { agreementId: number }).agreementId)
        case 'agreements/cancel':
          return cancel(ctx, (msg as unknown as { agreementId: number }).agreementId)
        case 'agreements/register-prober':
          return registerProber(ctx, m)
        case 'agreements/unregister-prober':
          return unregisterProber(ctx)
        case 'agreements/withdraw-prober-bond':
          return withdrawProberBond(ctx)
        case 'agreements/submit-figures':
          return submitFigures(ctx, m)
        case 'agreements/dispute':
          return dispute(ctx, m)
      }
    },
    endBlock: settleBlock,
    settleEpoch,
    lastSettlement: () => last,
  }
}

/** Amounts owed per recipient, keyed by the address bytes as a latin1 string. */
type Payouts = Map<string, { to: Uint8Array; amountMicro: bigint }>

function addPayout(payouts: Payouts, k: string, to: Uint8Array, amountMicro: bigint): void {
  const p = payouts.get(k)
  if (p === undefined) payouts.set(k, { to, amountMicro })
  else p.amountMicro += amountMicro
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
