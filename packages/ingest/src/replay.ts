/**
 * Per-device replay protection on the report sequence number, as IPsec's anti-replay window
 * (RFC 4303 section 3.4.3): the highest seq accepted plus a bitmap of the `seqWindowBits`
 * sequence numbers below it. A seq above the highest is fresh; one inside the window is fresh
 * once; one below the window is a replay. Reordering by up to 63 reports (several consumers,
 * QoS 1 redelivery) is tolerated; nothing is ever accepted twice while the device is tracked.
 *
 * Memory is bounded by `devicesMax` entries (about 150 bytes each). A device's entry may be
 * evicted only once every report it ever had accepted is older than the report age limit, so
 * the age check alone refuses their replays; if no entry is evictable, the new device's report
 * is refused with reason 'capacity' (fail closed, counted).
 */
export const seqWindowBits = 64
/** Entries examined for eviction per insert, bounding the work of one report. */
export const evictionScanMax = 64

export type SeqCheck = 'fresh' | 'duplicate' | 'replayed'

interface Entry {
  highestSeq: number
  /** Bit i set: seq highestSeq - i was accepted. */
  mask: bigint
  /** Newest report time accepted (device clock, ms). */
  newestTimeMs: number
}

const windowMask = (1n << BigInt(seqWindowBits)) - 1n

export interface ReplayGuardInit {
  /** @default 100_000 */
  devicesMax?: number
  /** Reports older than this are refused anyway (the processor's age check). */
  reportAgeMsMax: number
}

export class ReplayGuard {
  readonly #entries = new Map<string, Entry>()
  readonly #devicesMax: number
  readonly #reportAgeMsMax: number

  constructor(init: ReplayGuardInit) {
    this.#devicesMax = init.devicesMax ?? 100_000
    this.#reportAgeMsMax = init.reportAgeMsMax
  }

  get size(): number {
    return this.#entries.size
  }

  /** Classifies `seq` without recording it (checked before the signature, to save work). */
  check(deviceId: string, seq: number): SeqCheck {
    const entry = this.#entries.get(deviceId)
    if (entry === undefined || seq > entry.highestSeq) return 'fresh'
    const behind = entry.highestSeq - seq
    if (behind >= seqWindowBits) return 'replayed'
    return (entry.mask >> BigInt(behind)) & 1n ? 'duplicate' : 'fresh'
  }

  /**
   * Records an accepted (signature-verified, fresh) report. Returns false, recording nothing,
   * only when a new device cannot be tracked (capacity).
   */
  commit(deviceId: string, seq: number, timeMs: number, nowMs: number): boolean {
    const entry = this.#entries.get(deviceId)
    if (entry === undefined) {
      if (this.#entries.size >= this.#devicesMax && !this.#evict(nowMs)) return false
      this.#entries.set(deviceId, { highestSeq: seq, mask: 1n, newestTimeMs: timeMs })
      return true
    }
    if (seq > entry.highestSeq) {
      const shift = seq - entry.highestSeq
      entry.mask = shift >= seqWindowBits ? 1n : ((entry.mask << BigInt(shift)) | 1n) & windowMask
      entry.highestSeq = seq
    } else {
      entry.mask |= 1n << BigInt(entry.highestSeq - seq)
    }
    if (timeMs > entry.newestTimeMs) entry.newestTimeMs = timeMs
    // Least recently used last: re-insert.
    this.#entries.delete(deviceId)
    this.#entries.set(deviceId, entry)
    return true
  }

  #evict(nowMs: number): boolean {
    const horizonMs = nowMs - this.#reportAgeMsMax
    let scanned = 0
    let evicted = false
    for (const [deviceId, entry] of this.#entries) {
      if (scanned++ >= evictionScanMax) break
      if (entry.newestTimeMs < horizonMs) {
        this.#entries.delete(deviceId)
        evicted = true
      }
    }
    return evicted
  }
}
