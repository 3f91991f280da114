import type { PathLossModel } from './params.ts'
import { distanceMeters, type LatLng } from './geo.ts'
import { distanceForLossMeters, normalQuantile } from './model.ts'
import type { SilentObservation } from './location.ts'

/** A device that listened this epoch (reported hearing something) and may have beaconed. */
export interface Listener {
  id: string
  location: LatLng
  region: string
  antennaGainDbi: number
  /** Its beacon's EIRP and frequency this epoch, if it beaconed. */
  beacon?: { eirpDbm: number; frequencyHz: number } | undefined
}

/** The device whose audience is asked for: what it transmitted, and whether its own silence counts. */
export interface AudienceSubject {
  id: string
  region: string
  antennaGainDbi: number
  beacon?: { eirpDbm: number; frequencyHz: number } | undefined
  /** It listens honestly: a beacon it did not hear is evidence (deaf and selective listeners' is not). */
  isListening: boolean
}

/**
 * Hearing probability below which a silent listener is left out: its miss costs about this much
 * (-ln(1 - p) ~ p), nothing a fit could notice.
 */
export const silentReachProbability = 1e-3

/** Listeners by place, to find those that had the chance to hear a device and did not. */
export class AudienceIndex {
  private readonly cells = new Map<string, Listener[]>()
  private readonly cellDeg: number

  /** `reachMetersMax`: the farthest any link in the network is heard with `silentReachProbability`. */
  constructor(
    private readonly model: PathLossModel,
    listeners: Iterable<Listener>,
    readonly reachMetersMax: number,
  ) {
    this.cellDeg = Math.max(reachMetersMax / 111_000, 1e-4)
    for (const l of listeners) {
      const key = this.key(l.location, 0, 0)
      const list = this.cells.get(key)
      if (list === undefined) this.cells.set(key, [l])
      else list.push(l)
    }
  }

  /** Reach of a link budget: where its hearing probability falls to `silentReachProbability`. */
  static reachMeters(model: PathLossModel, linkBudgetDbm: number, frequencyHz: number): number {
    return distanceForLossMeters(
      model,
      linkBudgetDbm - model.sensitivityDbm - model.shadowingDb * normalQuantile(silentReachProbability),
      frequencyHz,
    )
  }

  private key(p: LatLng, dx: number, dy: number): string {
    const lngDeg = this.cellDeg / Math.max(0.2, Math.cos((p.lat * Math.PI) / 180))
    return `${Math.floor(p.lat / this.cellDeg) + dx},${Math.floor(p.lng / lngDeg) + dy}`
  }

  /**
   * Listeners within reach of `centre` that share no link with the subject (`linked`), with the budget of
   * the stronger direction that had the chance: the subject's beacon to them, or theirs to the subject.
   * `exclude` holds listeners already returned for another centre.
   */
  silentNear(subject: AudienceSubject, centre: LatLng, linked: (id: string) => boolean, exclude: Set<string>): SilentObservation[] {
    const out: SilentObservation[] = []
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const l of this.cells.get(this.key(centre, dx, dy)) ?? []) {
          if (l.id === subject.id || l.region !== subject.region || exclude.has(l.id) || linked(l.id)) continue
          let budgetDbm = -Infinity
          let frequencyHz = 0
          if (subject.beacon !== undefined) {
            budgetDbm = subject.beacon.eirpDbm + l.antennaGainDbi
            frequencyHz = subject.beacon.frequencyHz
          }
          if (l.beacon !== undefined && subject.isListening && l.beacon.eirpDbm + subject.antennaGainDbi > budgetDbm) {
            budgetDbm = l.beacon.eirpDbm + subject.antennaGainDbi
            frequencyHz = l.beacon.frequencyHz
          }
          if (budgetDbm === -Infinity) continue
          if (distanceMeters(centre, l.location) > AudienceIndex.reachMeters(this.model, budgetDbm, frequencyHz)) continue
          exclude.add(l.id)
          out.push({ location: l.location, linkBudgetDbm: budgetDbm, frequencyHz })
        }
    return out
  }
}
