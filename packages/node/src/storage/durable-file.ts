import { open, rename, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * A small value replaced atomically on disk: written to a temporary file, fsynced,
 * renamed over the old one, and the directory fsynced. After a crash the file
 * holds either the old or the new value, never a mix. The signer's last-signed
 * state lives in one, so it is durable before any signature leaves the process.
 */
export class DurableFile {
  constructor(private readonly path: string) {}

  async read(): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    const temporary = `${this.path}.tmp`
    const file = await open(temporary, 'w')
    try {
      await file.write(bytes)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, this.path)
    const dir = await open(dirname(this.path), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }
}
