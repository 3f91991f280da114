import { decode, type Schema } from '@terrane/codec'
import { keys, type ModuleStore } from '@terrane/chain'
import { agreementKeys, figuresSlots, idOfIndexKey, markerSchema, seqSchema } from './module.ts'
import {
  agreementsParamsSchema,
  agreementStateSchema,
  agreementTermsSchema,
  defaultAgreementsParams,
  figuresRecordSchema,
  proberSchema,
  type Agreement,
  type FiguresRecord,
  type ProberRecord,
} from './schemas.ts'

/** Reads committed bytes by full chain key (a ChainStore's `get`, or a node's state query). */
export type RawRead = (key: Uint8Array) => Uint8Array | undefined

function read<T>(get: RawRead, key: string, schema: Schema<T>): T | undefined {
  const bytes = get(Uint8Array.from(Buffer.from(keys.module('agreements', key), 'latin1')))
  return bytes === undefined ? undefined : decode(schema, bytes)
}

export function readAgreement(get: RawRead, id: number): Agreement | undefined {
  const terms = read(get, agreementKeys.terms(id), agreementTermsSchema)
  const state = read(get, agreementKeys.state(id), agreementStateSchema)
  return terms === undefined || state === undefined ? undefined : { ...terms, ...state }
}

export function readProber(get: RawRead, address: Uint8Array): ProberRecord | undefined {
  return read(get, agreementKeys.prober(address), proberSchema)
}

/** The figures submitted for an agreement and epoch, while its ring slot still holds that epoch. */
export function readFigures(get: RawRead, epoch: number, id: number): FiguresRecord | undefined {
  const params = read(get, agreementKeys.params, agreementsParamsSchema) ?? defaultAgreementsParams
  const record = read(get, agreementKeys.figures(id, epoch % figuresSlots(params)), figuresRecordSchema)
  return record?.epoch === epoch ? record : undefined
}

/** An agreement from a module store (`committedModuleStore(chainStore, 'agreements')` outside blocks). */
export function agreementOf(store: ModuleStore, id: number): Agreement | undefined {
  const terms = store.get(agreementTermsSchema, agreementKeys.terms(id))
  const state = store.get(agreementStateSchema, agreementKeys.state(id))
  return terms === undefined || state === undefined ? undefined : { ...terms, ...state }
}

export interface AgreementIdQuery {
  /** Only agreements where this account is the customer or the provider. */
  party?: Uint8Array
  /** Ids after this one (a page cursor). @default 0 */
  afterId?: number
  /** Ids per page. */
  limit: number
}

/**
 * Agreement ids in ascending order (opening order), paged. Without a party it walks the id sequence
 * (no scan); with one it reads the party's two index prefixes, so a page costs the party's agreements,
 * not the chain's.
 */
export function agreementIds(store: ModuleStore, query: AgreementIdQuery): { ids: number[]; hasMore: boolean } {
  const after = query.afterId ?? 0
  if (query.party === undefined) {
    const last = (store.get(seqSchema, agreementKeys.seq)?.next ?? 1) - 1
    const ids: number[] = []
    for (let id = after + 1; id <= last && ids.length < query.limit; id++) ids.push(id)
    return { ids, hasMore: after + query.limit < last }
  }
  const all = new Set<number>()
  for (const prefix of [agreementKeys.byCustomer(query.party), agreementKeys.byProvider(query.party)])
    for (const [key] of store.scan(markerSchema, prefix)) all.add(idOfIndexKey(key))
  const later = [...all].filter((id) => id > after).sort((a, b) => a - b)
  return { ids: later.slice(0, query.limit), hasMore: later.length > query.limit }
}
