// The one non-deterministic part of @terrane/service: it talks to the network, reads the monotonic
// clock and draws nonces. Everything it decides with lives in probe.ts (pure).
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { isP2PError, P2PErrorCode, type P2PNode } from '@terrane/p2p'
import { accountIdOfPublicKey, type Signer } from '@terrane/crypto'
import {
  answerProbe,
  checkProbeResponse,
  decodeProbeRequest,
  decodeProbeResponse,
  encodeProbeRequest,
  encodeProbeResponse,
  probeNonceBytes,
  probePayloadBytesMax,
  type ProbeFailure,
  type ProbeRequest,
  type ProbeResult,
} from './probe.ts'

/** The request/response protocol name (`/terrane/probe/1`). */
export const probeProtocol = 'probe'

export interface ProbeResponderInit {
  chainId: string
  deviceId: string
  /** P-256 signing by the device key (secure element), IEEE P1363. */
  sign(bytes: Uint8Array): Uint8Array
  /** Largest payload this device serves. @default 4 MiB */
  payloadBytesMax?: number
  /** @default 20 (probes are rare; the p2p token bucket bounds abuse) */
  requestsPerSecondMax?: number
  /** Time to answer one probe. @default 5_000 */
  handlerTimeoutMs?: number
}

/** Makes a device (or service node) answer probes on its p2p node. */
export async function startProbeResponder(node: P2PNode, init: ProbeResponderInit): Promise<void> {
  const payloadBytesMax = Math.min(init.payloadBytesMax ?? 4 * 1024 * 1024, probePayloadBytesMax)
  await node.handle(
    probeProtocol,
    async (_peerId, bytes) => {
      const request = decodeProbeRequest(bytes)
      if (request.kind === 'bandwidth' && request.sizeBytes > payloadBytesMax) throw new Error(`payload above ${payloadBytesMax} bytes`)
      return encodeProbeResponse(answerProbe(init.chainId, init.deviceId, request, init.sign))
    },
    {
      requestBytesMax: 256,
      responseBytesMax: payloadBytesMax + 1024,
      requestsPerSecondMax: init.requestsPerSecondMax ?? 20,
      requestBurstMax: 2 * (init.requestsPerSecondMax ?? 20),
      handlerTimeoutMs: init.handlerTimeoutMs ?? 5_000,
    },
  )
}

export interface ProberInit {
  chainId: string
  /** The prober's registered account key. */
  signer: Signer
  /** @default 5_000 */
  timeoutMs?: number
  /** Bandwidth payload per probe. @default 1 MiB */
  payloadBytes?: number
  /** Wall clock for result timestamps. @default Date.now */
  nowMs?: () => number
  /** Fresh nonces. @default node:crypto randomBytes */
  randomBytes?: (length: number) => Uint8Array
}

export interface ProbeTarget {
  peerId: string
  deviceId: string
  publicKey: Uint8Array
}

export interface Prober {
  /** Latency then bandwidth probe of one target; never throws for the target's faults (they become the result). */
  probe(target: ProbeTarget, epoch: number, options?: { signal?: AbortSignal }): Promise<ProbeResult>
}

export function createProber(node: P2PNode, init: ProberInit): Prober {
  const timeoutMs = init.timeoutMs ?? 5_000
  const payloadBytes = init.payloadBytes ?? 1024 * 1024
  const nowMs = init.nowMs ?? (() => Date.now())
  const random = init.randomBytes ?? ((n: number) => new Uint8Array(randomBytes(n)))
  const prober = accountIdOfPublicKey(init.signer.publicKey)

  async function exchange(
    target: ProbeTarget,
    request: ProbeRequest,
    signal: AbortSignal | undefined,
  ): Promise<{ elapsedMs: number } | { failure: ProbeFailure }> {
    const started = performance.now()
    let bytes: Uint8Array
    try {
      bytes = await node.request(target.peerId, probeProtocol, encodeProbeRequest(request), {
        timeoutMs,
        responseBytesMax: payloadBytes + 1024,
        ...(signal === undefined ? {} : { signal }),
      })
    } catch (err) {
      if (isP2PError(err, P2PErrorCode.aborted)) throw err
      return { failure: isP2PError(err, P2PErrorCode.requestTimeout) ? 'timeout' : 'unreachable' }
    }
    const elapsedMs = performance.now() - started
    let failure: ProbeFailure | undefined
    try {
      failure = checkProbeResponse(init.chainId, target, request, decodeProbeResponse(bytes))
    } catch {
      failure = 'malformed'
    }
    return failure === undefined ? { elapsedMs } : { failure }
  }

  return {
    async probe(target, epoch, options = {}) {
      const latencyRequest: ProbeRequest = { kind: 'latency', nonce: random(probeNonceBytes) }
      const base = { prober, target: target.deviceId, epoch, timeMs: Math.floor(nowMs()), nonce: latencyRequest.nonce }
      const latency = await exchange(target, latencyRequest, options.signal)
      if ('failure' in latency) return { ...base, isAvailable: false, latencyMs: 0, bandwidthKbps: 0, failure: latency.failure }
      const latencyMs = Math.max(1, Math.round(latency.elapsedMs))
      const bandwidthRequest: ProbeRequest = { kind: 'bandwidth', nonce: random(probeNonceBytes), sizeBytes: payloadBytes }
      const bandwidth = await exchange(target, bandwidthRequest, options.signal)
      if ('failure' in bandwidth) return { ...base, isAvailable: false, latencyMs, bandwidthKbps: 0, failure: bandwidth.failure }
      // Transfer time net of one round trip (the request and the first byte), at least 1 ms.
      const transferMs = Math.max(1, bandwidth.elapsedMs - latency.elapsedMs)
      return { ...base, isAvailable: true, latencyMs, bandwidthKbps: Math.floor((payloadBytes * 8) / transferMs) }
    },
  }
}
