import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  verifyMeasuredBoot,
  replayBootEvents,
  extendPcr,
  type AllowedRelease,
  type BootEvent,
  type MeasuredBootReport,
} from '../src/index.ts'

const sha = (s: string) => new Uint8Array(createHash('sha256').update(s).digest())
const bootloader = sha('bootloader 1')
const firmware = sha('firmware 1.4.0')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const releases: AllowedRelease[] = [
  { releaseId: 'acme-1.4.0', bootloaderSha256: hex(bootloader), firmwareSha256: hex(firmware), isRevoked: false },
  { releaseId: 'acme-1.3.0', bootloaderSha256: hex(bootloader), firmwareSha256: hex(sha('firmware 1.3.0')), isRevoked: true },
]
const events: BootEvent[] = [
  { pcrIndex: 4, component: 'bootloader', digest: bootloader },
  { pcrIndex: 4, component: 'firmware', digest: firmware },
]

function reportOf(evts: BootEvent[]): MeasuredBootReport {
  return { events: evts, pcrs: replayBootEvents(evts) }
}

describe('verifyMeasuredBoot', () => {
  it('replays extends as a TPM does (independent computation)', () => {
    const pcr = createHash('sha256')
      .update(createHash('sha256').update(new Uint8Array(32)).update(bootloader).digest())
      .update(firmware)
      .digest()
    assert.deepEqual(replayBootEvents(events).get(4), new Uint8Array(pcr))
    assert.deepEqual(
      extendPcr(new Uint8Array(32), bootloader),
      new Uint8Array(createHash('sha256').update(new Uint8Array(32)).update(bootloader).digest()),
    )
  })

  it('accepts an allowed release', () => {
    assert.deepEqual(verifyMeasuredBoot(reportOf(events), releases), { ok: true, releaseId: 'acme-1.4.0' })
  })

  it('flags unknown and revoked firmware', () => {
    const unknown = verifyMeasuredBoot(reportOf([events[0]!, { ...events[1]!, digest: sha('evil firmware') }]), releases)
    assert.equal(unknown.ok === false && unknown.reason, 'unknown_firmware')
    const revoked = verifyMeasuredBoot(reportOf([events[0]!, { ...events[1]!, digest: sha('firmware 1.3.0') }]), releases)
    assert.equal(revoked.ok === false && revoked.reason, 'revoked_firmware')
    const otherBootloader = verifyMeasuredBoot(reportOf([{ ...events[0]!, digest: sha('bootloader 0') }, events[1]!]), releases)
    assert.equal(otherBootloader.ok === false && otherBootloader.reason, 'unknown_firmware')
  })

  it('flags PCRs that do not match the firmware claimed', () => {
    // device claims firmware 1.4.0 but its PCR holds the measurement of something else
    const lying = { events, pcrs: replayBootEvents([events[0]!, { ...events[1]!, digest: sha('evil firmware') }]) }
    assert.equal(
      verifyMeasuredBoot(lying, releases).ok === false && (verifyMeasuredBoot(lying, releases) as { reason: string }).reason,
      'pcr_mismatch',
    )
    // events in another order give another PCR
    const reordered = { events, pcrs: replayBootEvents([events[1]!, events[0]!]) }
    assert.equal((verifyMeasuredBoot(reordered, releases) as { reason: string }).reason, 'pcr_mismatch')
    // an extra PCR reported
    const extra = { events, pcrs: new Map([...replayBootEvents(events), [7, new Uint8Array(32)]]) }
    assert.equal((verifyMeasuredBoot(extra, releases) as { reason: string }).reason, 'pcr_mismatch')
  })

  it('returns malformed for garbage, never throws', () => {
    const garbage: unknown[] = [
      null,
      {},
      { events: [], pcrs: new Map() },
      { events: 'x', pcrs: new Map() },
      { events, pcrs: {} },
      { events: [{ pcrIndex: 99, component: 'firmware', digest: firmware }], pcrs: new Map() },
      { events: [{ pcrIndex: 4, component: 'firmware', digest: new Uint8Array(5) }], pcrs: new Map() },
      { events: [{ pcrIndex: 4, component: 'kernel', digest: firmware }], pcrs: new Map() },
      { events: [events[1]], pcrs: replayBootEvents([events[1]!]) },
      { events: Array.from({ length: 17 }, () => events[0]), pcrs: new Map() },
      { events: [null], pcrs: new Map() },
    ]
    for (const g of garbage) {
      const verdict = verifyMeasuredBoot(g as MeasuredBootReport, releases)
      assert.equal(verdict.ok === false && verdict.reason, 'malformed', JSON.stringify(g))
    }
  })
})
