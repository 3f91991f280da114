import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { decodeAddress } from '@terrane/crypto'
import { committedModuleStore as devicesStore, deviceStatus, devicesErrorCodeOfLog } from '@terrane/devices'
import { signTx } from '@terrane/chain'
import { sha256, toHex } from '@terrane/codec'
import { blockHash, type TxResult } from '@terrane/consensus'
import { accountIdOfPublicKey, addressOfPublicKey } from '@terrane/crypto'
import { buildOnboardingRequest, createSimulatedManufacturer, SoftwareSecureElement } from '@terrane/device'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { committedModuleStore as coverageStore, epochState } from '@terrane/coverage'
import { startNode, writeDevnet, loadNodeConfig, type TerraneNode } from '../src/index.ts'
import type { DepinService } from '../src/depin/service.ts'
import { waitFor } from './helpers.ts'

/** The block and result of `tx` once a committed block carries it (onBlock runs once the block's results are stored). */
function committedTx(node: TerraneNode, tx: Uint8Array, timeoutMs: number): Promise<{ height: number; index: number; result: TxResult }> {
  const hash = toHex(sha256(tx))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`tx ${hash} was not committed within ${timeoutMs} ms`))
    }, timeoutMs)
    const unsubscribe = node.onBlock((block, _commit, results) => {
      const index = block.txs.findIndex((t) => toHex(sha256(t)) === hash)
      if (index === -1) return
      clearTimeout(timer)
      unsubscribe()
      const result = results.txResults[index]
      if (result === undefined) reject(new Error(`block ${block.header.height} has no result for tx ${index}`))
      else resolve({ height: block.header.height, index, result })
    })
  })
}

test('a devnet validator onboards simulated devices, settles a coverage epoch on chain and serves it over HTTP', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-depin-'))
  let node: TerraneNode | undefined
  try {
    const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0, params: { epochBlocks: 10 } })
    const home = (layout.nodes[0] as { home: string }).home
    const config = await loadNodeConfig(home, {}, { TERRANE_SIMULATED_DEVICES: '12' })
    node = await startNode({ config, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) })
    const depin = node.depin as DepinService
    const sim = depin.simulation
    assert.ok(sim !== undefined)
    const devices = devicesStore(depin.chainStore)

    // Every device onboarded with a verified attestation.
    await waitFor(() => sim.isReady, 60_000, 'the simulated devices to onboard and connect', 50)
    assert.equal(sim.status.onboarded, 12)
    for (const id of sim.deviceIds) {
      const status = deviceStatus(devices, id)
      assert.equal(status?.attestation, 'ok', id)
      assert.equal(status?.isEarning, true, id)
    }
    // A device certificate from a manufacturer the chain does not know: its onboarding is refused with the reason.
    const forger = await createSimulatedManufacturer({ manufacturerId: 'forger', nowMs: Date.now() })
    const key = deviceKeyFromSeed('forged-device')
    const secureElement = new SoftwareSecureElement(key.privateKey, {
      certificateChainDer: await forger.issueDeviceCertificate(key.publicKey, 1),
    })
    const owner = layout.faucets[13]!
    const anchor = (await node.blockStore.block(node.blockStore.height))!
    const request = await buildOnboardingRequest(
      {
        chainId: layout.chainId,
        owner: addressOfPublicKey(owner.publicKey),
        location: sim.locations[0]!,
        capabilities: { radioBands: ['eu868'], storageBytes: 1024, bandwidthKbps: 1000 },
        feeMaxMicroTrn: 40_000_000n,
        anchorBlockHash: blockHash(anchor.header),
        anchorTimeMs: anchor.header.timeMs,
      },
      { secureElement, owner },
    )
    const forged = signTx(
      node.app.txBodySchema,
      {
        chainId: layout.chainId,
        sender: accountIdOfPublicKey(owner.publicKey),
        nonce: 0,
        feeMicro: 1_000n,
        expiryHeight: 0,
        messages: [{ type: 'devices/onboard', ...request }],
      },
      [owner],
    )
    // Wait for the tx's result, not for the tx: the block store indexes a block's txs when it stores the
    // block, before the block is executed and its results saved (polling txLocation and then reading the
    // results found none in about one run in four, and the assertions read `undefined`).
    const committed = committedTx(node, forged, 30_000)
    assert.equal(node.submitTx(forged).accepted, true)
    const { height, index, result } = await committed
    assert.deepEqual(await node.blockStore.txLocation(sha256(forged)), { height, index })
    const stored = (await node.blockStore.results(height))?.txResults[index]
    assert.deepEqual(
      { code: stored?.code, log: stored?.log },
      { code: result.code, log: result.log },
      'onBlock runs once the results are stored',
    )
    assert.notEqual(result.code, 0)
    assert.equal(devicesErrorCodeOfLog(result.log), 'DEVICES_ATTESTATION_UNKNOWN_ROOT', `tx result: ${JSON.stringify(result)}`)
    assert.equal(deviceStatus(devices, key.deviceId), undefined)

    const owners = sim.owners.map((o) => decodeAddress(o))
    const before = owners.map((o) => node!.app.account(o).balanceMicro)

    // A coverage epoch with reports settles: digest agreed, payouts paid at the next boundary.
    const paidEpoch = () =>
      depin.records
        .all()
        .find((r) => r.payouts.some((p) => p.paidMicro > 0n) && epochState(coverageStore(depin.chainStore), r.epoch)?.status === 'paid')
    await waitFor(() => paidEpoch() !== undefined, 90_000, 'a coverage epoch to be paid', 50)
    const record = paidEpoch()!
    assert.ok(
      record.verdicts.some((v) => v.kind === 'beacon' && v.status !== 'rejected'),
      'a valid beacon',
    )
    const grew = owners.some((o, i) => node!.app.account(o).balanceMicro > (before[i] as bigint))
    assert.ok(grew, 'some owner balance grew by its payout')

    // Over HTTP.
    const api = node.apiUrl
    const list = (await (await fetch(`${api}/v1/devices?limit=100`)).json()) as {
      items: Array<{ id: string; attestation: { status: string } }>
    }
    assert.equal(list.items.length, 12)
    assert.ok(list.items.every((d) => d.attestation.status === 'verified'))
    const payout = record.payouts.find((p) => p.paidMicro > 0n)!
    const rewards = (await (await fetch(`${api}/v1/devices/${payout.deviceId}/rewards`)).json()) as {
      items: Array<{ epoch: number; amount: string; explanation: Array<{ name: string; detail: string }> }>
    }
    const r = rewards.items.find((x) => x.epoch === record.epoch)
    assert.equal(r?.amount, payout.paidMicro.toString())
    assert.ok(r?.explanation.some((e) => e.name === 'diagnose' && e.detail.includes(payout.deviceId)))
    const proofs = (await (await fetch(`${api}/v1/devices/${payout.deviceId}/proofs`)).json()) as { items: Array<{ verdict: string }> }
    assert.ok(proofs.items.length > 0)
  } finally {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
