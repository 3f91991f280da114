import { ServiceError } from './errors.ts'

export interface ServiceScoreInput {
  deviceId: string
  epoch: number
  /** From uptimeOfEpoch. */
  uptimeBps: number
  /** From slaFiguresOf (share of probes answered); 10_000 if the device was not probed this epoch. */
  availabilityBps: number
  /** From speedScore. */
  speedMultiplierBps: number
  /** Units delivered under countersigned receipts this epoch (ReceiptLedger). */
  deliveredUnits: bigint
}

export interface ServiceScoreInit {
  /** Units of delivery that earn the full delivery part. @default 1_000_000n */
  deliveredUnitsTarget?: bigint
  /** Weight of delivery against readiness (uptime x availability x speed), basis points. @default 6_000 */
  deliveryWeightBps?: number
}

export interface ServiceScore {
  deviceId: string
  epoch: number
  /** 0..10_000. */
  scoreBps: number
  readinessBps: number
  deliveryBps: number
}

/**
 * The proof-of-service score of a device for an epoch: readiness (uptime x availability x speed,
 * all in basis points) blended with delivery (countersigned, paid-for units, capped at a target).
 * Delivery weighs most by default because delivered, paid service is the hardest signal to fake
 * (Helium moved its rewards to data delivered, HIP-149).
 */
export function serviceScore(input: ServiceScoreInput, init: ServiceScoreInit = {}): ServiceScore {
  const target = init.deliveredUnitsTarget ?? 1_000_000n
  const deliveryWeightBps = init.deliveryWeightBps ?? 6_000
  if (target <= 0n || deliveryWeightBps < 0 || deliveryWeightBps > 10_000) throw new ServiceError('SERVICE_BAD_CONFIG', 'bad score weights')
  for (const v of [input.uptimeBps, input.availabilityBps, input.speedMultiplierBps])
    if (!Number.isInteger(v) || v < 0 || v > 10_000) throw new ServiceError('SERVICE_BAD_CONFIG', 'basis points must be 0..10000')
  const readinessBps = Math.floor((((input.uptimeBps * input.availabilityBps) / 10_000) * input.speedMultiplierBps) / 10_000)
  const delivered = input.deliveredUnits > target ? target : input.deliveredUnits < 0n ? 0n : input.deliveredUnits
  const deliveryBps = Number((delivered * 10_000n) / target)
  const scoreBps = Math.floor((readinessBps * (10_000 - deliveryWeightBps) + deliveryBps * deliveryWeightBps) / 10_000)
  return { deviceId: input.deviceId, epoch: input.epoch, scoreBps, readinessBps, deliveryBps }
}

/**
 * A device's reward weight combining coverage and service: coverage units (from the coverage
 * verifier) scaled by the service score. A device that covers but does not serve earns
 * `floorBps` of its coverage weight.
 */
export function rewardWeight(coverageUnits: bigint, scoreBps: number, floorBps = 2_000): bigint {
  if (floorBps < 0 || floorBps > 10_000 || scoreBps < 0 || scoreBps > 10_000)
    throw new ServiceError('SERVICE_BAD_CONFIG', 'basis points must be 0..10000')
  const factor = BigInt(floorBps + Math.floor(((10_000 - floorBps) * scoreBps) / 10_000))
  return (coverageUnits * factor) / 10_000n
}
