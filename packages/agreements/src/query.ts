import { decode, type Schema } from '@terrane/codec'
import { keys } from '@terrane/chain'
import { agreementKeys, figuresSlots } from './module.ts'
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
