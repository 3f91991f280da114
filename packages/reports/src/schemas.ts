import { t, type Infer, type Schema } from '@terrane/codec'
import {
  beaconPayloadBytesMax,
  deviceIdCharsMax,
  entropyBytes,
  firmwareVersionBytesMax,
  readingNameBytesMax,
  reportBodyBytesMax,
  sessionIdBytesMax,
} from './limits.ts'

/** The kinds of report a device files. */
export const reportKinds = ['heartbeat', 'beacon', 'witness', 'speedtest', 'receipt', 'reading'] as const
export type ReportKind = (typeof reportKinds)[number]

/** bech32m device id, `tdev1` + data (charset of BIP-173). The checksum is checked by @terrane/attestation. */
const deviceId = t.string({ bytesMax: deviceIdCharsMax, pattern: /^tdev1[02-9ac-hj-np-z]{6,}$/ })
/** An H3 cell at resolution 12 as 15 lower-case hex digits: mode 1 ('8') then resolution 12 ('c'). */
const h3Res12 = t.string({ bytesMax: 15, pattern: /^8c[0-9a-f]{13}$/ })

export const deviceReportSchema = t.struct({
  deviceId,
  /** Strictly increasing per device: replay protection. */
  seq: t.uint(),
  /** Device clock, ms since the Unix epoch. Advisory: the verifier times reports by entropy and ingest. */
  timeMs: t.uint(),
  kind: t.enumOf(reportKinds),
  /** Canonical encoding of the kind's body schema. */
  body: t.bytes({ lengthMax: reportBodyBytesMax }),
})
export type DeviceReport = Infer<typeof deviceReportSchema>

export const signedDeviceReportSchema = t.struct({
  report: deviceReportSchema,
  /** ECDSA P-256 / SHA-256 over reportSigningBytes, IEEE P1363 r || s. */
  signature: t.bytes({ length: 64 }),
})
export type SignedDeviceReport = Infer<typeof signedDeviceReportSchema>

export const heartbeatBodySchema = t.struct({
  uptimeSeconds: t.uint(),
  firmwareVersion: t.string({ bytesMax: firmwareVersionBytesMax }),
  /** SHA-256 of the measured boot chain (e.g. a TPM PCR digest), when the device has one. */
  measuredBoot: t.optional(t.bytes({ length: entropyBytes })),
})
export type HeartbeatBody = Infer<typeof heartbeatBodySchema>

export const beaconBodySchema = t.struct({
  epoch: t.uint(),
  /** The challenge entropy the beacon answers. */
  entropy: t.bytes({ length: entropyBytes }),
  /** beaconPayload(entropy, deviceId, length, localEntropy): regenerated bit for bit by the verifier. */
  payload: t.bytes({ lengthMax: beaconPayloadBytesMax }),
  frequencyHz: t.uint({ max: 10_000_000_000 }),
  txPowerDbm: t.int({ min: -50, max: 60 }),
  antennaGainDbi: t.int({ min: -20, max: 40 }),
  /**
   * Random bytes the beaconer drew when it transmitted (Helium's local entropy), mixed into the payload so
   * that only devices that heard the beacon know it. Optional for compatibility; a verifier may require it.
   */
  localEntropy: t.optional(t.bytes({ length: entropyBytes })),
})
export type BeaconBody = Infer<typeof beaconBodySchema>

export const witnessBodySchema = t.struct({
  beaconDeviceId: deviceId,
  /** SHA-256 of the beacon payload as received over the air. */
  beaconPayloadHash: t.bytes({ length: entropyBytes }),
  epoch: t.uint(),
  /** Hundredths of a dBm: -12000 is -120.00 dBm. */
  rssiCentiDbm: t.int({ min: -20_000, max: 5_000 }),
  snrCentiDb: t.int({ min: -10_000, max: 10_000 }),
  frequencyHz: t.uint({ max: 10_000_000_000 }),
  receivedAtMs: t.uint(),
  /** H3 resolution-12 cell the witness reports being in. */
  location: h3Res12,
})
export type WitnessBody = Infer<typeof witnessBodySchema>

export const speedtestBodySchema = t.struct({
  downloadKbps: t.uint(),
  uploadKbps: t.uint(),
  latencyMs: t.uint(),
})
export type SpeedtestBody = Infer<typeof speedtestBodySchema>

/** Minimal data-delivery receipt; the proof-of-service work will extend it. */
export const receiptBodySchema = t.struct({
  sessionId: t.bytes({ lengthMax: sessionIdBytesMax }),
  counterpartyId: t.string({ bytesMax: deviceIdCharsMax }),
  dataBytes: t.uint(),
})
export type ReceiptBody = Infer<typeof receiptBodySchema>

export const readingBodySchema = t.struct({
  sensor: t.string({ bytesMax: readingNameBytesMax }),
  /** An integer in `unit` (pick a unit small enough to need no fractions, e.g. 'centi-celsius'). */
  value: t.int(),
  unit: t.string({ bytesMax: readingNameBytesMax }),
})
export type ReadingBody = Infer<typeof readingBodySchema>

/** The body type of each kind. */
export interface ReportBodies {
  heartbeat: HeartbeatBody
  beacon: BeaconBody
  witness: WitnessBody
  speedtest: SpeedtestBody
  receipt: ReceiptBody
  reading: ReadingBody
}

/** The body schema of each kind. */
export const reportBodySchemas: { readonly [K in ReportKind]: Schema<ReportBodies[K]> } = {
  heartbeat: heartbeatBodySchema,
  beacon: beaconBodySchema,
  witness: witnessBodySchema,
  speedtest: speedtestBodySchema,
  receipt: receiptBodySchema,
  reading: readingBodySchema,
}
