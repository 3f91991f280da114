import { sha256 } from '@terrane/codec'
import { ReportError } from './errors.ts'
import { beaconPayloadBytes, entropyBytes } from './limits.ts'

const utf8 = new TextEncoder()
const payloadTag = utf8.encode('TERRANE-BEACON-PAYLOAD-V1')
const payloadTagLocal = utf8.encode('TERRANE-BEACON-PAYLOAD-V2')

/**
 * The beacon payload a challenged device transmits, derived from the challenge entropy (remote, public
 * block randomness), its id and, when given, the beaconer's own local entropy (as Helium derives it from
 * the remote and local entropies through a seeded generator, but with SHA-256 in counter mode, so any
 * implementation regenerates it bit for bit):
 * without local entropy, block i = SHA-256('TERRANE-BEACON-PAYLOAD-V1' || entropy || u8(len(deviceId)) ||
 * utf8(deviceId) || u32be(i)); with it, block i = SHA-256('TERRANE-BEACON-PAYLOAD-V2' || entropy ||
 * localEntropy || u8(len(deviceId)) || utf8(deviceId) || u32be(i)); payload = the first `length` bytes of
 * block 0 || block 1 || ...
 *
 * Local entropy is drawn by the beaconer at transmission time and published only in its signed beacon
 * report, so before that report is public the payload is known only to devices that heard the beacon
 * (or to whoever they relay it to). Without it the payload follows from public data.
 */
export function beaconPayload(
  entropy: Uint8Array,
  deviceId: string,
  length: number = beaconPayloadBytes,
  localEntropy?: Uint8Array,
): Uint8Array {
  if (entropy.length !== entropyBytes) throw new ReportError('REPORT_BAD_BEACON_INPUT', `entropy must be ${entropyBytes} bytes`)
  if (localEntropy !== undefined && localEntropy.length !== entropyBytes)
    throw new ReportError('REPORT_BAD_BEACON_INPUT', `local entropy must be ${entropyBytes} bytes`)
  const id = utf8.encode(deviceId)
  if (id.length === 0 || id.length > 255) throw new ReportError('REPORT_BAD_BEACON_INPUT', 'device id must be 1..255 bytes')
  if (!Number.isSafeInteger(length) || length < 1 || length > 4096)
    throw new ReportError('REPORT_BAD_BEACON_INPUT', `payload length ${length} outside 1..4096`)
  const out = new Uint8Array(length)
  const counter = new Uint8Array(4)
  for (let block = 0, offset = 0; offset < length; block++, offset += 32) {
    new DataView(counter.buffer).setUint32(0, block)
    const digest =
      localEntropy === undefined
        ? sha256(payloadTag, entropy, Uint8Array.of(id.length), id, counter)
        : sha256(payloadTagLocal, entropy, localEntropy, Uint8Array.of(id.length), id, counter)
    out.set(digest.subarray(0, Math.min(32, length - offset)), offset)
  }
  return out
}

/** What a witness reports: SHA-256 of the payload it heard. */
export function beaconPayloadHash(payload: Uint8Array): Uint8Array {
  return sha256(payload)
}
