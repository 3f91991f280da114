/** Lower-case hex of bytes (ids in logs, JSON and URLs). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes from hex; throws a RangeError on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new RangeError('invalid hex string')
  return new Uint8Array(Buffer.from(clean, 'hex'))
}
