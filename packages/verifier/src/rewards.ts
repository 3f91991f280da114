/** Helium reward-unit constants: R = 4 witnesses target, decay 0.8, cap 2 (ppm). */
export const rewardUnitTarget = 4
const unitPpm = 1_000_000
const capPpm = 2_000_000

/** 0.8^k in ppm, rounded down at each step (integer, so every node gets the same value). */
function decayPpm(k: number): number {
  let value = unitPpm
  for (let i = 0; i < k && value > 0; i++) value = Math.floor((value * 4) / 5)
  return value
}

/** Beaconer reward units for n selected witnesses, ppm: 0 | n/R | min(2, 2 - 0.8^(n-R)). */
export function beaconUnitsPpm(n: number): number {
  if (n <= 0) return 0
  if (n <= rewardUnitTarget) return Math.floor((n * unitPpm) / rewardUnitTarget)
  return Math.min(capPpm, capPpm - decayPpm(n - rewardUnitTarget))
}

/** Units per selected witness, ppm: 1 if n <= R, else min(2, (R - (1 - 0.8^(n-R))) / n). */
export function witnessUnitsPpm(n: number): number {
  if (n <= 0) return 0
  if (n <= rewardUnitTarget) return unitPpm
  const numerator = rewardUnitTarget * unitPpm - (unitPpm - decayPpm(n - rewardUnitTarget))
  return Math.min(capPpm, Math.floor(numerator / n))
}

/**
 * Splits `pool` among weights exactly (largest remainder): each gets floor(pool * w / W), then the
 * leftover micro-units go one each to the largest remainders, ties broken by key order. The sum of
 * the shares is exactly `pool` whenever some weight is positive, else every share is 0.
 */
export function allocate(pool: bigint, weights: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const shares = new Map<string, bigint>()
  let total = 0n
  for (const w of weights.values()) {
    if (w < 0n) throw new RangeError('negative weight')
    total += w
  }
  if (total === 0n || pool === 0n) {
    for (const k of weights.keys()) shares.set(k, 0n)
    return shares
  }
  let given = 0n
  const remainders: Array<{ key: string; remainder: bigint }> = []
  for (const [key, w] of weights) {
    const exact = pool * w
    const share = exact / total
    shares.set(key, share)
    given += share
    remainders.push({ key, remainder: exact % total })
  }
  remainders.sort((a, b) => (a.remainder === b.remainder ? (a.key < b.key ? -1 : 1) : a.remainder > b.remainder ? -1 : 1))
  for (let i = 0; given < pool; i++, given++) {
    const r = remainders[i] as { key: string }
    shares.set(r.key, (shares.get(r.key) as bigint) + 1n)
  }
  return shares
}
