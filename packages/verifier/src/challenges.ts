import { hash } from 'node:crypto'
import type { CoverageParams } from './params.ts'

/** Block entropy for one challenge slot (e.g. the hash of the previous commit's signatures). */
export interface ChallengeSlot {
  slot: number
  /** 32 bytes, unknown before the block that fixes it. */
  entropy: Uint8Array
  startMs: number
  endMs: number
}

export interface ScheduleInput {
  params: CoverageParams
  slots: readonly ChallengeSlot[]
  /** Candidate devices (registered, with a location), in any order. */
  deviceIds: readonly string[]
  /** Last time each device was challenged before this epoch (rate limit), if ever. */
  lastChallengeMs: ReadonlyMap<string, number>
}

/** slot -> devices challenged in it (sorted), plus each device's last challenge time after the epoch. */
export interface ChallengeSchedule {
  bySlot: Map<number, Set<string>>
  challengeCount: Map<string, number>
  lastChallengeMs: Map<string, number>
}

const two64 = 1n << 64n
const utf8 = new TextEncoder()
const challengeTag = utf8.encode('TERRANE-CHALLENGE-V1')

/**
 * Challenges per slot from block entropy: device d is challenged in slot s when
 * SHA-256('TERRANE-CHALLENGE-V1' || entropy_s || d) < challengePpm / 1e6 * 2^64 and it was not
 * challenged in the last beaconIntervalMsMin (one beacon per 6 h, as Helium). Nobody can predict a
 * draw before the block that fixes the entropy; anyone can recompute it afterwards.
 */
export function scheduleChallenges(input: ScheduleInput): ChallengeSchedule {
  const { params } = input
  const threshold = (BigInt(params.challengePpm) * two64) / 1_000_000n
  // The draw is hashDraw(tag, entropy, id) < threshold: compared as two 32-bit halves (exact, no bigint per draw).
  const thresholdHigh = Number(threshold >> 32n)
  const thresholdLow = Number(threshold & 0xffff_ffffn)
  const ids = [...input.deviceIds].sort()
  const idBytes = ids.map((id) => utf8.encode(id))
  let idBytesMax = 0
  for (const b of idBytes) idBytesMax = Math.max(idBytesMax, b.length)
  const last = new Map(input.lastChallengeMs)
  const bySlot = new Map<number, Set<string>>()
  const challengeCount = new Map<string, number>()
  const slots = [...input.slots].sort((a, b) => a.startMs - b.startMs)
  for (const slot of slots) {
    const chosen = new Set<string>()
    const head = challengeTag.length + slot.entropy.length
    const drawInput = new Uint8Array(head + idBytesMax)
    drawInput.set(challengeTag, 0)
    drawInput.set(slot.entropy, challengeTag.length)
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] as string
      const previous = last.get(id)
      if (previous !== undefined && slot.startMs - previous < params.beaconIntervalMsMin) continue
      const bytes = idBytes[k] as Uint8Array
      drawInput.set(bytes, head)
      const digest = hash('sha256', drawInput.subarray(0, head + bytes.length), 'buffer')
      const high = digest.readUInt32BE(0)
      if (high > thresholdHigh || (high === thresholdHigh && digest.readUInt32BE(4) >= thresholdLow)) continue
      chosen.add(id)
      last.set(id, slot.startMs)
      challengeCount.set(id, (challengeCount.get(id) ?? 0) + 1)
    }
    bySlot.set(slot.slot, chosen)
  }
  return { bySlot, challengeCount, lastChallengeMs: last }
}
