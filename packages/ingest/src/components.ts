/** Wall-clock milliseconds since the Unix epoch (injected so tests drive time). */
export interface Clock {
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/** Registration status of a device, as the chain's device registry records it. */
export type DeviceStatus = 'active' | 'suspended' | 'revoked'

export interface DeviceRecord {
  /** SEC1 P-256 public key (33 or 65 bytes) registered at onboarding. */
  publicKey: Uint8Array
  status: DeviceStatus
}

/**
 * deviceId -> registered key and status. The node backs it with a cached view of the chain's
 * device registry; lookups are synchronous because they sit on the per-report hot path.
 */
export interface DeviceDirectory {
  get(deviceId: string): DeviceRecord | undefined
}

/** An in-memory directory (tests, the simulator, a devnet). */
export class MemoryDeviceDirectory implements DeviceDirectory {
  readonly #records = new Map<string, DeviceRecord>()
  get(deviceId: string): DeviceRecord | undefined {
    return this.#records.get(deviceId)
  }
  set(deviceId: string, record: DeviceRecord): void {
    this.#records.set(deviceId, record)
  }
  delete(deviceId: string): void {
    this.#records.delete(deviceId)
  }
  get size(): number {
    return this.#records.size
  }
}
