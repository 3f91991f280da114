import { latLngToCell } from 'h3-js'
import { sha256 } from '@terrane/codec'
import {
  beaconPayload,
  beaconPayloadHash,
  makeReport,
  signReport,
  type BeaconBody,
  type SignedDeviceReport,
  type WitnessBody,
} from '@terrane/reports'
import { deviceKeyFromSeed, type TestDeviceKey } from '@terrane/reports/testing'
import {
  coverageParams,
  emptyHistory,
  type ChallengeSlot,
  type CoverageHistory,
  type DeviceRecord,
  type EpochInputs,
} from '../src/index.ts'
import { fromPlane, type LatLng } from '../src/geo.ts'

// The rule scenes build beacons without local entropy unless a test is about it (those set it required).
export const params = coverageParams({ chainId: 'terrane-test', slotsPerEpoch: 1, challengePpm: 1_000_000, localEntropyRequired: false })
export const startMs = 1_767_225_600_000
export const entropy = sha256(new TextEncoder().encode('block-entropy'))
export const slot: ChallengeSlot = { slot: 0, entropy, startMs, endMs: startMs + params.epochMs }
export const origin: LatLng = { lat: 51.5, lng: -0.12 }

export interface Dev {
  key: TestDeviceKey
  record: DeviceRecord
  seq: number
}

/** A device at (x, y) metres from the origin. */
export function device(name: string, x: number, y: number, owner = name): Dev {
  const key = deviceKeyFromSeed(name)
  const p = fromPlane(origin, x, y)
  return {
    key,
    seq: 0,
    record: {
      deviceId: key.deviceId,
      publicKey: key.publicKey,
      owner,
      location: latLngToCell(p.lat, p.lng, 12),
      region: 'EU868',
      antennaGainDbi: 3,
    },
  }
}

export const beaconTimeMs = startMs + 60_000

export function beacon(
  d: Dev,
  overrides: { timeMs?: number; entropy?: Uint8Array; payload?: Uint8Array; epoch?: number; localEntropy?: Uint8Array } = {},
): SignedDeviceReport {
  const e = overrides.entropy ?? entropy
  const body: BeaconBody = {
    epoch: overrides.epoch ?? 1,
    entropy: e,
    payload: overrides.payload ?? beaconPayload(e, d.key.deviceId, 52, overrides.localEntropy),
    frequencyHz: 868_100_000,
    txPowerDbm: 14,
    antennaGainDbi: 3,
  }
  if (overrides.localEntropy !== undefined) body.localEntropy = overrides.localEntropy
  const report = makeReport({ deviceId: d.key.deviceId, seq: ++d.seq, timeMs: overrides.timeMs ?? beaconTimeMs, kind: 'beacon' }, body)
  return signReport(params.chainId, report, d.key.sign)
}

export function witness(w: Dev, b: Dev, overrides: Partial<WitnessBody> = {}): SignedDeviceReport {
  const body: WitnessBody = {
    beaconDeviceId: b.key.deviceId,
    beaconPayloadHash: beaconPayloadHash(beaconPayload(entropy, b.key.deviceId)),
    epoch: 1,
    rssiCentiDbm: -11_000,
    snrCentiDb: 500,
    frequencyHz: 868_100_000,
    receivedAtMs: beaconTimeMs + 500,
    location: w.record.location as string,
    ...overrides,
  }
  return signReport(
    params.chainId,
    makeReport({ deviceId: w.key.deviceId, seq: ++w.seq, timeMs: body.receivedAtMs, kind: 'witness' }, body),
    w.key.sign,
  )
}

/** History in which every listed device beaconed and witnessed an hour ago. */
export function warm(devs: Dev[], except: { noBeacon?: Dev[]; noWitness?: Dev[] } = {}): CoverageHistory {
  const h = emptyHistory()
  for (const d of devs) {
    const entry: CoverageHistory['devices'] extends Map<string, infer V> ? V : never = {
      lastSeq: -1,
      cleanEpochs: 0,
      escrow: [],
      rssiScoreSum: 0,
      rssiScoreSquares: 0,
      rssiScoreCount: 0,
    }
    if (!(except.noBeacon ?? []).includes(d)) entry.lastBeaconMs = startMs - 3_600_000
    if (!(except.noWitness ?? []).includes(d)) entry.lastWitnessMs = startMs - 3_600_000
    h.devices.set(d.key.deviceId, entry)
  }
  return h
}

export function inputs(devs: Dev[], reports: SignedDeviceReport[], extra: Partial<EpochInputs> = {}): EpochInputs {
  return { epoch: 1, params, devices: devs.map((d) => d.record), slots: [slot], reports, history: warm(devs), ...extra }
}
