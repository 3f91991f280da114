import { performance } from 'node:perf_hooks'

export interface MeasureInit {
  /** Minimum wall time to sample, in milliseconds. @default 1000 */
  durationMsMin?: number
  /** Warm-up time before sampling, in milliseconds. @default 200 */
  warmupMs?: number
}

export interface Measurement {
  /** Operations per second over the sampled period. */
  opsPerSecond: number
  /** Operations performed while sampling. */
  operations: number
  elapsedMs: number
}

/**
 * Calls `fn` repeatedly for at least `durationMsMin`; `fn` returns how many
 * operations it performed (so one call may do a whole batch).
 */
export function measure(fn: () => number, init: MeasureInit = {}): Measurement {
  const durationMsMin = init.durationMsMin ?? 1000
  const warmupMs = init.warmupMs ?? 200
  const warmupEnd = performance.now() + warmupMs
  while (performance.now() < warmupEnd) fn()
  let operations = 0
  const start = performance.now()
  let now = start
  while (now - start < durationMsMin) {
    operations += fn()
    now = performance.now()
  }
  const elapsedMs = now - start
  return { opsPerSecond: (operations * 1000) / elapsedMs, operations, elapsedMs }
}

/** Async variant of {@link measure}. */
export async function measureAsync(fn: () => Promise<number>, init: MeasureInit = {}): Promise<Measurement> {
  const durationMsMin = init.durationMsMin ?? 1000
  const warmupMs = init.warmupMs ?? 200
  const warmupEnd = performance.now() + warmupMs
  while (performance.now() < warmupEnd) await fn()
  let operations = 0
  const start = performance.now()
  let now = start
  while (now - start < durationMsMin) {
    operations += await fn()
    now = performance.now()
  }
  const elapsedMs = now - start
  return { opsPerSecond: (operations * 1000) / elapsedMs, operations, elapsedMs }
}

/** Percentile (0..100) of a list of numbers, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}
