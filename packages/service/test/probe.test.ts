import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createP2PNode, type P2PNode } from '@terrane/p2p'
import { accountIdOfPublicKey, seedSigner } from '@terrane/crypto'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import {
  answerProbe,
  checkProbeResponse,
  createProber,
  probePayload,
  probeProtocol,
  signProbeBatch,
  slaFiguresOf,
  startProbeResponder,
  verifyProbeBatch,
  type ProbeResult,
} from '../src/index.ts'

const chainId = 'terrane-test-1'
const device = deviceKeyFromSeed('probe-device')
const target = { deviceId: device.deviceId, publicKey: device.publicKey }
const proberSigner = seedSigner(new Uint8Array(32).fill(3))
const nonce = (b: number) => new Uint8Array(32).fill(b)

function seed(i: number): Uint8Array {
  const s = new Uint8Array(32).fill(i + 1)
  s[0] = 0x51
  return s
}

describe('probes (pure)', () => {
  it('derives an incompressible payload from the nonce and the device id', () => {
    const a = probePayload(nonce(1), device.deviceId, 4096)
    assert.equal(a.length, 4096)
    assert.deepEqual(probePayload(nonce(1), device.deviceId, 4096), a)
    assert.notDeepEqual(probePayload(nonce(2), device.deviceId, 4096), a)
    assert.notDeepEqual(probePayload(nonce(1), deviceKeyFromSeed('x').deviceId, 4096), a)
    assert.deepEqual(probePayload(nonce(1), device.deviceId, 100), a.subarray(0, 100))
    assert.ok(new Set(a).size > 200)
  })

  it('accepts the right answers and names what is wrong with the others', () => {
    const latency = { kind: 'latency' as const, nonce: nonce(7) }
    const bandwidth = { kind: 'bandwidth' as const, nonce: nonce(8), sizeBytes: 1000 }
    const sign = (b: Uint8Array) => device.sign(b)
    assert.equal(checkProbeResponse(chainId, target, latency, answerProbe(chainId, device.deviceId, latency, sign)), undefined)
    assert.equal(checkProbeResponse(chainId, target, bandwidth, answerProbe(chainId, device.deviceId, bandwidth, sign)), undefined)
    // A cached answer to an older nonce, or another device's answer, is refused.
    const stale = answerProbe(chainId, device.deviceId, { ...bandwidth, nonce: nonce(9) }, sign)
    assert.equal(checkProbeResponse(chainId, target, bandwidth, stale), 'wrong-payload')
    const imposter = deviceKeyFromSeed('imposter')
    assert.equal(
      checkProbeResponse(
        chainId,
        target,
        latency,
        answerProbe(chainId, device.deviceId, latency, (b) => imposter.sign(b)),
      ),
      'bad-signature',
    )
    const replayedSig = answerProbe(chainId, device.deviceId, { kind: 'latency', nonce: nonce(1) }, sign)
    assert.equal(checkProbeResponse(chainId, target, latency, replayedSig), 'bad-signature')
    assert.equal(checkProbeResponse(chainId, target, bandwidth, { signature: new Uint8Array(64) }), 'wrong-payload')
  })

  it('aggregates results into SLA figures and signs batches', () => {
    const prober = accountIdOfPublicKey(proberSigner.publicKey)
    const r = (i: number, isAvailable: boolean, latencyMs: number, bandwidthKbps: number): ProbeResult => ({
      prober,
      target: device.deviceId,
      epoch: 4,
      timeMs: i,
      nonce: nonce(i),
      isAvailable,
      latencyMs,
      bandwidthKbps,
    })
    const results = [...Array.from({ length: 19 }, (_, i) => r(i, true, 10 + i, 1000 * (i + 1))), r(30, false, 0, 0)]
    const [figures] = slaFiguresOf(results)
    assert.deepEqual(figures, {
      target: device.deviceId,
      epoch: 4,
      probes: 20,
      availabilityBps: 9_500,
      latencyP95Ms: 28,
      bandwidthKbps: 10_000,
    })
    const signed = signProbeBatch(chainId, proberSigner, { prober, epoch: 4, results })
    assert.equal(verifyProbeBatch(chainId, signed), true)
    assert.equal(verifyProbeBatch(chainId, { ...signed, batch: { ...signed.batch, results: results.slice(1) } }), false)
    assert.equal(verifyProbeBatch('terrane-other-1', signed), false)
    const mixed = signProbeBatch(chainId, proberSigner, { prober, epoch: 5, results })
    assert.equal(verifyProbeBatch(chainId, mixed), false)
  })
})

describe('probes over libp2p (loopback, two nodes)', () => {
  it('measures latency and bandwidth of a device, and reports a silent or lying one as unavailable', async () => {
    const nodes: P2PNode[] = []
    try {
      const deviceNode = await createP2PNode({ privateKeySeed: seed(1) })
      nodes.push(deviceNode)
      const proberNode = await createP2PNode({ privateKeySeed: seed(2) })
      nodes.push(proberNode)
      const liarNode = await createP2PNode({ privateKeySeed: seed(3) })
      nodes.push(liarNode)
      await startProbeResponder(deviceNode, { chainId, deviceId: device.deviceId, sign: (b) => device.sign(b), handlerTimeoutMs: 1_000 })
      // The liar answers with a payload it made up (it did not derive it from the nonce).
      await liarNode.handle(
        probeProtocol,
        async () => new Uint8Array([0xa1, 0x69, 0x73, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x40]),
      )
      for (const n of [deviceNode, liarNode]) await proberNode.dial(n.addresses()[0] as string)
      const prober = createProber(proberNode, {
        chainId,
        signer: proberSigner,
        payloadBytes: 256 * 1024,
        timeoutMs: 5_000,
        nowMs: () => 1_700_000_000_000,
      })
      const result = await prober.probe({ peerId: deviceNode.peerId, ...target }, 12)
      assert.equal(result.isAvailable, true, result.failure)
      assert.ok(result.latencyMs >= 1)
      assert.ok(result.bandwidthKbps > 0)
      assert.equal(result.epoch, 12)
      assert.equal(result.target, device.deviceId)
      const lie = await prober.probe({ peerId: liarNode.peerId, ...target }, 12)
      assert.deepEqual([lie.isAvailable, lie.failure], [false, 'malformed'])
      await liarNode.stop()
      const gone = await prober.probe({ peerId: liarNode.peerId, ...target }, 12)
      assert.equal(gone.isAvailable, false)
      assert.ok(gone.failure === 'unreachable' || gone.failure === 'timeout')
      const [figures] = slaFiguresOf([result, lie, gone])
      assert.equal(figures?.availabilityBps, 3_333)
    } finally {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)))
    }
  })
})
