import { createCipheriv } from 'node:crypto'
import { decode, encode, sha256, t, type Infer } from '@terrane/codec'
import { signInDomain, verifyInDomain, type Signer } from '@terrane/crypto'
import { decodeDeviceId, verifyDeviceSignature } from '@terrane/attestation'
import { ServiceError } from './errors.ts'

/** Bytes of a probe nonce. */
export const probeNonceBytes = 32
/** Largest bandwidth payload a prober may ask for (and a responder will send). */
export const probePayloadBytesMax = 16 * 1024 * 1024
/** Results per signed batch (one on-chain submission). */
export const probeBatchResultsMax = 1024

export const probeRequestSchema = t.variant('kind', {
  latency: t.struct({ nonce: t.bytes({ length: probeNonceBytes }) }),
  bandwidth: t.struct({ nonce: t.bytes({ length: probeNonceBytes }), sizeBytes: t.uint({ max: probePayloadBytesMax }) }),
})
export type ProbeRequest = Infer<typeof probeRequestSchema>

export const probeResponseSchema = t.struct({
  /** P-256 by the target device over probeSigningBytes. */
  signature: t.bytes({ length: 64 }),
  /** The challenge-derived payload (bandwidth probes only). */
  payload: t.optional(t.bytes({ lengthMax: probePayloadBytesMax })),
})
export type ProbeResponse = Infer<typeof probeResponseSchema>

const utf8 = new TextEncoder()
const probeTag = utf8.encode('TERRANE-PROBE-V1')
const payloadTag = utf8.encode('TERRANE-PROBE-PAYLOAD-V1')

/**
 * What a probed device signs: tag || u8 len(chainId) || chainId || kind byte || nonce || SHA-256(payload)
 * (zeros for latency probes). The nonce is fresh per probe, so a signature cannot be replayed.
 */
export function probeSigningBytes(chainId: string, request: ProbeRequest, payloadDigest?: Uint8Array): Uint8Array {
  const chain = utf8.encode(chainId)
  const out = new Uint8Array(probeTag.length + 1 + chain.length + 1 + probeNonceBytes + 32)
  let at = 0
  out.set(probeTag, at)
  at += probeTag.length
  out[at++] = chain.length
  out.set(chain, at)
  at += chain.length
  out[at++] = request.kind === 'latency' ? 1 : 2
  out.set(request.nonce, at)
  if (payloadDigest !== undefined) out.set(payloadDigest, at + probeNonceBytes)
  return out
}

/**
 * The bandwidth challenge payload: AES-256-CTR keystream under SHA-256(tag || nonce || device id
 * bytes). It depends on the fresh nonce, so it cannot be precomputed or served from a cache, and it
 * is incompressible; anyone regenerates it from the nonce at memory speed, so the probe measures
 * the link, not the device's CPU.
 */
export function probePayload(nonce: Uint8Array, deviceId: string, sizeBytes: number): Uint8Array {
  if (nonce.length !== probeNonceBytes) throw new ServiceError('SERVICE_BAD_INPUT', 'probe nonce must be 32 bytes')
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > probePayloadBytesMax)
    throw new ServiceError('SERVICE_BAD_INPUT', `payload size must be 0..${probePayloadBytesMax}`)
  const key = sha256(payloadTag, nonce, decodeDeviceId(deviceId))
  const cipher = createCipheriv('aes-256-ctr', key, new Uint8Array(16))
  const out = cipher.update(new Uint8Array(sizeBytes))
  cipher.final()
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

export function encodeProbeRequest(request: ProbeRequest): Uint8Array {
  return encode(probeRequestSchema, request)
}

/** Strict decode of untrusted probe bytes; throws ServiceError SERVICE_BAD_INPUT. */
export function decodeProbeRequest(bytes: Uint8Array): ProbeRequest {
  try {
    return decode(probeRequestSchema, bytes, { bytesMax: 256 })
  } catch (err) {
    throw new ServiceError('SERVICE_BAD_INPUT', `bad probe request: ${(err as Error).message}`, {}, { cause: err })
  }
}

export function encodeProbeResponse(response: ProbeResponse): Uint8Array {
  return encode(probeResponseSchema, response)
}

export function decodeProbeResponse(bytes: Uint8Array): ProbeResponse {
  try {
    return decode(probeResponseSchema, bytes, { bytesMax: probePayloadBytesMax + 1024 })
  } catch (err) {
    throw new ServiceError('SERVICE_BAD_INPUT', `bad probe response: ${(err as Error).message}`, {}, { cause: err })
  }
}

/** The device's answer to a probe (used by the responder): signs, and derives the payload for bandwidth. */
export function answerProbe(
  chainId: string,
  deviceId: string,
  request: ProbeRequest,
  sign: (bytes: Uint8Array) => Uint8Array,
): ProbeResponse {
  if (request.kind === 'latency') return { signature: sign(probeSigningBytes(chainId, request)) }
  const payload = probePayload(request.nonce, deviceId, request.sizeBytes)
  return { signature: sign(probeSigningBytes(chainId, request, sha256(payload))), payload }
}

export type ProbeFailure = 'timeout' | 'unreachable' | 'bad-signature' | 'wrong-payload' | 'malformed'

/** Checks a device's answer; undefined if right, else why not. */
export function checkProbeResponse(
  chainId: string,
  target: { deviceId: string; publicKey: Uint8Array },
  request: ProbeRequest,
  response: ProbeResponse,
): ProbeFailure | undefined {
  if (request.kind === 'latency') {
    if (response.payload !== undefined) return 'malformed'
    return verifyDeviceSignature(target.publicKey, probeSigningBytes(chainId, request), response.signature) ? undefined : 'bad-signature'
  }
  const payload = response.payload
  if (payload === undefined || payload.length !== request.sizeBytes) return 'wrong-payload'
  const expected = probePayload(request.nonce, target.deviceId, request.sizeBytes)
  if (Buffer.compare(expected, payload) !== 0) return 'wrong-payload'
  return verifyDeviceSignature(target.publicKey, probeSigningBytes(chainId, request, sha256(payload)), response.signature)
    ? undefined
    : 'bad-signature'
}

export const probeFailures = ['timeout', 'unreachable', 'bad-signature', 'wrong-payload', 'malformed'] as const

export const probeResultSchema = t.struct({
  /** The prober's account id. */
  prober: t.bytes({ length: 20 }),
  target: t.string({ bytesMax: 90 }),
  epoch: t.uint(),
  timeMs: t.uint(),
  nonce: t.bytes({ length: probeNonceBytes }),
  isAvailable: t.bool(),
  /** Round trip of the signed nonce (0 when unavailable). */
  latencyMs: t.uint(),
  /** Payload bits over transfer time (0 when not measured). */
  bandwidthKbps: t.uint(),
  failure: t.optional(t.enumOf(probeFailures)),
})
export type ProbeResult = Infer<typeof probeResultSchema>

export const probeBatchSchema = t.struct({
  prober: t.bytes({ length: 20 }),
  epoch: t.uint(),
  results: t.array(probeResultSchema, { lengthMax: probeBatchResultsMax }),
})
export type ProbeBatch = Infer<typeof probeBatchSchema>

export const signedProbeBatchSchema = t.struct({
  batch: probeBatchSchema,
  proberKey: t.bytes({ length: 32 }),
  signature: t.bytes({ length: 64 }),
})
export type SignedProbeBatch = Infer<typeof signedProbeBatchSchema>

/** Signs a batch of results by the prober's account key (domain `{ chainId, kind: 'probe-batch' }`). */
export function signProbeBatch(chainId: string, prober: Signer, batch: ProbeBatch): SignedProbeBatch {
  return {
    batch,
    proberKey: prober.publicKey,
    signature: signInDomain(prober, { chainId, kind: 'probe-batch' }, encode(probeBatchSchema, batch)),
  }
}

/** True if the batch is signed by `proberKey` for this chain and every result names the batch's prober and epoch. */
export function verifyProbeBatch(chainId: string, signed: SignedProbeBatch): boolean {
  const { batch } = signed
  if (!batch.results.every((r) => Buffer.compare(r.prober, batch.prober) === 0 && r.epoch === batch.epoch)) return false
  let bytes: Uint8Array
  try {
    bytes = encode(probeBatchSchema, batch)
  } catch {
    return false
  }
  return verifyInDomain(signed.proberKey, { chainId, kind: 'probe-batch' }, bytes, signed.signature)
}

/** Per target per epoch: what SLA terms are judged on. */
export interface SlaFigures {
  target: string
  epoch: number
  probes: number
  /** Share of probes answered correctly, basis points. */
  availabilityBps: number
  /** 95th percentile (nearest rank) of answered latency probes; 0 if none. */
  latencyP95Ms: number
  /** Median of measured bandwidths; 0 if none. */
  bandwidthKbps: number
}

function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

/** Aggregates probe results into SLA figures per (target, epoch), sorted by target then epoch. */
export function slaFiguresOf(results: readonly ProbeResult[]): SlaFigures[] {
  const groups = new Map<string, ProbeResult[]>()
  for (const r of results) {
    const k = `${r.target}\u0000${r.epoch}`
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [r])
    else g.push(r)
  }
  const out: SlaFigures[] = []
  for (const g of groups.values()) {
    const first = g[0] as ProbeResult
    const answered = g.filter((r) => r.isAvailable)
    const latencies = answered.map((r) => r.latencyMs).sort((a, b) => a - b)
    const bandwidths = answered
      .filter((r) => r.bandwidthKbps > 0)
      .map((r) => r.bandwidthKbps)
      .sort((a, b) => a - b)
    out.push({
      target: first.target,
      epoch: first.epoch,
      probes: g.length,
      availabilityBps: Math.floor((answered.length * 10_000) / g.length),
      latencyP95Ms: nearestRank(latencies, 95),
      bandwidthKbps: nearestRank(bandwidths, 50),
    })
  }
  return out.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : a.epoch - b.epoch))
}
