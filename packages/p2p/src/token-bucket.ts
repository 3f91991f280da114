import type { Clock } from './clock.ts'

/**
 * A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`.
 * Each accepted message takes one token. Time comes from the Clock, so a test
 * that never advances its clock gets exactly `capacity` messages through.
 */
export class TokenBucket {
  readonly capacity: number
  readonly refillPerSecond: number
  #tokens: number
  #lastMs: number
  readonly #clock: Clock

  constructor(clock: Clock, capacity: number, refillPerSecond: number) {
    if (!(capacity >= 1) || !(refillPerSecond >= 0)) {
      throw new RangeError(`TokenBucket needs capacity >= 1 and refillPerSecond >= 0, got ${capacity}, ${refillPerSecond}`)
    }
    this.#clock = clock
    this.capacity = capacity
    this.refillPerSecond = refillPerSecond
    this.#tokens = capacity
    this.#lastMs = clock.nowMs()
  }

  /** Takes `count` tokens if available; returns whether it did. */
  tryTake(count = 1): boolean {
    this.#refill()
    if (this.#tokens < count) return false
    this.#tokens -= count
    return true
  }

  get tokens(): number {
    this.#refill()
    return this.#tokens
  }

  #refill(): void {
    const nowMs = this.#clock.nowMs()
    const elapsedMs = nowMs - this.#lastMs
    if (elapsedMs <= 0) return
    this.#lastMs = nowMs
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsedMs * this.refillPerSecond) / 1000)
  }
}
