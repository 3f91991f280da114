import { sha256 } from '@terrane/codec'
import { ReportError } from './errors.ts'
import { beaconPayloadBytes, entropyBytes } from './limits.ts'

const utf8 = new TextEncoder()
const payloadTag = utf8.encode('TERRANE-BEACON-PAYLOAD-V1')

/**
 * The beacon payload a challenged device transmits, derived from the challenge entropy and its id
 * (as Helium derives it from SHA-256 of the entropies through a seeded generator, but with SHA-256
 * in counter mode, so any implementation regenerates it bit for bit):
 * block i = SHA-256(tag || entropy || u8(len(deviceId)) || utf8(deviceId) || u32be(i)); payload = the
 * first `length` bytes of block 0 || block 1 || ...
 */
export function beaconPayload(entropy: Uint8Array, deviceId: string, length: number = beaconPayloadBytes): Uint8Array {
  if (entropy.length !== entropyBytes) throw new ReportError('REPORT_BAD_BEACON_INPUT', `entropy must be ${entropyBytes} bytes`)
  const id = utf8.encode(deviceId)
  if (id.length === 0 || id.length > 255) throw new ReportError('REPORT_BAD_BEACON_INPUT', 'device id must be 1..255 bytes')
  if (!Number.isSafeInteger(length) || length < 1 || length > 4096)
    throw new ReportError('REPORT_BAD_BEACON_INPUT', `payload length ${length} outside 1..4096`)
  const out = new Uint8Array(length)
  const counter = new Uint8Array(4)
  for (let block = 0, offset = 0; offset < length; block++, offset += 32) {
    new DataView(counter.buffer).setUint32(0, block)
    const digest = sha256(payloadTag, entropy, Uint8Array.of(id.length), id, counter)
    out.set(digest.subarray(0, Math.min(32, length - offset)), offset)
  }
  return out
}

/** What a witness reports: SHA-256 of the payload it heard. */
export function beaconPayloadHash(payload: Uint8Array): Uint8Array {
  return sha256(payload)
}
