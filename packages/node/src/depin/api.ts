// The API's DePIN answers: devices from the devices module, proofs and rewards from this node's
// scored epochs (with `diagnose` lines), agreements and channels (not mapped yet: empty).
import type { Static } from '@sinclair/typebox'
import type * as Dto from '@terrane/api'
import type { DeviceProofQuery, DeviceQuery, PageRequest, PartyQuery, RewardQuery } from '@terrane/api'
import { ApiError } from '@terrane/api'
import type { ChainStore } from '@terrane/chain'
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

// Agreements and channels: not mapped to the API's shapes yet (see the node README).
export function agreement(_store: ChainStore, _id: string): Static<typeof Dto.Agreement> | null {
  return null
}
export function agreements(_store: ChainStore, _query: PartyQuery, request: PageRequest) {
  return page<Static<typeof Dto.Agreement>>([], request)
}
export function channel(_store: ChainStore, _id: string): Static<typeof Dto.Channel> | null {
  return null
}
export function channels(_store: ChainStore, _query: PartyQuery, request: PageRequest) {
  return page<Static<typeof Dto.Channel>>([], request)
}
