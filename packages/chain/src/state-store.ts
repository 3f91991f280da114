import type { StateStore } from '@terrane/state'
import { ChainError } from './errors.ts'
import type { ChainStore, StoreWrite } from './store.ts'

/** A @terrane/state StateStore, optionally with a synchronous read (not in its interface yet). */
export type StateStoreLike = Pick<StateStore, 'version' | 'root' | 'batch'> & {
  getSync?(key: Uint8Array): Uint8Array | undefined
}

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

/**
 * Runs the chain over the authenticated store of @terrane/state: state roots are
 * its sparse-Merkle roots, so every account, validator or delegation can be
 * proven against a header's stateRoot with `store.prove(key)`.
 *
 * Execution reads are synchronous, the StateStore's are not: on a fresh store
 * (version 0) the adapter keeps a mirror of every committed key in memory (it has
 * seen every write), which also serves prefix iteration. Reopening a non-empty
 * store needs `getSync` from the StateStore; prefix iteration (delegator queries,
 * checkInvariants; never execution) is then unavailable: CHAIN_BAD_STATE.
 */
export function stateStoreAdapter(store: StateStoreLike): ChainStore {
  const mirror = store.version === 0 ? new Map<string, Uint8Array>() : undefined
  if (mirror === undefined && store.getSync === undefined)
    throw new ChainError('CHAIN_BAD_STATE', 'reopening a non-empty StateStore needs a synchronous get (getSync)')
  let sortedKeys: string[] | undefined
  let staged: { batch: ReturnType<StateStore['batch']>; writes: readonly StoreWrite[] } | undefined

  return {
    get(key) {
      return mirror !== undefined ? mirror.get(keyString(key)) : store.getSync?.(key)
    },
    *iterate(prefix) {
      if (mirror === undefined) throw new ChainError('CHAIN_BAD_STATE', 'this store cannot iterate key prefixes')
      sortedKeys ??= [...mirror.keys()].sort()
      const p = keyString(prefix)
      for (const k of sortedKeys) {
        if (k < p) continue
        if (!k.startsWith(p)) break
        const v = mirror.get(k)
        if (v !== undefined) yield [Uint8Array.from(Buffer.from(k, 'latin1')), v]
      }
    },
    root: () => store.root,
    stage(writes) {
      const batch = store.batch()
      for (const [key, value] of writes) {
        if (value === null) batch.delete(key)
        else batch.put(key, value)
      }
      staged = { batch, writes }
      return batch.stage()
    },
    async commit() {
      if (staged === undefined) return { version: store.version, root: store.root }
      const { batch, writes } = staged
      staged = undefined
      const result = await batch.commit()
      if (mirror !== undefined) {
        for (const [key, value] of writes) {
          if (value === null) mirror.delete(keyString(key))
          else mirror.set(keyString(key), value)
        }
        sortedKeys = undefined
      }
      return result
    },
  }
}
