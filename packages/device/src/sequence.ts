import { open, readFile, rename } from 'node:fs/promises'
import { DeviceError } from './errors.ts'

/**
 * Report sequence numbers, strictly increasing for the life of the device key, across restarts
 * and crashes. The ingest drops any report whose seq it has seen (or that is below its window),
 * so a device that reused a seq after a crash would lose reports; one that skipped ahead loses
 * nothing. Hence: reserve a block on disk first, then hand out numbers from memory.
 */
export interface SequenceStore {
  /** The next seq: greater than every seq this device ever returned. */
  next(): Promise<number>
}

/** In-memory sequence (the simulator; tests). Starts after `start`. */
export class MemorySequenceStore implements SequenceStore {
  #last: number
  constructor(start = 0) {
    this.#last = start
  }
  async next(): Promise<number> {
    return ++this.#last
  }
}

export interface FileSequenceStoreInit {
  path: string
  /** Numbers reserved per disk write; a crash skips at most this many. @default 1000 */
  blockSize?: number
}

/**
 * Persists `reservedThrough` (a decimal number) in `path`, written atomically (temp file, fsync,
 * rename) before any number of the new block is handed out. After a restart numbering resumes
 * above the last reservation.
 */
export class FileSequenceStore implements SequenceStore {
  readonly #path: string
  readonly #blockSize: number
  #last = -1
  #reservedThrough = -1
  #pending: Promise<number> = Promise.resolve(0)

  constructor(init: FileSequenceStoreInit) {
    this.#path = init.path
    this.#blockSize = init.blockSize ?? 1000
    if (!Number.isSafeInteger(this.#blockSize) || this.#blockSize < 1)
      throw new DeviceError('DEVICE_CONFIG', 'blockSize must be a positive integer')
  }

  next(): Promise<number> {
    // Serialised: concurrent callers get distinct, increasing numbers.
    this.#pending = this.#pending.then(() => this.#next())
    return this.#pending
  }

  async #next(): Promise<number> {
    if (this.#last < 0) {
      const stored = await this.#read()
      this.#last = stored
      this.#reservedThrough = stored
    }
    if (this.#last + 1 > this.#reservedThrough) await this.#reserve(this.#last + this.#blockSize)
    return ++this.#last
  }

  async #read(): Promise<number> {
    let text: string
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw new DeviceError('DEVICE_SEQUENCE_FILE', `cannot read ${this.#path}`, { cause: err })
    }
    const value = Number(text.trim())
    if (!Number.isSafeInteger(value) || value < 0)
      throw new DeviceError('DEVICE_SEQUENCE_FILE', `${this.#path} does not hold a sequence number`)
    return value
  }

  async #reserve(through: number): Promise<void> {
    const tmp = `${this.#path}.tmp`
    try {
      const handle = await open(tmp, 'w', 0o600)
      try {
        await handle.writeFile(`${through}\n`)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, this.#path)
    } catch (err) {
      throw new DeviceError('DEVICE_SEQUENCE_FILE', `cannot write ${this.#path}`, { cause: err })
    }
    this.#reservedThrough = through
  }
}
