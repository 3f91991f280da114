// The API's DePIN answers: devices from the devices module, proofs and rewards from this node's
// scored epochs (with `diagnose` lines), agreements and channels from their chain modules.
import assert from 'node:assert/strict'
import type { Static } from '@sinclair/typebox'
import type * as Dto from '@terrane/api'
import type { DeviceProofQuery, DeviceQuery, PageRequest, PartyQuery, RewardQuery } from '@terrane/api'
import { ApiError } from '@terrane/api'
import { committedModuleStore as chainModuleStore, type ChainStore } from '@terrane/chain'
import { decodeAddress, encodeAddress } from '@terrane/crypto'
import { agreementIds, agreementOf, type Agreement, type AgreementStatus } from '@terrane/agreements'
import { channelIds, channelOf, type ChannelRecord, type ChannelStatus } from '@terrane/channels'
import { allDeviceStatuses, committedModuleStore, deviceStatus, devicesByOwner, devicesInCell, type DeviceView } from '@terrane/devices'
import type { DepinView } from './service.ts'
import type { EpochRecord } from './results.ts'

type DeviceDto = Static<typeof Dto.Device>
type ProofDto = Static<typeof Dto.DeviceProof>
type RewardDto = Static<typeof Dto.Reward>

function page<T>(all: T[], request: PageRequest): { items: T[]; nextCursor: string | null } {
  const start = request.cursor === undefined ? 0 : Number(request.cursor)
  if (!Number.isSafeInteger(start) || start < 0) throw new ApiError('API_BAD_CURSOR', 'unknown cursor')
  const end = start + request.limit
  return { items: all.slice(start, end), nextCursor: end < all.length ? String(end) : null }
}

function deviceDto(depin: DepinView, view: DeviceView): DeviceDto {
  const status = deviceStatus(committedModuleStore(depin.chainStore), view.deviceId)
  const attestation = status?.attestation ?? 'manufacturer_unknown'
  return {
    id: view.deviceId,
    owner: view.owner,
    model: view.manufacturerId,
    h3Cell: view.location,
    attestation: {
      // Onboarding verified the attestation at block time; a later revocation rejects it.
      status: attestation === 'ok' ? 'verified' : 'rejected',
      reason: status?.reasons.join(',') ?? '',
      checkedHeight: view.onboardedHeight,
    },
    registeredHeight: view.onboardedHeight,
    isActive: status?.isEarning ?? false,
  }
}

export function device(depin: DepinView, id: string): DeviceDto | null {
  const store = committedModuleStore(depin.chainStore)
  const found = allDeviceStatuses(store).find((s) => s.device.deviceId === id)
  return found === undefined ? null : deviceDto(depin, found.device)
}

export function devices(depin: DepinView, query: DeviceQuery, request: PageRequest) {
  const store = committedModuleStore(depin.chainStore)
  let views: DeviceView[]
  if (query.owner !== undefined) views = devicesByOwner(store, query.owner)
  else if (query.h3Cell !== undefined) views = devicesInCell(store, query.h3Cell)
  else views = allDeviceStatuses(store).map((s) => s.device)
  views.sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
  return page(
    views.map((v) => deviceDto(depin, v)),
    request,
  )
}

function proofsOf(record: EpochRecord): ProofDto[] {
  const witnessCount = new Map<string, number>()
  for (const v of record.verdicts)
    if (v.kind === 'witness' && v.beaconReportId !== '' && v.status !== 'rejected')
      witnessCount.set(v.beaconReportId, (witnessCount.get(v.beaconReportId) ?? 0) + 1)
  return record.verdicts
    .filter((v) => v.kind === 'beacon' || v.kind === 'witness')
    .map((v) => ({
      id: v.reportId,
      deviceId: v.deviceId,
      kind: 'coverage' as const,
      epoch: record.epoch,
      height: record.height,
      witnessCount: v.kind === 'beacon' ? (witnessCount.get(v.reportId) ?? 0) : 0,
      verdict: v.status === 'rejected' ? ('rejected' as const) : ('accepted' as const),
      reason: v.status === 'rejected' ? v.reason : '',
    }))
}

export function proofs(depin: DepinView, query: DeviceProofQuery, request: PageRequest) {
  if (query.kind === 'service') return page<ProofDto>([], request)
  const records = query.epoch === undefined ? depin.records.all() : [depin.records.get(query.epoch)].filter((r) => r !== undefined)
  const all = records.flatMap(proofsOf).filter((p) => query.deviceId === undefined || p.deviceId === query.deviceId)
  return page(all, request)
}

function rewardOf(record: EpochRecord, deviceId: string): RewardDto | null {
  const p = record.payouts.find((x) => x.deviceId === deviceId)
  const lines = record.diagnosis[deviceId]
  if (p === undefined && lines === undefined) return null
  const explanation: RewardDto['explanation'] = []
  if (p !== undefined) {
    explanation.push({
      name: 'coverage',
      amount: p.earnedMicro.toString(),
      detail: `earned from the epoch's coverage pool of ${record.poolMicro} micro-TRN`,
    })
    explanation.push({ name: 'escrowed', amount: p.escrowedMicro.toString(), detail: 'held in escrow (a statistical flag)' })
    explanation.push({ name: 'released', amount: p.releasedMicro.toString(), detail: 'earlier escrow released by re-check' })
    explanation.push({ name: 'paid', amount: p.paidMicro.toString(), detail: `paid to ${p.owner}` })
  }
  for (const line of lines ?? []) explanation.push({ name: 'diagnose', amount: '0', detail: line })
  return { deviceId, epoch: record.epoch, height: record.height, amount: (p?.paidMicro ?? 0n).toString(), explanation }
}

export function reward(depin: DepinView, deviceId: string, epoch: number): RewardDto | null {
  const record = depin.records.get(epoch)
  return record === undefined ? null : rewardOf(record, deviceId)
}

export function rewards(depin: DepinView, query: RewardQuery, request: PageRequest) {
  const records = query.epoch === undefined ? depin.records.all() : [depin.records.get(query.epoch)].filter((r) => r !== undefined)
  const all: RewardDto[] = []
  for (const record of records) {
    const ids = query.deviceId === undefined ? record.payouts.map((p) => p.deviceId) : [query.deviceId]
    for (const id of ids) {
      const r = rewardOf(record, id)
      if (r !== null) all.push(r)
    }
  }
  return page(all, request)
}

// Agreements and channels: from the chain modules' committed state, paged through their indexes
// (opening order; by party: customer or provider, payer or payee). Cursors are the last item's id
// (agreements) or opening ordinal (channels), so a page stays stable while new items are opened.
type AgreementDto = Static<typeof Dto.Agreement>
type ChannelDto = Static<typeof Dto.Channel>

const agreementStatusDto: Record<AgreementStatus, AgreementDto['status']> = {
  pending: 'proposed',
  active: 'active',
  ended: 'completed',
  cancelled: 'cancelled',
  // Ended early by repeated breach: terminated before its term, like a cancellation.
  breached: 'cancelled',
}
const channelStatusDto: Record<ChannelStatus, ChannelDto['status']> = { open: 'open', settling: 'closing', collected: 'closed' }

function cursorNumber(cursor: string | undefined, fallback: number): number {
  if (cursor === undefined) return fallback
  const n = /^(0|[1-9][0-9]{0,15})$/.test(cursor) ? Number(cursor) : NaN
  if (!Number.isSafeInteger(n)) throw new ApiError('API_BAD_CURSOR', 'unknown cursor')
  return n
}

function partyAddress(party: string | undefined): Uint8Array | undefined {
  if (party === undefined) return undefined
  try {
    return decodeAddress(party)
  } catch {
    throw new ApiError('API_BAD_REQUEST', `party is not an address: ${party}`)
  }
}

function agreementDto(chainStore: ChainStore, a: Agreement): AgreementDto {
  const provider = encodeAddress(a.provider)
  return {
    id: String(a.id),
    provider,
    customer: encodeAddress(a.customer),
    // An agreement names a provider account (a device's, a fleet owner's or a service node's): the
    // devices serving it are the provider's registered devices.
    deviceIds: devicesByOwner(committedModuleStore(chainStore), provider)
      .map((d) => d.deviceId)
      .sort(),
    service: a.service,
    pricePerEpoch: a.pricePerEpochMicro.toString(),
    durationEpochs: a.durationEpochs,
    // 0 while proposed; endEpoch is the first epoch not covered (earlier after a cancellation).
    startEpoch: a.startEpoch,
    endEpoch: a.endEpoch,
    status: agreementStatusDto[a.status],
    sla: {
      uptimeBpsMin: a.terms.uptimeBpsMin,
      latencyP95MsMax: a.terms.latencyP95MsMax,
      bandwidthKbpsMin: a.terms.bandwidthKbpsMin,
      penaltyBps: a.penaltyBps,
      breachesMax: a.breachesMax,
    },
    escrow: agreementEscrowDto(a),
    settlement: {
      epochsMet: a.epochsMet,
      epochsBreached: a.epochsBreached,
      epochsNoData: a.epochsNoData,
      consecutiveBreaches: a.consecutiveBreaches,
      lastSettledEpoch: a.lastSettledEpoch,
    },
  }
}

/**
 * The escrow figures from what the module keeps (escrow and bond still held, epochs by outcome):
 * the customer locks price x duration at opening; escrow leaves only as a payment for a met epoch
 * or as a refund, so paid and refunded are exact; the bond leaves only as a penalty until the
 * agreement finishes, when the rest goes back, so the penalties are known while it is held.
 */
function agreementEscrowDto(a: Agreement): AgreementDto['escrow'] {
  const escrowedMicro = a.pricePerEpochMicro * BigInt(a.durationEpochs)
  const paidMicro = a.pricePerEpochMicro * BigInt(a.epochsMet)
  const refundedMicro = escrowedMicro - a.escrowMicro - paidMicro
  assert(refundedMicro >= 0n, `agreement ${a.id}: escrow ${a.escrowMicro} + paid ${paidMicro} exceed ${escrowedMicro}`)
  const isFinished = a.status !== 'pending' && a.status !== 'active'
  // Never accepted (startEpoch stays 0 until accept) or no bond: nothing was ever at stake.
  const hadBond = a.startEpoch > 0 && a.bondInitialMicro > 0n
  let penalisedMicro: bigint | null
  if (!hadBond) penalisedMicro = 0n
  else if (isFinished)
    penalisedMicro = null // the rest went back: the total is only in the events
  else penalisedMicro = a.bondInitialMicro - a.bondMicro
  assert(penalisedMicro === null || penalisedMicro >= 0n, `agreement ${a.id}: bond held ${a.bondMicro} above ${a.bondInitialMicro}`)
  return {
    escrowed: escrowedMicro.toString(),
    escrowHeld: a.escrowMicro.toString(),
    paid: paidMicro.toString(),
    refunded: refundedMicro.toString(),
    bond: a.bondInitialMicro.toString(),
    bondHeld: a.bondMicro.toString(),
    penalised: penalisedMicro === null ? null : penalisedMicro.toString(),
  }
}

export function agreement(chainStore: ChainStore, id: string): AgreementDto | null {
  if (!/^[1-9][0-9]{0,15}$/.test(id) || !Number.isSafeInteger(Number(id))) return null
  const a = agreementOf(chainModuleStore(chainStore, 'agreements'), Number(id))
  return a === undefined ? null : agreementDto(chainStore, a)
}

export function agreements(chainStore: ChainStore, query: PartyQuery, request: PageRequest) {
  const store = chainModuleStore(chainStore, 'agreements')
  const party = partyAddress(query.party)
  const { ids, hasMore } = agreementIds(store, {
    ...(party === undefined ? {} : { party }),
    afterId: cursorNumber(request.cursor, 0),
    limit: request.limit,
  })
  const items = ids.flatMap((id) => {
    const a = agreementOf(store, id)
    return a === undefined ? [] : [agreementDto(chainStore, a)]
  })
  const last = ids.at(-1)
  return { items, nextCursor: hasMore && last !== undefined ? String(last) : null }
}

function channelDto(id: Uint8Array, c: ChannelRecord): ChannelDto {
  return {
    id: Buffer.from(id).toString('hex'),
    payer: encodeAddress(c.payer),
    payee: encodeAddress(c.payee),
    deposit: c.depositMicro.toString(),
    redeemed: c.paidMicro.toString(),
    // The newest voucher's nonce over the lanes (0 before the first voucher).
    nonce: c.lanes.reduce((n, lane) => Math.max(n, lane.nonce), 0),
    // 0 while open; once closing, the height from which it can be collected.
    expiresHeight: c.settleHeight,
    status: channelStatusDto[c.status],
  }
}

export function channel(chainStore: ChainStore, id: string): ChannelDto | null {
  if (!/^[0-9a-f]{64}$/.test(id)) return null
  const bytes = Uint8Array.from(Buffer.from(id, 'hex'))
  const c = channelOf(chainModuleStore(chainStore, 'channels'), bytes)
  return c === undefined ? null : channelDto(bytes, c)
}

export function channels(chainStore: ChainStore, query: PartyQuery, request: PageRequest) {
  const store = chainModuleStore(chainStore, 'channels')
  const party = partyAddress(query.party)
  // The cursor is the last channel's opening ordinal + 1 (ordinals start at 0; cursors are non-negative).
  const { items, hasMore } = channelIds(store, {
    ...(party === undefined ? {} : { party }),
    afterSeq: cursorNumber(request.cursor, 0) - 1,
    limit: request.limit,
  })
  const dtos = items.flatMap(({ channelId }) => {
    const c = channelOf(store, channelId)
    return c === undefined ? [] : [channelDto(channelId, c)]
  })
  const last = items.at(-1)
  return { items: dtos, nextCursor: hasMore && last !== undefined ? String(last.seq + 1) : null }
}
