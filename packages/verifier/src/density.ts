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

// Hexes are numbered instead of named: an H3 cell index (H3 spec, "H3 index representation") holds the
// mode (bits 59-62), the resolution (52-55), the base cell (45-51) and 15 digits of 3 bits (digit 1 at
// 42-44 ... digit 15 at 0-2; the digits below the resolution are 7). The base cell and digits 1..r of a
// resolution-r cell, read as one number, are below 2^40 for r <= 11, and the parent of the hex numbered k
// is floor(k / 8): no H3 call and no string per hex and level. H3 is called once per device (to check
// its cell and take the resolution-11 parent) and for the k=1 ring of the few hexes above their target.
const leafResolution = 11
const two32 = 2 ** 32
const digitsOf = (resolution: number): number => 8 ** (15 - resolution)

/** The number of a resolution-r cell (its base cell and digits 1..r), or undefined if the string is not one. */
function hexNumber(cell: string, resolution: number): number | undefined {
  const split = cell.length - 8
  if (split < 1 || split > 8) return undefined
  const high = Number.parseInt(cell.slice(0, split), 16)
  const low = Number.parseInt(cell.slice(split), 16)
  if (!Number.isInteger(high) || !Number.isInteger(low) || high >>> 27 !== 1 || ((high >>> 20) & 0xf) !== resolution) return undefined
  return Math.floor(((high & 0xfffff) * two32 + low) / digitsOf(resolution))
}

/** The H3 string of the resolution-r hex numbered `n` (its digits below r set to 7, as H3 does). */
function hexCell(n: number, resolution: number): string {
  const scale = digitsOf(resolution)
  const payload = n * scale + (scale - 1) // below 2^52: exact
  const high = 0x0800_0000 | (resolution << 20) | Math.floor(payload / two32)
  return high.toString(16) + (payload % two32).toString(16).padStart(8, '0')
}

/** Per resolution 4..10 (index resolution - 4): hex number -> clipped * 2^32 + unclipped (one lookup for both). */
interface DensityLevels {
  ids: string[]
  /** Resolution-11 hex number of each device, in `ids` order. */
  leaves: Float64Array
  values: Array<Map<number, number>>
}

/**
 * Hex density (HIP-17/104). Leaves are the res-11 parents of active devices' asserted cells; the unclipped
 * value of a hex at resolution r is the sum of its children's clipped values (res 11: device counts),
 * clipped to min(max, target * max(1, occupied - N + 1)), where occupied counts the cells of its k=1 ring
 * (itself included, as in HIP-17) whose unclipped value reaches the target.
 */
function densityLevels(activeLocations: ReadonlyMap<string, string>): DensityLevels {
  const ids: string[] = []
  const leaves = new Float64Array(activeLocations.size)
  let childValues = new Map<number, number>() // res 11: plain counts, no clipping
  for (const [deviceId, cell] of activeLocations) {
    const leaf = hexNumber(cellToParent(cell, leafResolution), leafResolution) // cellToParent throws on a bad cell
    if (leaf === undefined) throw new RangeError(`not an H3 cell: ${cell}`)
    leaves[ids.length] = leaf
    ids.push(deviceId)
    childValues.set(leaf, (childValues.get(leaf) ?? 0) + 1)
  }
  const levels: Array<Map<number, number>> = []
  for (let i = hexDensityTable.length - 1; i >= 0; i--) {
    const { resolution, neighbours, target, max } = hexDensityTable[i] as (typeof hexDensityTable)[number]
    const values = new Map<number, number>()
    for (const [child, value] of childValues) {
      const parent = Math.floor(child / 8)
      values.set(parent, (values.get(parent) ?? 0) + value)
    }
    const clippedValues = new Map<number, number>()
    const packed = new Map<number, number>()
    for (const [hex, value] of values) {
      // limit >= min(max, target): at or below it the ring cannot change the clipped value, and with
      // max <= target (resolutions 8-10) the limit is max whatever the ring. Only denser hexes need it.
      let limit = max
      if (max > target && value > target) {
        let occupied = 0
        for (const cell of gridDisk(hexCell(hex, resolution), 1)) {
          const n = hexNumber(cell, resolution)
          if (n !== undefined && (values.get(n) ?? 0) >= target) occupied++
        }
        limit = Math.min(max, target * Math.max(1, occupied - neighbours + 1))
      }
      const clipped = Math.min(value, limit)
      clippedValues.set(hex, clipped)
      packed.set(hex, clipped * two32 + value) // clipped <= 1000, value <= devices < 2^32: below 2^42, exact
    }
    levels[resolution - 4] = packed
    childValues = clippedValues
  }
  if (ids.length >= two32) throw new RangeError('more than 2^32 devices')
  return { ids, leaves, values: levels }
}

/** The fraction of the device at `index`: products of clipped and unclipped values over resolutions 10..4. */
function fractionOf(levels: DensityLevels, index: number): { numerator: number | bigint; denominator: number | bigint } {
  let numerator = 1
  let denominator = 1
  let hex = levels.leaves[index] as number
  for (let r = 10; r >= 4; r--) {
    hex = Math.floor(hex / 8)
    const v = levels.values[r - 4]?.get(hex) as number
    const c = Math.floor(v / two32)
    numerator *= c
    denominator *= v - c * two32
  }
  // Clipped values are at most 1000, 200, 50, 10, 1, 1, 1 (the table's max): the numerator is below 1e8.
  // Unclipped values are not bounded that way; past 2^53 the denominator is recomputed exactly.
  if (Number.isSafeInteger(denominator)) return { numerator, denominator }
  let exact = 1n
  hex = levels.leaves[index] as number
  for (let r = 10; r >= 4; r--) {
    hex = Math.floor(hex / 8)
    const v = levels.values[r - 4]?.get(hex) as number
    exact *= BigInt(v - Math.floor(v / two32) * two32)
  }
  return { numerator, denominator: exact }
}

/** floor(numerator * 1e6 / denominator), exact. */
function ppmOf(numerator: number | bigint, denominator: number | bigint): number {
  if (typeof numerator === 'number' && typeof denominator === 'number' && denominator <= two32 * 2) {
    // numerator * 1e6 < 1e14 and q * denominator < 2^53: plain doubles are exact here, after the correction.
    const a = numerator * 1_000_000
    let q = Math.floor(a / denominator)
    const r = a - q * denominator
    if (r < 0) q--
    else if (r >= denominator) q++
    return q
  }
  return Number((BigInt(numerator) * 1_000_000n) / BigInt(denominator))
}

/**
 * Hex density scaling (HIP-17/104). A device's scale is the product of clipped/unclipped over its parents
 * at resolutions 10..4 (see {@link densityLevels} for the values).
 */
export function hexDensityScales(activeLocations: ReadonlyMap<string, string>): Map<string, DensityScale> {
  const levels = densityLevels(activeLocations)
  const scales = new Map<string, DensityScale>()
  for (let i = 0; i < levels.ids.length; i++) {
    const { numerator, denominator } = fractionOf(levels, i)
    scales.set(levels.ids[i] as string, { numerator: BigInt(numerator), denominator: BigInt(denominator) })
  }
  return scales
}

/** `scalePpm` of every device's `hexDensityScales` scale, without building the fractions (for scoring). */
export function hexDensityPpm(activeLocations: ReadonlyMap<string, string>): Map<string, number> {
  const levels = densityLevels(activeLocations)
  const ppm = new Map<string, number>()
  for (let i = 0; i < levels.ids.length; i++) {
    const { numerator, denominator } = fractionOf(levels, i)
    ppm.set(levels.ids[i] as string, ppmOf(numerator, denominator))
  }
  return ppm
}

/** A scale in parts per million, rounded down. */
export function scalePpm(scale: DensityScale): number {
  return Number((scale.numerator * 1_000_000n) / scale.denominator)
}
