import { sha256 } from '@terrane/codec'

const utf8 = new TextEncoder()

/** The first 8 bytes of SHA-256(parts) as an unsigned 64-bit integer: a verifiable draw. */
/**
 * The first 8 bytes of the same digest as {@link hashDraw}, as a one-byte string: comparing two keys with
 * `<` orders them exactly as comparing their hashDraw values, without building bigints (for sorting).
 */
export function hashDrawKey(...parts: (Uint8Array | string)[]): string {
  const digest = sha256(...parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p)))
  return Buffer.from(digest.buffer, digest.byteOffset, 8).toString('latin1')
}

export function hashDraw(...parts: (Uint8Array | string)[]): bigint {
  const digest = sha256(...parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p)))
  let x = 0n
  for (let i = 0; i < 8; i++) x = (x << 8n) | BigInt(digest[i] as number)
  return x
}

/**
 * A seeded 32-bit generator (sfc32, from PractRand) for simulations: fast and reproducible.
 * Protocol decisions never use it: they use {@link hashDraw} over block entropy.
 */
export class SeededRng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number | string) {
    const bytes = sha256(utf8.encode(`terrane-rng:${seed}`))
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.a = view.getUint32(0)
    this.b = view.getUint32(4)
    this.c = view.getUint32(8)
    this.d = view.getUint32(12)
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4_294_967_296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)]
    if (item === undefined) throw new RangeError('pick from an empty list')
    return item
  }
}
