import { decode, type Schema } from '@terrane/codec'
import { keys } from '@terrane/chain'
import { agreementKeys } from './module.ts'
import { agreementSchema, figuresRecordSchema, proberSchema, type Agreement, type FiguresRecord, type ProberRecord } from './schemas.ts'

/** Reads committed bytes by full chain key (a ChainStore's `get`, or a node's state query). */
export type RawRead = (key: Uint8Array) => Uint8Array | undefined

function read<T>(get: RawRead, key: string, schema: Schema<T>): T | undefined {
  const bytes = get(Uint8Array.from(Buffer.from(keys.module('agreements', key), 'latin1')))
  return bytes === undefined ? undefined : decode(schema, bytes)
}

export function readAgreement(get: RawRead, id: number): Agreement | undefined {
  return read(get, agreementKeys.agreement(id), agreementSchema)
}

export function readProber(get: RawRead, address: Uint8Array): ProberRecord | undefined {
  return read(get, agreementKeys.prober(address), proberSchema)
}

export function readFigures(get: RawRead, epoch: number, id: number): FiguresRecord | undefined {
  return read(get, agreementKeys.figures(epoch, id), figuresRecordSchema)
}
