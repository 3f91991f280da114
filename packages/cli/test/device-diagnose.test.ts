import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, writeDevnet, loadNodeConfig, type TerraneNode } from '@terrane/node'
import type { DeviceDto, DeviceProofDto, RewardDto } from '@terrane/sdk'
import { exitCodes } from '../src/index.ts'
import { diagnoseDevice, formatDiagnosis, trn } from '../src/cmds/device/diagnose.ts'
import { testCli, waitUntil } from './helpers.ts'

// A device id of the right form that no chain registered (bech32 characters only).
const unknownDeviceId = 'tdev1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'

test('device diagnose explains a simulated device from a real node: standing, verdicts, verifier lines, earnings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-diagnose-'))
  const cli = await testCli()
  let node: TerraneNode | undefined
  try {
    const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0, params: { epochBlocks: 5 } })
    const home = (layout.nodes[0] as { home: string }).home
    const config = await loadNodeConfig(home, {}, { TERRANE_SIMULATED_DEVICES: '6' })
    node = await startNode({ config, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) })
    const depin = node.depin
    assert.ok(depin !== undefined && depin.simulation !== undefined)
    const sim = depin.simulation
    await waitUntil(() => sim.isReady, 90_000, 'the simulated devices to onboard and connect')
    // The first epoch scored with reports: every simulated device has the verifier's lines in it.
    const scored = () => depin.records.all().find((r) => Object.keys(r.diagnosis).length > 0 && r.verdicts.length > 0)
    await waitUntil(() => scored() !== undefined, 90_000, 'a scored coverage epoch')
    const record = scored()!
    const deviceId = Object.keys(record.diagnosis).sort()[0]!
    const api = node.apiUrl as string

    const text = await cli.run(['device', 'diagnose', deviceId, '--api', api])
    assert.equal(text.code, exitCodes.ok, text.stderr)
    const out = text.stdout
    assert.match(out, /^(Earning|Earning into escrow|Not earning)/, 'a one-line verdict first')
    assert.match(out, new RegExp(`^Device ${deviceId}$`, 'm'))
    assert.match(out, /^ {2}attested: +yes \(attestation verified at onboarding/m)
    assert.match(out, /^ {2}firmware: +ok/m)
    const location = sim.locations[sim.deviceIds.indexOf(deviceId)]
    assert.ok(location !== undefined)
    assert.match(out, new RegExp(`^ {2}location: +${location} \\(asserted`, 'm'))
    assert.match(out, /^ {2}may earn: +yes$/m)
    // The epoch block: the verifier's own diagnose lines, verbatim, and the payout terms.
    assert.match(out, new RegExp(`^Epoch ${record.epoch} \\(closed at height ${record.height}\\)$`, 'm'))
    for (const line of record.diagnosis[deviceId]!) assert.ok(out.includes(`    ${line}\n`), `verifier line "${line}"`)
    const payout = record.payouts.find((p) => p.deviceId === deviceId)
    const paid = payout?.paidMicro ?? 0n
    assert.ok(out.includes(`paid ${trn(paid.toString())}`), 'the paid amount')
    const mine = record.verdicts.filter((v) => v.deviceId === deviceId)
    const accepted = mine.filter((v) => v.status !== 'rejected').length
    assert.match(out, new RegExp(`^ {2}reports: +${accepted} accepted, `, 'm'))

    const json = await cli.run(['device', 'diagnose', deviceId, '--api', api, '--epochs', '1', '--json'])
    assert.equal(json.code, exitCodes.ok, json.stderr)
    const diagnosis = JSON.parse(json.stdout) as {
      device: { deviceId: string; isAttested: boolean; isEarning: boolean; location: string }
      epochs: Array<{
        epoch: number
        paidMicro: string
        diagnosis: string[]
        proofs: { accepted: number; rejected: Record<string, number> }
      }>
    }
    assert.deepEqual(
      { id: diagnosis.device.deviceId, isAttested: diagnosis.device.isAttested, isEarning: diagnosis.device.isEarning },
      { id: deviceId, isAttested: true, isEarning: true },
    )
    assert.equal(diagnosis.epochs.length, 1, '--epochs 1')
    const newest = depin.records.all().find((r) => r.diagnosis[deviceId] !== undefined)!
    assert.equal(diagnosis.epochs[0]?.epoch, newest.epoch)
    assert.deepEqual(diagnosis.epochs[0]?.diagnosis, newest.diagnosis[deviceId])
    const rejected: Record<string, number> = {}
    for (const v of newest.verdicts.filter(
      (x) => x.deviceId === deviceId && x.status === 'rejected' && (x.kind === 'beacon' || x.kind === 'witness'),
    ))
      rejected[v.reason] = (rejected[v.reason] ?? 0) + 1
    assert.deepEqual(diagnosis.epochs[0]?.proofs.rejected, rejected)

    // One-line errors: an unknown device (exit 3), a node that does not answer (exit 4), a bad id (exit 2).
    const unknown = await cli.run(['device', 'diagnose', unknownDeviceId, '--api', api])
    assert.equal(unknown.code, exitCodes.notFound)
    assert.equal(unknown.stderr, `error [CLI_NOT_FOUND]: device ${unknownDeviceId} is not registered on this chain\n`)
  } finally {
    await node?.stop()
    await cli.cleanup()
    await rm(dir, { recursive: true, force: true })
  }
})

test('device diagnose: an unreachable API and a malformed id are one-line errors', async () => {
  const cli = await testCli()
  try {
    // Port 9 (discard) on loopback: nothing listens there.
    const down = await cli.run(['device', 'diagnose', unknownDeviceId, '--api', 'http://127.0.0.1:9'])
    assert.equal(down.code, exitCodes.unreachable)
    assert.match(down.stderr, /^error \[SDK_NETWORK\]: /)
    assert.equal(down.stderr.trim().split('\n').length, 1)
    const bad = await cli.run(['device', 'diagnose', 'sensor-7', '--api', 'http://127.0.0.1:9'])
    assert.equal(bad.code, exitCodes.usage)
    assert.equal(bad.stderr, 'error [CLI_USAGE]: "sensor-7" is not a device id (tdev1...)\n')
    const badUrl = await cli.run(['device', 'diagnose', unknownDeviceId, '--api', 'localhost:26657'])
    assert.equal(badUrl.code, exitCodes.usage)
    const badEpochs = await cli.run(['device', 'diagnose', unknownDeviceId, '--epochs', '0'])
    assert.equal(badEpochs.code, exitCodes.usage)
  } finally {
    await cli.cleanup()
  }
})

// Stub API answers for the cases a healthy devnet does not produce: a revoked certificate, a
// flagged device earning into escrow, a device no epoch mentions.
function stubClient(device: DeviceDto, rewards: RewardDto[], proofs: DeviceProofDto[]) {
  return {
    device: (id: string) => Promise.resolve(id === device.id ? device : null),
    deviceRewards: () => Promise.resolve({ items: rewards, nextCursor: null }),
    deviceProofs: (_id: string, filter: { epoch?: number } = {}) =>
      Promise.resolve({ items: proofs.filter((p) => p.epoch === filter.epoch), nextCursor: null }),
  }
}

const stubDevice: DeviceDto = {
  id: 'tdev1stubstubstub',
  owner: 'trn1owner',
  model: 'acme',
  h3Cell: '8c1fb46622dd1ff',
  attestation: { status: 'verified', reason: '', checkedHeight: 3 },
  registeredHeight: 3,
  isActive: true,
}

function reward(epoch: number, amounts: { coverage: bigint; escrowed: bigint; paid: bigint }, lines: string[]): RewardDto {
  return {
    deviceId: stubDevice.id,
    epoch,
    height: epoch * 10,
    amount: amounts.paid.toString(),
    explanation: [
      { name: 'coverage', amount: amounts.coverage.toString(), detail: '' },
      { name: 'escrowed', amount: amounts.escrowed.toString(), detail: '' },
      { name: 'released', amount: '0', detail: '' },
      { name: 'paid', amount: amounts.paid.toString(), detail: '' },
      ...lines.map((detail) => ({ name: 'diagnose', amount: '0', detail })),
    ],
  }
}

function proof(epoch: number, i: number, reason: string): DeviceProofDto {
  return {
    id: `p${epoch}-${i}`,
    deviceId: stubDevice.id,
    kind: 'coverage',
    epoch,
    height: epoch * 10,
    witnessCount: 0,
    verdict: reason === '' ? 'accepted' : 'rejected',
    reason,
  }
}

test('diagnoseDevice says why: revoked certificate, unknown firmware, escrow, rejected reports, no data', async () => {
  const revoked = {
    ...stubDevice,
    isActive: false,
    attestation: { status: 'rejected' as const, reason: 'certificate_revoked,firmware_unknown', checkedHeight: 3 },
  }
  const r1 = await diagnoseDevice(stubClient(revoked, [], []), revoked.id, 5)
  assert.equal(r1.device.isAttested, false)
  assert.equal(r1.device.firmware, 'unknown')
  assert.match(r1.summary, /^Not earning: the chain does not let it earn \(certificate_revoked, firmware_unknown\)/)
  const text = formatDiagnosis(r1).join('\n')
  assert.match(text, /^ {2}attested: +no \(certificate_revoked\)$/m)
  assert.match(text, /^ {2}firmware: +unknown \(firmware_unknown\)$/m)
  assert.match(text, /^Epochs: none scored by this node mention the device\.$/m)

  const flagged = reward(7, { coverage: 2_500_000n, escrowed: 2_500_000n, paid: 0n }, ['Flag co_location: 5 devices within 20 m.'])
  const r2 = await diagnoseDevice(
    stubClient(stubDevice, [flagged], [proof(7, 0, ''), proof(7, 1, 'too_close'), proof(7, 2, 'too_close')]),
    stubDevice.id,
    5,
  )
  assert.match(r2.summary, /^Earning into escrow: 2\.500000 TRN in epoch 7 is held because of a flag/)
  assert.deepEqual(r2.epochs[0]?.proofs, { accepted: 1, rejected: { too_close: 2 }, isTruncated: false })
  const text2 = formatDiagnosis(r2).join('\n')
  assert.match(text2, /^ {2}reports: +1 accepted, rejected: 2 too_close$/m)
  assert.match(text2, /^ {2}earnings: earned 2\.500000 TRN, paid 0\.000000 TRN, escrowed 2\.500000 TRN, released 0\.000000 TRN$/m)
  assert.match(text2, /^ {4}Flag co_location: 5 devices within 20 m\.$/m)

  const rejectedAll = reward(8, { coverage: 0n, escrowed: 0n, paid: 0n }, [])
  const r3 = await diagnoseDevice(
    stubClient(stubDevice, [rejectedAll], [proof(8, 0, 'late_witness'), proof(8, 1, 'payload_mismatch')]),
    stubDevice.id,
    5,
  )
  assert.match(r3.summary, /^Not earning: every report in epoch 8 was rejected \(1 late_witness, 1 payload_mismatch\)\.$/)

  const r4 = await diagnoseDevice(stubClient(stubDevice, [], []), stubDevice.id, 5)
  assert.match(r4.summary, /^Not earning yet: no scored epoch mentions it\./)

  await assert.rejects(diagnoseDevice(stubClient(stubDevice, [], []), 'tdev1other', 5), { code: 'CLI_NOT_FOUND' })
})
