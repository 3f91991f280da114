import { decode, type Schema } from '@terrane/codec'
import { keys } from './keys.ts'
import type { ModuleStore } from './module.ts'
import type { ChainStore } from './store.ts'

const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'))

/**
 * A read-only ModuleStore over a chain store's committed state: how the node and
 * the API query a module's records outside block execution. Writes throw.
 */
export function committedModuleStore(store: ChainStore, moduleName: string): ModuleStore {
  const prefixLength = keys.module(moduleName, '').length
  return {
    get<T>(schema: Schema<T>, key: Uint8Array | string): T | undefined {
      const bytes = store.get(latin1(keys.module(moduleName, key)))
      return bytes === undefined ? undefined : decode(schema, bytes)
    },
    set() {
      throw new Error('committedModuleStore is read-only')
    },
    delete() {
      throw new Error('committedModuleStore is read-only')
    },
    scan<T>(schema: Schema<T>, prefix: Uint8Array | string): Array<[string, T]> {
      const out: Array<[string, T]> = []
      for (const [key, value] of store.iterate(latin1(keys.module(moduleName, prefix))))
        out.push([Buffer.from(key).toString('latin1').slice(prefixLength), decode(schema, value)])
      return out
    },
  }
}
