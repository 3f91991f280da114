import { cellToParent, gridDisk } from 'h3-js'

/** HIP-17 as revised by HIP-104: (N, target, max) per resolution 4..10. */
export const hexDensityTable: ReadonlyArray<{ resolution: number; neighbours: number; target: number; max: number }> = [
  { resolution: 4, neighbours: 2, target: 500, max: 1000 },
  { resolution: 5, neighbours: 4, target: 100, max: 200 },
  { resolution: 6, neighbours: 4, target: 25, max: 50 },
  { resolution: 7, neighbours: 4, target: 5, max: 10 },
  { resolution: 8, neighbours: 2, target: 1, max: 1 },
  { resolution: 9, neighbours: 2, target: 1, max: 1 },
  { resolution: 10, neighbours: 2, target: 1, max: 1 },
]

/** A device's transmit scale as an exact fraction (product over resolutions of clipped / unclipped). */
export interface DensityScale {
  numerator: bigint
  denominator: bigint
}

/**
 * Hex density scaling (HIP-17/104). Leaves are the res-11 parents of active devices' asserted cells;
 * the unclipped value of a hex at resolution r is the sum of its children's clipped values (res 11:
 * device counts), clipped to min(max, target * max(1, occupied - N + 1)), where occupied counts the
 * cells of its k=1 ring (itself included, as in HIP-17) whose unclipped value reaches the target.
 * A device's scale is the product of clipped/unclipped over its parents at resolutions 10..4.
 */
export function hexDensityScales(activeLocations: ReadonlyMap<string, string>): Map<string, DensityScale> {
  // value[r]: hex -> unclipped, clipped
  const leafCounts = new Map<string, number>()
  const parentsOf = new Map<string, string[]>()
  for (const [deviceId, cell] of activeLocations) {
    const parents: string[] = []
    for (let r = 4; r <= 11; r++) parents.push(cellToParent(cell, r))
    parentsOf.set(deviceId, parents)
    const leaf = parents[7] as string
    leafCounts.set(leaf, (leafCounts.get(leaf) ?? 0) + 1)
  }
  const ratios = new Map<string, { clipped: number; unclipped: number }>()
  let childValues = leafCounts // res 11: plain counts, no clipping
  for (let i = hexDensityTable.length - 1; i >= 0; i--) {
    const { resolution, neighbours, target, max } = hexDensityTable[i] as (typeof hexDensityTable)[number]
    const unclipped = new Map<string, number>()
    for (const [child, value] of childValues) {
      const parent = cellToParent(child, resolution)
      unclipped.set(parent, (unclipped.get(parent) ?? 0) + value)
    }
    const clippedValues = new Map<string, number>()
    for (const [hex, value] of unclipped) {
      let occupied = 0
      for (const n of gridDisk(hex, 1)) if ((unclipped.get(n) ?? 0) >= target) occupied++
      const limit = Math.min(max, target * Math.max(1, occupied - neighbours + 1))
      const clipped = Math.min(value, limit)
      clippedValues.set(hex, clipped)
      ratios.set(hex, { clipped, unclipped: value })
    }
    childValues = clippedValues
  }
  const scales = new Map<string, DensityScale>()
  for (const [deviceId, parents] of parentsOf) {
    let numerator = 1n
    let denominator = 1n
    for (let r = 4; r <= 10; r++) {
      const ratio = ratios.get(parents[r - 4] as string)
      if (ratio === undefined || ratio.unclipped === 0) continue
      numerator *= BigInt(ratio.clipped)
      denominator *= BigInt(ratio.unclipped)
    }
    scales.set(deviceId, { numerator, denominator })
  }
  return scales
}

/** A scale in parts per million, rounded down. */
export function scalePpm(scale: DensityScale): number {
  return Number((scale.numerator * 1_000_000n) / scale.denominator)
}
