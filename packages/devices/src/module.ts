import { bytesEqual, encode } from '@terrane/codec'
import { addressOfPublicKey, encodeAddress, verifyInDomain } from '@terrane/crypto'
import {
  certificateFingerprint,
  deviceIdFromPublicKey,
  encodeChallenge,
  normalizeSerial,
  verifyCertificateChain,
  verifyDeviceSignature,
  verifyX509Attestation,
  type ManufacturerRegistry,
  type UsedNonces,
} from '@terrane/attestation'
import { verifyMeasuredBoot } from '@terrane/firmware'
import type { BlockContext, ChainModule, ModuleStore, TxContext } from '@terrane/chain'
import { getResolution, isValidCell } from 'h3-js'
import { attestationErrorCode, DevicesError } from './errors.ts'
import { checkRootCertificate, parseDevicesGenesis } from './genesis.ts'
import { devicesKeys as k, indexCellOf } from './keys.ts'
import {
  adminSchema,
  bootReportSigningBytes,
  deviceSchema,
  devicesMessages,
  devicesParamsSchema,
  feesSchema,
  firmwareReleaseSchema,
  locationResolution,
  manufacturerSchema,
  markerSchema,
  nonceSchema,
  onboardingBodySchema,
  onboardingNonce,
  onboardingSignatureKind,
  revocationsPerManufacturerMax,
  type BootReportBody,
  type DevicesParams,
  type DeviceState,
  type ManufacturerState,
  type OnboardingRequest,
} from './schemas.ts'

/** Expired challenge nonces deleted per block (bounds endBlock work; the backlog drains over blocks). */
export const nonceExpiriesPerBlockMax = 256
/** Manufacturers in the registry. */
export const manufacturersMax = 1000

/** True if `cell` is a valid H3 cell at the location resolution (12). */
export function isValidLocation(cell: string): boolean {
  return /^8c[0-9a-f]{13}$/.test(cell) && isValidCell(cell) && getResolution(cell) === locationResolution
}

function paramsOf(store: ModuleStore): DevicesParams {
  const p = store.get(devicesParamsSchema, k.params())
  if (p === undefined) throw new Error('devices module used before its genesis')
  return p
}

function registryOf(store: ModuleStore): ManufacturerRegistry[] {
  return store.scan(manufacturerSchema, k.manufacturers()).map(([, m]) => ({
    manufacturerId: m.manufacturerId,
    rootCertificatesDer: m.rootCertificatesDer,
    revokedFingerprintsSha256: m.revokedFingerprintsSha256,
    revokedSerials: m.revokedSerials,
  }))
}

function requireAdmin(ctx: TxContext): void {
  const admin = ctx.store.get(adminSchema, k.admin())
  if (admin === undefined || !bytesEqual(admin.address, ctx.sender))
    throw new DevicesError('DEVICES_UNAUTHORIZED', 'only the devices admin may do this')
}

function requireDevice(store: ModuleStore, deviceId: string): DeviceState {
  const d = store.get(deviceSchema, k.device(deviceId))
  if (d === undefined) throw new DevicesError('DEVICES_UNKNOWN_DEVICE', `no device ${deviceId}`)
  return d
}

function collectFee(ctx: TxContext, feeMicro: bigint, feeMaxMicro: bigint): void {
  if (feeMicro > feeMaxMicro)
    throw new DevicesError('DEVICES_FEE_TOO_LOW', `the fee is ${feeMicro}, the owner accepts at most ${feeMaxMicro}`)
  if (feeMicro === 0n) return
  // ModuleBank has no burn: the fee is locked in this module's escrow (the onboarding pool).
  ctx.bank.lock(ctx.sender, feeMicro)
  const fees = ctx.store.get(feesSchema, k.fees()) ?? { collectedMicro: 0n }
  ctx.store.set(feesSchema, k.fees(), { collectedMicro: fees.collectedMicro + feeMicro })
}

/** Assertion times still inside the period, plus now; throws if the limits refuse a new assertion. */
function nextAssertions(device: DeviceState, params: DevicesParams, nowMs: number): number[] {
  const last = device.locationAssertedAtMs.at(-1) ?? device.onboardedAtMs
  if (nowMs - last < params.locationIntervalMsMin)
    throw new DevicesError('DEVICES_LOCATION_TOO_SOON', `last assertion at ${last}, next allowed at ${last + params.locationIntervalMsMin}`)
  const recent = device.locationAssertedAtMs.filter((t) => nowMs - t < params.locationPeriodMs)
  if (recent.length >= params.locationAssertionsPerPeriodMax)
    throw new DevicesError('DEVICES_LOCATION_LIMIT', `${recent.length} assertions in the last ${params.locationPeriodMs} ms`)
  return [...recent, nowMs]
}

/** Used challenge nonces in module state, each kept until its challenge would be stale anyway. */
function usedNoncesOf(store: ModuleStore, expiresAtMs: number): UsedNonces {
  return {
    has: (nonceHex) => store.get(nonceSchema, k.nonce(nonceHex)) !== undefined,
    add: (nonceHex) => {
      store.set(nonceSchema, k.nonce(nonceHex), { expiresAtMs })
      store.set(markerSchema, k.nonceExpiry(expiresAtMs, nonceHex), {})
    },
  }
}

function onboard(ctx: TxContext, request: OnboardingRequest): void {
  const { body } = request
  const params = paramsOf(ctx.store)
  if (body.chainId !== ctx.chainId) throw new DevicesError('DEVICES_WRONG_CHAIN', `request for chain ${body.chainId}`)
  if (body.owner !== encodeAddress(ctx.sender))
    throw new DevicesError('DEVICES_OWNER_MISMATCH', `request owner ${body.owner} is not the transaction sender`)
  let ownerOfKey: string
  try {
    ownerOfKey = addressOfPublicKey(body.ownerPublicKey)
  } catch {
    throw new DevicesError('DEVICES_OWNER_MISMATCH', 'owner public key is not a valid key')
  }
  if (ownerOfKey !== body.owner) throw new DevicesError('DEVICES_OWNER_MISMATCH', 'owner is not the address of the owner key')
  const payload = encode(onboardingBodySchema, body)
  if (!verifyInDomain(body.ownerPublicKey, { chainId: body.chainId, kind: onboardingSignatureKind }, payload, request.ownerSignature))
    throw new DevicesError('DEVICES_BAD_OWNER_SIGNATURE', 'owner signature does not verify')
  if (!isValidLocation(body.location)) throw new DevicesError('DEVICES_BAD_LOCATION', `${body.location} is not an H3 resolution-12 cell`)
  const evidence = body.attestation
  let attestedId: string
  try {
    attestedId = deviceIdFromPublicKey(evidence.publicKey)
  } catch {
    throw new DevicesError('DEVICES_ATTESTATION_MALFORMED', 'attested key is not a P-256 point')
  }
  if (attestedId !== body.deviceId) throw new DevicesError('DEVICES_DEVICE_ID_MISMATCH', `${body.deviceId} != ${attestedId}`)
  const challenge = { issuedAtMs: body.anchorTimeMs, nonce: onboardingNonce(body) }
  if (!bytesEqual(evidence.challenge, encodeChallenge(challenge)))
    throw new DevicesError('DEVICES_CHALLENGE_MISMATCH', 'the device attested a challenge not bound to this request')
  const manufacturers = registryOf(ctx.store)
  const verdict = verifyX509Attestation(evidence, {
    manufacturers,
    nowMs: ctx.timeMs,
    usedNonces: usedNoncesOf(ctx.store, body.anchorTimeMs + params.challengeAgeMsMax),
    challengeAgeMsMax: params.challengeAgeMsMax,
  })
  if (!verdict.ok) throw new DevicesError(attestationErrorCode(verdict.reason), verdict.detail)
  // Replays are refused above (single-use nonce) before a registered device is looked at.
  if (ctx.store.get(deviceSchema, k.device(verdict.deviceId)) !== undefined)
    throw new DevicesError('DEVICES_ALREADY_REGISTERED', `${verdict.deviceId} is already registered`)
  // The path (leaf first, root last) is kept so that a later revocation stops the device earning.
  const chain = verifyCertificateChain({
    certificateChainDer: evidence.certificateChainDer,
    manufacturers,
    nowMs: ctx.timeMs,
    profile: 'device',
  })
  if (!chain.ok) throw new DevicesError(attestationErrorCode(chain.reason), chain.detail)
  collectFee(ctx, params.onboardingFeeMicro, body.feeMaxMicroTrn)
  const device: DeviceState = {
    deviceId: verdict.deviceId,
    publicKey: verdict.publicKey,
    owner: ctx.sender,
    manufacturerId: verdict.manufacturerId,
    pathFingerprintsSha256: chain.path.map((c) => c.fingerprint),
    pathSerials: chain.path.map((c) => normalizeSerial(c.serial)),
    location: body.location,
    capabilities: body.capabilities,
    onboardedHeight: ctx.height,
    onboardedAtMs: ctx.timeMs,
    locationAssertedAtMs: [ctx.timeMs],
  }
  ctx.store.set(deviceSchema, k.device(device.deviceId), device)
  ctx.store.set(markerSchema, k.byOwner(ctx.sender, device.deviceId), {})
  ctx.store.set(markerSchema, k.byCell(indexCellOf(device.location), device.deviceId), {})
  ctx.emit({
    type: 'device-onboarded',
    attributes: { deviceId: device.deviceId, owner: body.owner, manufacturerId: device.manufacturerId, location: device.location },
  })
}

function assertLocation(ctx: TxContext, msg: { deviceId: string; location: string; feeMaxMicroTrn: bigint }): void {
  const params = paramsOf(ctx.store)
  const device = requireDevice(ctx.store, msg.deviceId)
  if (!bytesEqual(device.owner, ctx.sender)) throw new DevicesError('DEVICES_NOT_OWNER', `the sender does not own ${msg.deviceId}`)
  if (!isValidLocation(msg.location)) throw new DevicesError('DEVICES_BAD_LOCATION', `${msg.location} is not an H3 resolution-12 cell`)
  if (msg.location === device.location) throw new DevicesError('DEVICES_LOCATION_UNCHANGED', 'the device is already there')
  const assertedAtMs = nextAssertions(device, params, ctx.timeMs)
  collectFee(ctx, params.locationFeeMicro, msg.feeMaxMicroTrn)
  ctx.store.delete(k.byCell(indexCellOf(device.location), device.deviceId))
  ctx.store.set(markerSchema, k.byCell(indexCellOf(msg.location), device.deviceId), {})
  ctx.store.set(deviceSchema, k.device(device.deviceId), { ...device, location: msg.location, locationAssertedAtMs: assertedAtMs })
  ctx.emit({ type: 'device-location', attributes: { deviceId: device.deviceId, from: device.location, to: msg.location } })
}

function bootReport(ctx: TxContext, msg: { body: BootReportBody; signature: Uint8Array }): void {
  const params = paramsOf(ctx.store)
  const { body } = msg
  const device = requireDevice(ctx.store, body.deviceId)
  if (body.chainId !== ctx.chainId) throw new DevicesError('DEVICES_WRONG_CHAIN', `report for chain ${body.chainId}`)
  if (!verifyDeviceSignature(device.publicKey, bootReportSigningBytes(body), msg.signature))
    throw new DevicesError('DEVICES_BAD_DEVICE_SIGNATURE', 'boot report not signed by the device key')
  if (body.reportedAtMs > ctx.timeMs || ctx.timeMs - body.reportedAtMs > params.bootReportAgeMsMax)
    throw new DevicesError('DEVICES_STALE_REPORT', `reported at ${body.reportedAtMs}, block time ${ctx.timeMs}`)
  if (device.boot !== undefined && body.reportedAtMs <= device.boot.reportedAtMs)
    throw new DevicesError('DEVICES_STALE_REPORT', `not newer than the last report (${device.boot.reportedAtMs})`)
  const pcrs = new Map<number, Uint8Array>()
  for (const p of body.pcrs) {
    if (pcrs.has(p.index)) throw new DevicesError('DEVICES_BAD_BOOT_REPORT', `PCR ${p.index} reported twice`)
    pcrs.set(p.index, p.value)
  }
  const releases = ctx.store.scan(firmwareReleaseSchema, k.releases()).map(([, r]) => r)
  const verdict = verifyMeasuredBoot({ events: body.events, pcrs }, releases)
  // Unknown or revoked firmware is recorded, not refused: the device is flagged until it reports an allowed release.
  if (!verdict.ok && (verdict.reason === 'malformed' || verdict.reason === 'pcr_mismatch'))
    throw new DevicesError('DEVICES_BAD_BOOT_REPORT', `${verdict.reason}: ${verdict.detail}`)
  const hexOf = (component: string): string =>
    Buffer.from((body.events.find((e) => e.component === component) as { digest: Uint8Array }).digest).toString('hex')
  ctx.store.set(deviceSchema, k.device(device.deviceId), {
    ...device,
    boot: { reportedAtMs: body.reportedAtMs, bootloaderSha256: hexOf('bootloader'), firmwareSha256: hexOf('firmware') },
  })
  ctx.emit({
    type: 'device-boot',
    attributes: {
      deviceId: device.deviceId,
      verdict: verdict.ok ? 'ok' : verdict.reason,
      ...(verdict.ok ? { releaseId: verdict.releaseId } : {}),
    },
  })
}

function addManufacturer(ctx: TxContext, msg: { manufacturerId: string; rootCertificatesDer: Uint8Array[] }): void {
  requireAdmin(ctx)
  if (ctx.store.get(manufacturerSchema, k.manufacturer(msg.manufacturerId)) !== undefined)
    throw new DevicesError('DEVICES_MANUFACTURER_EXISTS', msg.manufacturerId)
  if (ctx.store.scan(manufacturerSchema, k.manufacturers()).length >= manufacturersMax)
    throw new DevicesError('DEVICES_MANUFACTURER_EXISTS', `the registry holds ${manufacturersMax} manufacturers`)
  msg.rootCertificatesDer.forEach((der, i) =>
    checkRootCertificate(der, (m) => {
      throw new DevicesError('DEVICES_BAD_CERTIFICATE', `rootCertificatesDer[${i}]: ${m}`)
    }),
  )
  const m: ManufacturerState = {
    manufacturerId: msg.manufacturerId,
    rootCertificatesDer: msg.rootCertificatesDer,
    revokedFingerprintsSha256: [],
    revokedSerials: [],
    addedHeight: ctx.height,
  }
  ctx.store.set(manufacturerSchema, k.manufacturer(m.manufacturerId), m)
  ctx.emit({ type: 'manufacturer-added', attributes: { manufacturerId: m.manufacturerId, roots: String(m.rootCertificatesDer.length) } })
}

function revokeCertificate(ctx: TxContext, msg: { manufacturerId: string; fingerprintSha256?: string; serial?: string }): void {
  requireAdmin(ctx)
  const m = ctx.store.get(manufacturerSchema, k.manufacturer(msg.manufacturerId))
  if (m === undefined) throw new DevicesError('DEVICES_UNKNOWN_MANUFACTURER', msg.manufacturerId)
  if ((msg.fingerprintSha256 === undefined) === (msg.serial === undefined))
    throw new DevicesError('DEVICES_BAD_REVOCATION', 'give exactly one of fingerprintSha256 and serial')
  if (m.revokedFingerprintsSha256.length + m.revokedSerials.length >= revocationsPerManufacturerMax)
    throw new DevicesError('DEVICES_BAD_REVOCATION', `${revocationsPerManufacturerMax} revocations already`)
  const next: ManufacturerState =
    msg.fingerprintSha256 !== undefined
      ? { ...m, revokedFingerprintsSha256: [...new Set([...m.revokedFingerprintsSha256, msg.fingerprintSha256])] }
      : { ...m, revokedSerials: [...new Set([...m.revokedSerials, normalizeSerial(msg.serial as string)])] }
  ctx.store.set(manufacturerSchema, k.manufacturer(m.manufacturerId), next)
  ctx.emit({
    type: 'certificate-revoked',
    attributes: {
      manufacturerId: m.manufacturerId,
      certificate: msg.fingerprintSha256 ?? `serial:${normalizeSerial(msg.serial as string)}`,
    },
  })
}

function setFirmwareRelease(
  ctx: TxContext,
  msg: { releaseId: string; bootloaderSha256: string; firmwareSha256: string; isRevoked: boolean },
): void {
  requireAdmin(ctx)
  const clash = ctx.store
    .scan(firmwareReleaseSchema, k.releases())
    .find(
      ([, r]) => r.releaseId !== msg.releaseId && r.bootloaderSha256 === msg.bootloaderSha256 && r.firmwareSha256 === msg.firmwareSha256,
    )
  if (clash !== undefined) throw new DevicesError('DEVICES_BAD_RELEASE', `release ${clash[1].releaseId} has the same images`)
  const release = {
    releaseId: msg.releaseId,
    bootloaderSha256: msg.bootloaderSha256,
    firmwareSha256: msg.firmwareSha256,
    isRevoked: msg.isRevoked,
  }
  ctx.store.set(firmwareReleaseSchema, k.release(release.releaseId), release)
  ctx.emit({ type: 'firmware-release', attributes: { releaseId: release.releaseId, isRevoked: String(release.isRevoked) } })
}

function pruneNonces(ctx: BlockContext): void {
  const expired = ctx.store.scan(markerSchema, k.nonceExpiries())
  let pruned = 0
  for (const [key] of expired) {
    if (pruned >= nonceExpiriesPerBlockMax) break
    const [, at, nonceHex] = key.split('/') as [string, string, string]
    // A nonce is kept one challenge age past issue: after that its challenge is stale anyway.
    if (Number(at) >= ctx.timeMs) break
    ctx.store.delete(key)
    ctx.store.delete(k.nonce(nonceHex))
    pruned++
  }
}

export interface DevicesModuleInit {
  /** Module name (and message prefix). @default 'devices' */
  name?: string
}

/**
 * The devices chain module: manufacturer registry (admin-managed), attested onboarding,
 * location assertions, firmware releases and measured-boot reports.
 *
 * @example
 * const app = createChainApp({ genesis, store, modules: [devicesModule()] })
 */
export function devicesModule(init: DevicesModuleInit = {}): ChainModule {
  return {
    name: init.name ?? 'devices',
    messages: devicesMessages,
    deliver(ctx, msg) {
      // The registry's schemas checked every field before deliver is called.
      const m = msg as never
      switch (msg.type.slice(msg.type.indexOf('/') + 1)) {
        case 'onboard':
          return onboard(ctx, m)
        case 'assert-location':
          return assertLocation(ctx, m)
        case 'boot-report':
          return bootReport(ctx, m)
        case 'add-manufacturer':
          return addManufacturer(ctx, m)
        case 'revoke-certificate':
          return revokeCertificate(ctx, m)
        case 'set-firmware-release':
          return setFirmwareRelease(ctx, m)
      }
    },
    endBlock: pruneNonces,
    initGenesis(ctx, json) {
      const g = parseDevicesGenesis(json)
      ctx.store.set(devicesParamsSchema, k.params(), g.params)
      ctx.store.set(adminSchema, k.admin(), { address: g.admin })
      for (const m of g.manufacturers) ctx.store.set(manufacturerSchema, k.manufacturer(m.manufacturerId), { ...m, addedHeight: 0 })
      for (const r of g.firmwareReleases) ctx.store.set(firmwareReleaseSchema, k.release(r.releaseId), r)
    },
  }
}

/** Fingerprint of a DER certificate (re-exported for revocation messages). */
export { certificateFingerprint }
