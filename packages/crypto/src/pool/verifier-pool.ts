// The pool owns threads: it is the one non-deterministic file of this package
// (results are still a pure function of the inputs).
/* eslint-disable no-restricted-imports */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { verifySignature } from '../ed25519.ts'
import type { BatchRequest } from './worker.ts'

export interface SignedItem {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

export interface VerifierPoolInit {
  /** @default os.availableParallelism() */
  workers?: number
  /** Items per worker message: a worker round trip costs about one verification. @default 64 */
  batchSize?: number
  /** Below this many items, verify on the calling thread. @default 32 */
  inlineBelow?: number
}

/** Verifies many Ed25519 signatures on all cores with the consensus verifier. */
export interface VerifierPool {
  verifyBatch(items: readonly SignedItem[]): Promise<boolean[]>
  close(): Promise<void>
}

interface Pending {
  resolve: (results: Uint8Array) => void
  reject: (err: Error) => void
}

class DefaultVerifierPool implements VerifierPool {
  private readonly workers: Worker[]
  private readonly pending = new Map<number, Pending>()
  private readonly batchSize: number
  private readonly inlineBelow: number
  private nextId = 0
  private nextWorker = 0

  constructor(init: VerifierPoolInit) {
    const count = Math.max(1, init.workers ?? availableParallelism())
    this.batchSize = init.batchSize ?? 64
    this.inlineBelow = init.inlineBelow ?? 32
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./worker-entry.js', import.meta.url))
      worker.on('message', (msg: { id: number; results: Uint8Array }) => {
        const p = this.pending.get(msg.id)
        this.pending.delete(msg.id)
        // Idle workers must not keep the process alive; busy ones must.
        if (this.pending.size === 0) for (const w of this.workers) w.unref()
        p?.resolve(msg.results)
      })
      worker.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
      })
      worker.unref()
      return worker
    })
  }

  async verifyBatch(items: readonly SignedItem[]): Promise<boolean[]> {
    if (items.length < this.inlineBelow) return items.map((i) => verifySignature(i.publicKey, i.message, i.signature))
    const chunks: Promise<Uint8Array>[] = []
    for (let start = 0; start < items.length; start += this.batchSize) chunks.push(this.send(items.slice(start, start + this.batchSize)))
    const results = await Promise.all(chunks)
    const out: boolean[] = []
    for (const r of results) for (const v of r) out.push(v === 1)
    return out
  }

  private send(items: readonly SignedItem[]): Promise<Uint8Array> {
    const publicKeys = new Uint8Array(items.length * 32)
    const signatures = new Uint8Array(items.length * 64)
    const messages: Uint8Array[] = []
    items.forEach((item, i) => {
      // Malformed lengths are invalid signatures, decided here so the worker sees fixed sizes.
      if (item.publicKey.length === 32) publicKeys.set(item.publicKey, i * 32)
      if (item.signature.length === 64 && item.publicKey.length === 32) signatures.set(item.signature, i * 64)
      messages.push(item.message)
    })
    const id = this.nextId++
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    this.pending.set(id, { resolve, reject })
    worker.ref()
    const request: BatchRequest = { id, publicKeys, signatures, messages }
    worker.postMessage(request, [publicKeys.buffer, signatures.buffer])
    return promise
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
    for (const p of this.pending.values()) p.reject(new Error('verifier pool closed'))
    this.pending.clear()
  }
}

export function createVerifierPool(init: VerifierPoolInit = {}): VerifierPool {
  return new DefaultVerifierPool(init)
}
