/** The only way time enters scoring and rate limiting, so tests can drive it by hand. */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  nowMs(): number
}

/** The process's monotonic clock. */
export const systemClock: Clock = { nowMs: () => performance.now() }

/** A clock that moves only when told to: for tests and simulations. */
export class ManualClock implements Clock {
  #nowMs: number
  constructor(startMs = 0) {
    this.#nowMs = startMs
  }
  nowMs(): number {
    return this.#nowMs
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance expects ms >= 0, got ${ms}`)
    this.#nowMs += ms
  }
}
