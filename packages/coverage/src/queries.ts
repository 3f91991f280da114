import { committedModuleStore as chainCommittedModuleStore, type ChainStore, type ModuleStore } from '@terrane/chain'
import type { Payout } from '@terrane/verifier'
import { coverageKeys as k } from './keys.ts'
import {
  chunkSchema,
  coverageParamsSchema,
  epochSchema,
  escrowSchema,
  reserveSchema,
  scheduleSchema,
  submissionSchema,
  uploadSchema,
  verifierSchema,
  type CoverageParamsOnChain,
  type DeviceEscrow,
  type EpochState,
  type Reserve,
  type ShareStep,
  type Submission,
  type VerifierState,
} from './schemas.ts'

/** A read-only ModuleStore over a chain store's committed state (for the node and the API). */
export function committedModuleStore(store: ChainStore, moduleName = 'coverage'): ModuleStore {
  return chainCommittedModuleStore(store, moduleName)
}

export function coverageParamsOf(store: ModuleStore): CoverageParamsOnChain | undefined {
  return store.get(coverageParamsSchema, k.params())
}

export function shareSchedule(store: ModuleStore): ShareStep[] {
  return store.get(scheduleSchema, k.schedule())?.steps ?? []
}

export function verifiers(store: ModuleStore): VerifierState[] {
  return store.scan(verifierSchema, k.verifiers()).map(([, v]) => v)
}

export function verifierOf(store: ModuleStore, address: Uint8Array): VerifierState | undefined {
  return store.get(verifierSchema, k.verifier(address))
}

/** The agreed state of an epoch (undefined while no digest reached the quorum). */
export function epochState(store: ModuleStore, epoch: number): EpochState | undefined {
  return store.get(epochSchema, k.epoch(epoch))
}

/** Every digest submitted for an epoch (agreeing and disagreeing), by verifier. */
export function submissions(store: ModuleStore, epoch: number): Submission[] {
  return store.scan(submissionSchema, k.submissions(epoch)).map(([, s]) => s)
}

/** The accepted payout list of a complete or paid epoch. */
export function acceptedPayouts(store: ModuleStore, epoch: number): Payout[] | undefined {
  const state = epochState(store, epoch)
  if (state?.payoutsFrom === undefined) return undefined
  const upload = store.get(uploadSchema, k.upload(epoch, state.payoutsFrom))
  const out: Payout[] = []
  for (let i = 0; i < (upload?.chunks ?? 0); i++) out.push(...(store.get(chunkSchema, k.chunk(epoch, state.payoutsFrom, i))?.payouts ?? []))
  return out
}

export function escrowOf(store: ModuleStore, deviceId: string): DeviceEscrow | undefined {
  return store.get(escrowSchema, k.escrow(deviceId))
}

export function escrowTotalMicro(store: ModuleStore, deviceId: string): bigint {
  return (escrowOf(store, deviceId)?.entries ?? []).reduce((a, e) => a + e.amountMicro, 0n)
}

export function reserve(store: ModuleStore): Reserve {
  return store.get(reserveSchema, k.reserve()) ?? { forfeitedMicro: 0n, slashedMicro: 0n }
}
