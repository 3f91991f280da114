import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { webcrypto, X509Certificate } from 'node:crypto'
import { ChainError } from '@terrane/chain'
import { CodecError } from '@terrane/codec'
import { cellToParent } from 'h3-js'
import { encodeAddress } from '@terrane/crypto'
import { certificateFingerprint } from '@terrane/attestation'
import { extendPcr } from '@terrane/firmware'
import {
  bootReportSigningBytes,
  committedModuleStore,
  deviceById,
  devicesByOwner,
  devicesErrorCodeOfLog,
  devicesErrorCodes,
  devicesInCell,
  devicesModule,
  deviceStatus,
  feesCollectedMicro,
  indexCellOf,
  manufacturers,
  parseDevicesGenesis,
  type BootReportBody,
  type DevicesErrorCode,
} from '../src/index.ts'
import {
  addressOf,
  cellAt,
  chainId,
  dayMs,
  deviceOf,
  Harness,
  issue,
  makeDevice,
  makePki,
  onboardingRequest,
  signP1363,
  t0,
  TRN,
  type Pki,
  type TestDevice,
} from './fixtures.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const digest = (label: string): Uint8Array => new Uint8Array(webcrypto.getRandomValues(new Uint8Array(32)).fill(label.charCodeAt(0)))
const release = { releaseId: 'v1.0.0', bootloaderSha256: hex(digest('b')), firmwareSha256: hex(digest('f')), isRevoked: false }

let pki: Pki
before(async () => {
  pki = await makePki()
})

function newHarness(params: Record<string, unknown> = {}): Harness {
  return new Harness(devicesModule(), (admin) => ({
    admin,
    params: { onboardingFeeMicro: String(10n * TRN), locationFeeMicro: String(TRN), locationIntervalMsMin: 60_000, ...params },
    manufacturers: [{ manufacturerId: 'acme', rootCertificates: [hex(pki.root.der)] }],
    firmwareReleases: [release],
  }))
}

function expectCode(result: { code: number; log: string } | undefined, code: DevicesErrorCode): void {
  assert.ok(result !== undefined)
  assert.equal(devicesErrorCodeOfLog(result.log), code, result.log)
  assert.equal(result.code !== 0, true)
}

async function onboard(
  h: Harness,
  device: TestDevice,
  init: Parameters<typeof onboardingRequest>[2] extends infer I ? Partial<I> : never = {},
) {
  const owner = h.users[0]!
  const request = await onboardingRequest(device, owner, { anchorTimeMs: h.nextTimeMs - 5_000, ...init })
  return { request, results: await h.run(h.tx(owner, [{ type: 'devices/onboard', ...request }])) }
}

describe('onboarding', () => {
  it('registers an attested device, charges the fee into the onboarding pool and indexes it', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    const owner = h.users[0]!
    const before = h.app.account(addressOf(owner)).balanceMicro
    const { results } = await onboard(h, device)
    assert.equal(results[0]?.code, 0, results[0]?.log)
    const store = committedModuleStore(h.store)
    const view = deviceById(store, device.deviceId)
    assert.equal(view?.owner, encodeAddress(addressOf(owner)))
    assert.equal(view?.manufacturerId, 'acme')
    assert.equal(view?.publicKey.length, 33)
    assert.equal(h.app.account(addressOf(owner)).balanceMicro, before - 10n * TRN - 1000n)
    assert.equal(feesCollectedMicro(store), 10n * TRN)
    assert.deepEqual(
      devicesByOwner(store, addressOf(owner)).map((d) => d.deviceId),
      [device.deviceId],
    )
    assert.deepEqual(devicesByOwner(store, addressOf(h.users[1]!)), [])
    const cell = view?.location as string
    assert.deepEqual(
      devicesInCell(store, indexCellOf(cell)).map((d) => d.deviceId),
      [device.deviceId],
    )
    assert.deepEqual(
      devicesInCell(store, cell).map((d) => d.deviceId),
      [device.deviceId],
    )
    assert.deepEqual(devicesInCell(store, cellAt(52.52, 13.405)), [])
    assert.deepEqual(deviceStatus(store, device.deviceId)?.reasons, [])
    assert.equal(deviceStatus(store, device.deviceId)?.isEarning, true)
    h.assertInvariants()
  })

  it('refuses a replayed challenge (single use, kept in module state until it expires)', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    const { request, results } = await onboard(h, device)
    assert.equal(results[0]?.code, 0, results[0]?.log)
    const [replay] = await h.run(h.tx(h.users[0]!, [{ type: 'devices/onboard', ...request }]))
    expectCode(replay, 'DEVICES_ATTESTATION_REPLAYED_CHALLENGE')
    // The nonce is pruned once its challenge is stale: then the same request is refused as stale.
    const nonces = () => [...h.store.iterate(Uint8Array.from(Buffer.from('\x80devices\x00n/', 'latin1')))]
    assert.equal([...nonces()].length, 1)
    await h.block([], 301_000)
    await h.block([])
    assert.equal([...nonces()].length, 0)
    const [stale] = await h.run(h.tx(h.users[0]!, [{ type: 'devices/onboard', ...request }]))
    expectCode(stale, 'DEVICES_ATTESTATION_STALE_CHALLENGE')
    h.assertInvariants()
  })

  it('refuses a forged chain, a self-signed device, an expired certificate and a CA as device', async () => {
    const h = newHarness()
    const forgedRoot = await issue({ name: pki.root.name, isCa: true, pathLength: 1 })
    const forgedIntermediate = await issue({ name: pki.intermediate.name, issuer: forgedRoot, isCa: true, pathLength: 0 })
    const forgedLeaf = await issue({ name: 'forged', issuer: forgedIntermediate })
    const forged = await deviceOf(forgedLeaf, [forgedLeaf.der, forgedIntermediate.der])
    const selfLeaf = await issue({ name: 'self' })
    const selfSigned = await deviceOf(selfLeaf, [selfLeaf.der])
    const expired = await makeDevice(pki, { notAfterMs: t0 - dayMs })
    const ca = await makeDevice(pki, { isCa: true })
    const cases: Array<[TestDevice, DevicesErrorCode]> = [
      [forged, 'DEVICES_ATTESTATION_BAD_SIGNATURE'],
      [selfSigned, 'DEVICES_ATTESTATION_UNKNOWN_ROOT'],
      [expired, 'DEVICES_ATTESTATION_EXPIRED'],
      [ca, 'DEVICES_ATTESTATION_CA_AS_DEVICE'],
    ]
    for (const [device, code] of cases) {
      const { results } = await onboard(h, device)
      expectCode(results[0], code)
      assert.equal(deviceById(committedModuleStore(h.store), device.deviceId), undefined)
    }
    assert.equal(feesCollectedMicro(committedModuleStore(h.store)), 0n)
    h.assertInvariants()
  })

  it('refuses a challenge signed by another key, a bad H3 cell, a fee above the maximum and a foreign owner', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    const thief = await issue({ name: 'thief' })
    expectCode((await onboard(h, device, { signer: thief })).results[0], 'DEVICES_ATTESTATION_BAD_CHALLENGE_SIGNATURE')
    expectCode((await onboard(h, device, { location: '8cfff46622dffff' })).results[0], 'DEVICES_BAD_LOCATION')
    expectCode((await onboard(h, device, { feeMaxMicroTrn: 10n * TRN - 1n })).results[0], 'DEVICES_FEE_TOO_LOW')
    expectCode((await onboard(h, device, { chainId: 'other-chain' })).results[0], 'DEVICES_WRONG_CHAIN')
    // The owner in the request is user 0; user 1 sends it.
    const request = await onboardingRequest(device, h.users[0]!, { anchorTimeMs: h.nextTimeMs - 1000 })
    expectCode((await h.run(h.tx(h.users[1]!, [{ type: 'devices/onboard', ...request }])))[0], 'DEVICES_OWNER_MISMATCH')
    const tampered = { ...request, body: { ...request.body, capabilities: { ...request.body.capabilities, storageBytes: 1 } } }
    expectCode((await h.run(h.tx(h.users[0]!, [{ type: 'devices/onboard', ...tampered }])))[0], 'DEVICES_BAD_OWNER_SIGNATURE')
    // Nothing above consumed the challenge: the honest request still goes through.
    const { results } = await onboard(h, device)
    assert.equal(results[0]?.code, 0, results[0]?.log)
    h.assertInvariants()
  })

  it('validates the location cell: resolution and validity', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    // A resolution-11 cell cannot even be encoded into the message (schema: resolution 12 only).
    const res11 = await onboardingRequest(device, h.users[0]!, { anchorTimeMs: h.nextTimeMs - 1000, location: cellAt(48.85, 2.35) })
    res11.body.location = cellToParent(res11.body.location, 11)
    assert.throws(
      () => h.tx(h.users[0]!, [{ type: 'devices/onboard', ...res11 }]),
      (e: unknown) => e instanceof CodecError,
    )
    // A string of the right shape that is not an H3 cell is refused by the module.
    for (const location of ['8c0000000000000', '8cfff46622dffff']) {
      const fake = await onboardingRequest(device, h.users[0]!, { anchorTimeMs: h.nextTimeMs - 1000, location })
      expectCode((await h.run(h.tx(h.users[0]!, [{ type: 'devices/onboard', ...fake }])))[0], 'DEVICES_BAD_LOCATION')
    }
  })
})

describe('manufacturers and revocation', () => {
  it('lets only the admin add manufacturers; devices of a new manufacturer onboard', async () => {
    const h = newHarness()
    const other = await makePki('Other')
    const msg = { type: 'devices/add-manufacturer', manufacturerId: 'other', rootCertificatesDer: [other.root.der] }
    expectCode((await h.run(h.tx(h.users[0]!, [msg])))[0], 'DEVICES_UNAUTHORIZED')
    const leafAsRoot = await makeDevice(other)
    expectCode((await h.run(h.adminTx([{ ...msg, rootCertificatesDer: [leafAsRoot.party.der] }])))[0], 'DEVICES_BAD_CERTIFICATE')
    assert.equal((await h.run(h.adminTx([msg])))[0]?.code, 0)
    expectCode((await h.run(h.adminTx([msg])))[0], 'DEVICES_MANUFACTURER_EXISTS')
    assert.deepEqual(
      manufacturers(committedModuleStore(h.store)).map((m) => m.manufacturerId),
      ['acme', 'other'],
    )
    const device = await makeDevice(other)
    const { results } = await onboard(h, device)
    assert.equal(results[0]?.code, 0, results[0]?.log)
    assert.equal(deviceById(committedModuleStore(h.store), device.deviceId)?.manufacturerId, 'other')
  })

  it('revoking an intermediate stops its devices earning and refuses new ones; serials work too', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    assert.equal((await onboard(h, device)).results[0]?.code, 0)
    const revoke = {
      type: 'devices/revoke-certificate',
      manufacturerId: 'acme',
      fingerprintSha256: certificateFingerprint(pki.intermediate.der),
    }
    expectCode((await h.run(h.tx(h.users[0]!, [revoke])))[0], 'DEVICES_UNAUTHORIZED')
    expectCode((await h.run(h.adminTx([{ type: 'devices/revoke-certificate', manufacturerId: 'acme' }])))[0], 'DEVICES_BAD_REVOCATION')
    assert.equal((await h.run(h.adminTx([revoke])))[0]?.code, 0)
    const status = deviceStatus(committedModuleStore(h.store), device.deviceId)
    assert.equal(status?.isEarning, false)
    assert.equal(status?.attestation, 'revoked')
    assert.deepEqual(status?.reasons, ['certificate_revoked'])
    assert.equal(status?.revokedCertificate, certificateFingerprint(pki.intermediate.der))
    const late = await makeDevice(pki)
    expectCode((await onboard(h, late)).results[0], 'DEVICES_ATTESTATION_REVOKED')

    // A second PKI: revoke one device certificate by serial.
    const h2 = newHarness()
    const d2 = await makeDevice(pki)
    assert.equal((await onboard(h2, d2)).results[0]?.code, 0)
    const serial = new X509Certificate(d2.party.der).serialNumber
    assert.equal(
      (await h2.run(h2.adminTx([{ type: 'devices/revoke-certificate', manufacturerId: 'acme', serial: String(serial).toLowerCase() }])))[0]
        ?.code,
      0,
    )
    assert.deepEqual(deviceStatus(committedModuleStore(h2.store), d2.deviceId)?.reasons, ['certificate_revoked'])
    h.assertInvariants()
    h2.assertInvariants()
  })
})

describe('location re-assertion', () => {
  it('charges its fee and enforces the interval and the per-period limit', async () => {
    const h = newHarness({ locationIntervalMsMin: 10_000, locationAssertionsPerPeriodMax: 2, locationPeriodMs: dayMs })
    const device = await makeDevice(pki)
    assert.equal((await onboard(h, device)).results[0]?.code, 0)
    const owner = h.users[0]!
    const berlin = cellAt(52.52, 13.405)
    const move = (location: string, feeMaxMicroTrn = TRN) => ({
      type: 'devices/assert-location',
      deviceId: device.deviceId,
      location,
      feeMaxMicroTrn,
    })
    expectCode((await h.run(h.tx(owner, [move(berlin)])))[0], 'DEVICES_LOCATION_TOO_SOON')
    await h.block([], 10_000)
    expectCode((await h.run(h.tx(h.users[1]!, [move(berlin)])))[0], 'DEVICES_NOT_OWNER')
    expectCode((await h.run(h.tx(owner, [move(berlin, TRN - 1n)])))[0], 'DEVICES_FEE_TOO_LOW')
    expectCode((await h.run(h.tx(owner, [move('8c0000000000000')])))[0], 'DEVICES_BAD_LOCATION')
    const location = deviceById(committedModuleStore(h.store), device.deviceId)?.location as string
    expectCode((await h.run(h.tx(owner, [move(location)])))[0], 'DEVICES_LOCATION_UNCHANGED')
    const fees = feesCollectedMicro(committedModuleStore(h.store))
    assert.equal((await h.run(h.tx(owner, [move(berlin)])))[0]?.code, 0)
    const store = committedModuleStore(h.store)
    assert.equal(deviceById(store, device.deviceId)?.location, berlin)
    assert.equal(feesCollectedMicro(store), fees + TRN)
    assert.deepEqual(devicesInCell(store, indexCellOf(location)), [])
    assert.equal(devicesInCell(store, indexCellOf(berlin))[0]?.deviceId, device.deviceId)
    await h.block([], 20_000)
    expectCode((await h.run(h.tx(owner, [move(location)])))[0], 'DEVICES_LOCATION_LIMIT')
    await h.block([], dayMs)
    assert.equal((await h.run(h.tx(owner, [move(location)])))[0]?.code, 0)
    expectCode((await h.run(h.tx(owner, [{ ...move(berlin), deviceId: 'tdev1qqqqqqqqqq' }])))[0], 'DEVICES_UNKNOWN_DEVICE')
    h.assertInvariants()
  })
})

describe('firmware', () => {
  function bootBody(
    h: Harness,
    device: TestDevice,
    images: { bootloader: string; firmware: string },
    at = h.nextTimeMs - 1000,
  ): BootReportBody {
    const events = [
      { pcrIndex: 0, component: 'bootloader' as const, digest: Uint8Array.from(Buffer.from(images.bootloader, 'hex')) },
      { pcrIndex: 0, component: 'firmware' as const, digest: Uint8Array.from(Buffer.from(images.firmware, 'hex')) },
    ]
    const pcr0 = extendPcr(extendPcr(new Uint8Array(32), events[0]!.digest), events[1]!.digest)
    return { chainId, deviceId: device.deviceId, reportedAtMs: at, events, pcrs: [{ index: 0, value: pcr0 }] }
  }

  async function report(h: Harness, device: TestDevice, body: BootReportBody, signer = device.party) {
    return (
      await h.run(
        h.tx(h.users[0]!, [{ type: 'devices/boot-report', body, signature: await signP1363(signer, bootReportSigningBytes(body)) }]),
      )
    )[0]
  }

  it('flags unknown firmware until it is allowed, and revoked firmware until the device updates', async () => {
    const h = newHarness({ isBootReportRequired: true })
    const device = await makeDevice(pki)
    assert.equal((await onboard(h, device)).results[0]?.code, 0)
    const store = () => committedModuleStore(h.store)
    assert.deepEqual(deviceStatus(store(), device.deviceId)?.reasons, ['firmware_unreported'])
    const unknown = { bootloader: release.bootloaderSha256, firmware: hex(digest('u')) }
    assert.equal((await report(h, device, bootBody(h, device, unknown)))?.code, 0)
    assert.equal(deviceStatus(store(), device.deviceId)?.firmware, 'unknown')
    assert.deepEqual(deviceStatus(store(), device.deviceId)?.reasons, ['firmware_unknown'])
    assert.equal(deviceStatus(store(), device.deviceId)?.isEarning, false)

    const good = { bootloader: release.bootloaderSha256, firmware: release.firmwareSha256 }
    assert.equal((await report(h, device, bootBody(h, device, good)))?.code, 0)
    assert.equal(deviceStatus(store(), device.deviceId)?.isEarning, true)
    assert.equal(deviceStatus(store(), device.deviceId)?.releaseId, 'v1.0.0')

    const revoke = { type: 'devices/set-firmware-release', ...release, isRevoked: true }
    expectCode((await h.run(h.tx(h.users[0]!, [revoke])))[0], 'DEVICES_UNAUTHORIZED')
    assert.equal((await h.run(h.adminTx([revoke])))[0]?.code, 0)
    assert.deepEqual(deviceStatus(store(), device.deviceId)?.reasons, ['firmware_revoked'])
    // The unknown image becomes an allowed release, and the device reports it again.
    const v2 = {
      type: 'devices/set-firmware-release',
      releaseId: 'v2.0.0',
      bootloaderSha256: unknown.bootloader,
      firmwareSha256: unknown.firmware,
      isRevoked: false,
    }
    assert.equal((await h.run(h.adminTx([v2])))[0]?.code, 0)
    assert.equal((await report(h, device, bootBody(h, device, unknown)))?.code, 0)
    assert.equal(deviceStatus(store(), device.deviceId)?.releaseId, 'v2.0.0')
    assert.equal(deviceStatus(store(), device.deviceId)?.isEarning, true)
    h.assertInvariants()
  })

  it('refuses boot reports with PCRs that do not replay, a foreign signature, or a stale time', async () => {
    const h = newHarness()
    const device = await makeDevice(pki)
    assert.equal((await onboard(h, device)).results[0]?.code, 0)
    const good = { bootloader: release.bootloaderSha256, firmware: release.firmwareSha256 }
    const body = bootBody(h, device, good)
    expectCode(await report(h, device, { ...body, pcrs: [{ index: 0, value: new Uint8Array(32) }] }), 'DEVICES_BAD_BOOT_REPORT')
    expectCode(await report(h, device, bootBody(h, device, good), (await makeDevice(pki)).party), 'DEVICES_BAD_DEVICE_SIGNATURE')
    expectCode(await report(h, device, bootBody(h, device, good, h.nextTimeMs - 11 * 60_000)), 'DEVICES_STALE_REPORT')
    const fresh = bootBody(h, device, good)
    assert.equal((await report(h, device, fresh))?.code, 0)
    expectCode(await report(h, device, fresh), 'DEVICES_STALE_REPORT')
  })
})

describe('genesis and codes', () => {
  it('names the offending genesis field', () => {
    const expectPath = (doc: unknown, path: string) =>
      assert.throws(
        () => parseDevicesGenesis(doc),
        (e: unknown) => e instanceof ChainError && e.code === 'CHAIN_BAD_GENESIS' && e.path === path,
      )
    const admin = encodeAddress(new Uint8Array(20))
    expectPath(undefined, 'modules.devices')
    expectPath({ admin: 'nope' }, 'modules.devices.admin')
    expectPath({ admin, extra: 1 }, 'modules.devices.extra')
    expectPath({ admin, params: { onboardingFeeMicro: 5 } }, 'modules.devices.params.onboardingFeeMicro')
    expectPath(
      { admin, manufacturers: [{ manufacturerId: 'Bad Id', rootCertificates: [] }] },
      'modules.devices.manufacturers[0].manufacturerId',
    )
    expectPath(
      { admin, manufacturers: [{ manufacturerId: 'a', rootCertificates: ['00ff'] }] },
      'modules.devices.manufacturers[0].rootCertificates[0]',
    )
    const ok = parseDevicesGenesis({
      admin,
      manufacturers: [{ manufacturerId: 'acme', rootCertificates: [Buffer.from(pki.root.der).toString('base64')] }],
    })
    assert.deepEqual(ok.manufacturers[0]?.rootCertificatesDer, [pki.root.der])
  })

  it('maps every module code to a chain code', () => {
    for (const [code, chainCode] of Object.entries(devicesErrorCodes)) {
      assert.match(code, /^DEVICES_[A-Z_]+$/)
      assert.match(chainCode, /^CHAIN_/)
      assert.equal(devicesErrorCodeOfLog(`${chainCode}: ${code}: detail`), code)
    }
    assert.equal(devicesErrorCodeOfLog('CHAIN_BAD_NONCE: nonce 3'), undefined)
  })
})
