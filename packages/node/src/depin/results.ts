import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex, toHex } from '@terrane/codec'
import { DepinError } from './errors.ts'

/**
 * JSON with tags for what JSON lacks (bigint, bytes, Map), so an epoch's result and the verifier's
 * carried history survive a restart exactly.
 */
export function toTaggedJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key]
    if (typeof raw === 'bigint') return { $big: raw.toString() }
    if (raw instanceof Uint8Array) return { $hex: toHex(raw) }
    if (raw instanceof Map) return { $map: [...raw.entries()] }
    return v
  })
}

export function fromTaggedJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>
      if (typeof o.$big === 'string') return BigInt(o.$big)
      if (typeof o.$hex === 'string') return fromHex(o.$hex)
      if (Array.isArray(o.$map)) return new Map(o.$map as Array<[unknown, unknown]>)
    }
    return v
  })
}

/** One coverage epoch as this node's verifier computed it: what the API and `diagnose` answer from. */
export interface EpochRecord {
  epoch: number
  /** Height of the boundary block that closed the epoch. */
  height: number
  digestHash: string
  poolMicro: bigint
  payouts: Array<{
    deviceId: string
    owner: string
    earnedMicro: bigint
    paidMicro: bigint
    escrowedMicro: bigint
    releasedMicro: bigint
    forfeitedMicro: bigint
  }>
  verdicts: Array<{ reportId: string; deviceId: string; kind: string; status: string; reason: string; beaconReportId: string }>
  /** `diagnose(deviceId, result)` lines per device with data in the epoch. */
  diagnosis: Record<string, string[]>
}

/** Epochs kept on disk and in memory; older ones are dropped from memory (the files stay). */
export const epochRecordsMax = 1_000

/** Epoch records and small state files under `<data>/depin`, written atomically (temp file + rename). */
export class EpochRecordStore {
  readonly #dir: string
  readonly #records = new Map<number, EpochRecord>()

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'depin')
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true })
    const names = (await readdir(this.#dir)).filter((n) => /^epoch-[0-9]+\.json$/.test(n))
    names.sort((a, b) => Number(a.slice(6, -5)) - Number(b.slice(6, -5)))
    for (const name of names.slice(-epochRecordsMax)) {
      const record = fromTaggedJson(await readFile(join(this.#dir, name), 'utf8')) as EpochRecord
      if (typeof record.epoch !== 'number') throw new DepinError('DEPIN_BAD_RESULT_FILE', `${name} is not an epoch record`)
      this.#records.set(record.epoch, record)
    }
  }

  get(epoch: number): EpochRecord | undefined {
    return this.#records.get(epoch)
  }

  /** Newest first. */
  all(): EpochRecord[] {
    return [...this.#records.values()].sort((a, b) => b.epoch - a.epoch)
  }

  async put(record: EpochRecord): Promise<void> {
    await this.writeState(`epoch-${record.epoch}`, record)
    this.#records.set(record.epoch, record)
    if (this.#records.size > epochRecordsMax) this.#records.delete(Math.min(...this.#records.keys()))
  }

  async writeState(name: string, value: unknown): Promise<void> {
    const path = join(this.#dir, `${name}.json`)
    await writeFile(`${path}.tmp`, toTaggedJson(value))
    await rename(`${path}.tmp`, path)
  }

  async readState(name: string): Promise<unknown> {
    try {
      return fromTaggedJson(await readFile(join(this.#dir, `${name}.json`), 'utf8'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }
}
