import { randomBytes } from 'node:crypto'
export { toHex } from '@terrane/codec'

/** Fresh entropy for beacon rounds run by hand (the chain supplies it in a devnet). */
export function randomBytesOf(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length))
}
