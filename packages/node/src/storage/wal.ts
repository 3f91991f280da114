import { open, type FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'

/** Bound on one WAL record; consensus messages are far smaller (a block part is 64 KiB). */
export const walRecordBytesMax = 4 * 1024 * 1024
const headerBytes = 8

/**
 * An append-only write-ahead log with length + CRC32 framing (Jepsen found
 * Tendermint's WAL without checksums in 2017). A crash can leave a torn last
 * record: on open, the log is read up to the first bad frame and truncated there,
 * so every record returned was written whole.
 */
export class WriteAheadLog {
  private constructor(
    private readonly file: FileHandle,
    private size: number,
  ) {}

  /** Opens (or creates) the log and returns the intact records in order. */
  static async open(path: string): Promise<{ wal: WriteAheadLog; records: Uint8Array[]; truncatedBytes: number }> {
    const file = await open(path, 'a+')
    const data = new Uint8Array(await file.readFile())
    const records: Uint8Array[] = []
    let offset = 0
    while (offset + headerBytes <= data.length) {
      const view = new DataView(data.buffer, data.byteOffset + offset, headerBytes)
      const length = view.getUint32(0)
      const checksum = view.getUint32(4)
      if (length > walRecordBytesMax || offset + headerBytes + length > data.length) break
      const payload = data.subarray(offset + headerBytes, offset + headerBytes + length)
      if (crc32(payload) !== checksum) break
      records.push(payload.slice())
      offset += headerBytes + length
    }
    const truncatedBytes = data.length - offset
    if (truncatedBytes > 0) {
      await file.truncate(offset)
      await file.sync()
    }
    return { wal: new WriteAheadLog(file, offset), records, truncatedBytes }
  }

  get sizeBytes(): number {
    return this.size
  }

  /** Appends one record; with `sync`, returns only once it is on disk. */
  async append(record: Uint8Array, init: { sync: boolean }): Promise<void> {
    if (record.length > walRecordBytesMax) throw new RangeError(`WAL record of ${record.length} bytes exceeds ${walRecordBytesMax}`)
    const frame = new Uint8Array(headerBytes + record.length)
    const view = new DataView(frame.buffer)
    view.setUint32(0, record.length)
    view.setUint32(4, crc32(record))
    frame.set(record, headerBytes)
    await this.file.write(frame, 0, frame.length, this.size)
    this.size += frame.length
    if (init.sync) await this.file.sync()
  }

  /**
   * Empties the log (after a height is committed to the block store). A log that is
   * already empty on disk (nothing appended since the last reset or open) is left
   * alone: block sync applies thousands of heights that never touch the WAL, and an
   * fsync per height would cap it at the disk's fsync rate.
   */
  async reset(): Promise<void> {
    if (this.size === 0) return
    await this.file.truncate(0)
    await this.file.sync()
    this.size = 0
  }

  async close(): Promise<void> {
    await this.file.close()
  }
}
