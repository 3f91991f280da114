import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { decode, encode, t } from '@terrane/codec'
import type { LastSignState, SignerStateStore } from '@terrane/consensus'

const lastSignStateSchema = t.struct({
  height: t.uint(),
  round: t.uint(),
  step: t.uint(),
  signBytes: t.bytes({ lengthMax: 4096 }),
  signature: t.bytes({ length: 64 }),
})

/**
 * The validator signer's last-signed state in a file, replaced atomically and
 * fsynced (file and directory) before `save` returns: a signature never leaves
 * the process before the state that forbids a conflicting one is on disk. The
 * signer calls `save` synchronously, so this uses the synchronous fs API.
 */
export function signerStateFile(path: string): SignerStateStore {
  return {
    load(): LastSignState | null {
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(readFileSync(path))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw err
      }
      return decode(lastSignStateSchema, bytes)
    },
    save(state: LastSignState): void {
      const temporary = `${path}.tmp`
      const fd = openSync(temporary, 'w')
      try {
        writeSync(fd, encode(lastSignStateSchema, state))
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(temporary, path)
      const dir = openSync(dirname(path), 'r')
      try {
        fsyncSync(dir)
      } finally {
        closeSync(dir)
      }
    },
  }
}
