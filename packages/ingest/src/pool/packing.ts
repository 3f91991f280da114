/**
 * The wire form of a verification batch sent to a worker: one transferable buffer instead of a
 * structured clone of many small arrays. Per item: u8 keyLength || key || u16 messageLength (BE)
 * || message || 64-byte P1363 signature. Shared by the pool and its workers.
 */
export interface SignatureItem {
  /** SEC1 P-256 point (33 or 65 bytes). */
  publicKey: Uint8Array
  message: Uint8Array
  /** IEEE P1363 r || s (64 bytes); any other length is simply invalid. */
  signature: Uint8Array
}

export const packedSignatureBytes = 64
/** Longest message a batch item may carry (u16 length prefix); reports are at most 4096 bytes. */
export const packedMessageBytesMax = 0xffff
/** Longest key a batch item may carry (u8 length prefix). */
export const packedKeyBytesMax = 0xff

export function packedItemBytes(item: SignatureItem): number {
  return 1 + Math.min(item.publicKey.length, packedKeyBytesMax) + 2 + item.message.length + packedSignatureBytes
}

/** Packs items; a malformed key or signature is packed empty/zero so the worker finds it invalid. */
export function packBatch(items: readonly SignatureItem[]): Uint8Array {
  let total = 0
  for (const item of items) total += packedItemBytes(item)
  const out = new Uint8Array(total)
  let at = 0
  for (const item of items) {
    if (item.message.length > packedMessageBytesMax) throw new RangeError(`message of ${item.message.length} bytes is too long to pack`)
    const key = item.publicKey.length > packedKeyBytesMax ? new Uint8Array(0) : item.publicKey
    out[at++] = key.length
    out.set(key, at)
    at += key.length
    out[at++] = item.message.length >>> 8
    out[at++] = item.message.length & 0xff
    out.set(item.message, at)
    at += item.message.length
    // A signature of the wrong length is sent as 64 zero bytes: r = 0 is never valid.
    if (item.signature.length === packedSignatureBytes) out.set(item.signature, at)
    at += packedSignatureBytes
  }
  return out
}

/** Calls `each` with views into `packed` (no copies), in order. */
export function unpackBatch(packed: Uint8Array, each: (item: SignatureItem) => void): void {
  let at = 0
  while (at < packed.length) {
    const keyLength = packed[at++] ?? 0
    const publicKey = packed.subarray(at, at + keyLength)
    at += keyLength
    const messageLength = ((packed[at] ?? 0) << 8) | (packed[at + 1] ?? 0)
    at += 2
    const message = packed.subarray(at, at + messageLength)
    at += messageLength
    const signature = packed.subarray(at, at + packedSignatureBytes)
    at += packedSignatureBytes
    each({ publicKey, message, signature })
  }
}
