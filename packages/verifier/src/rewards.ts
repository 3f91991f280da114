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
  const keys: string[] = []
  const remainders: bigint[] = []
  for (const [key, w] of weights) {
    const exact = pool * w
    const share = exact / total
    shares.set(key, share)
    given += share
    keys.push(key)
    remainders.push(exact - share * total)
  }
  // Largest remainder first, ties by key. Number(bigint) rounds monotonically, so comparing the doubles
  // orders all but the near-ties, which the exact comparison settles (no bigint compare for most pairs).
  const approximate = Float64Array.from(remainders, (r) => Number(r))
  const order = Array.from(keys, (_, i) => i)
  order.sort((x, y) => {
    const byApproximate = (approximate[y] as number) - (approximate[x] as number)
    if (byApproximate !== 0) return byApproximate
    const rx = remainders[x] as bigint
    const ry = remainders[y] as bigint
    if (rx !== ry) return rx > ry ? -1 : 1
    return (keys[x] as string) < (keys[y] as string) ? -1 : 1
  })
  for (let i = 0; given < pool; i++, given++) {
    const key = keys[order[i] as number] as string
    shares.set(key, (shares.get(key) as bigint) + 1n)
  }
  return shares
}
