/** A min-heap of timed events; ties break by insertion order so that runs are reproducible. */
export class EventQueue<T> {
  private heap: Array<{ atMs: number; seq: number; item: T }> = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  push(atMs: number, item: T): void {
    const entry = { atMs: Math.floor(atMs), seq: this.seq++, item }
    const h = this.heap
    h.push(entry)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  pop(): { atMs: number; item: T } | undefined {
    const h = this.heap
    const top = h[0]
    if (top === undefined) return undefined
    const last = h.pop() as (typeof h)[0]
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(l, m)) m = l
        if (r < h.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return { atMs: top.atMs, item: top.item }
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as { atMs: number; seq: number }
    const y = this.heap[b] as { atMs: number; seq: number }
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq)
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a] as (typeof this.heap)[0]
    this.heap[a] = this.heap[b] as (typeof this.heap)[0]
    this.heap[b] = t
  }
}
