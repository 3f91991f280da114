import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { IngestError } from '../errors.ts'
import { packBatch, type SignatureItem } from './packing.ts'
import type { BatchRequest, BatchResponse } from './worker.ts'

/** Verifies P-256 device signatures somewhere other than the calling thread. */
export interface SignatureVerifier {
  /**
   * Queues one signature; resolves true/false once its batch is verified. Returns undefined,
   * queuing nothing, when `queueMax` items are already waiting (the caller refuses the report).
   * Rejects with IngestError INGEST_VERIFIER if the worker holding it failed.
   */
  tryVerify(item: SignatureItem): Promise<boolean> | undefined
  /** Verifies a whole batch (split into `batchSize` chunks across workers). */
  verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]>
  /** Resolves once every worker has loaded (start-up compiles TypeScript: seconds on a busy machine). */
  ready(): Promise<void>
  /** Items accepted and not yet answered (queued + in workers). */
  readonly pending: number
  close(): Promise<void>
}

export interface SignaturePoolInit {
  /** @default os.availableParallelism() */
  workers?: number
  /** Items per worker message: a round trip costs about one verification, so 32-128. @default 64 */
  batchSize?: number
  /** Batches in flight per worker; more wait in the queue and grow into full batches. @default 2 */
  batchesInFlightMax?: number
  /** Items waiting for a worker beyond which tryVerify refuses. @default 8192 */
  queueMax?: number
}

/** Promise.withResolvers is Node 22+; this package runs on Node 20. */
function deferred(): { promise: Promise<boolean>; resolve: (ok: boolean) => void; reject: (err: Error) => void } {
  let resolve!: (ok: boolean) => void
  let reject!: (err: Error) => void
  const promise = new Promise<boolean>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

interface Waiter {
  resolve: (ok: boolean) => void
  reject: (err: Error) => void
}

interface Lane {
  worker: Worker
  inFlight: number
  /** Answer callbacks of each batch this worker holds, by request id. */
  batches: Map<number, Waiter[]>
  loaded: Promise<void>
}

/**
 * A pool of worker threads verifying ECDSA P-256 signatures in batches. Callers queue single
 * items; the pool sends a batch as soon as `batchSize` items are queued, or at the end of the
 * current event-loop turn (setImmediate) with what it has, to the worker with the fewest batches
 * in flight. When every worker holds `batchesInFlightMax` batches, items wait and the next batch
 * is fuller: under load, batches grow towards `batchSize` and the round trip is amortised.
 */
export function createSignaturePool(init: SignaturePoolInit = {}): SignatureVerifier {
  return new SignaturePool(init)
}

class SignaturePool implements SignatureVerifier {
  readonly #lanes: Lane[]
  readonly #batchSize: number
  readonly #batchesInFlightMax: number
  readonly #queueMax: number
  #queue: { item: SignatureItem; waiter: Waiter }[] = []
  #inWorkers = 0
  #nextId = 0
  #isFlushScheduled = false
  #isClosed = false

  constructor(init: SignaturePoolInit) {
    const count = init.workers ?? availableParallelism()
    this.#batchSize = init.batchSize ?? 64
    this.#batchesInFlightMax = init.batchesInFlightMax ?? 2
    this.#queueMax = init.queueMax ?? 8192
    if (!(Number.isInteger(count) && count >= 1 && count <= 256)) throw new IngestError('INGEST_CONFIG', 'workers must be 1..256')
    if (!(Number.isInteger(this.#batchSize) && this.#batchSize >= 1 && this.#batchSize <= 4096))
      throw new IngestError('INGEST_CONFIG', 'batchSize must be 1..4096')
    if (!(Number.isInteger(this.#batchesInFlightMax) && this.#batchesInFlightMax >= 1))
      throw new IngestError('INGEST_CONFIG', 'batchesInFlightMax must be a positive integer')
    if (!(Number.isInteger(this.#queueMax) && this.#queueMax >= 1))
      throw new IngestError('INGEST_CONFIG', 'queueMax must be a positive integer')
    this.#lanes = Array.from({ length: count }, () => this.#spawn())
  }

  get pending(): number {
    return this.#queue.length + this.#inWorkers
  }

  #spawn(): Lane {
    const worker = new Worker(new URL('./worker-entry.js', import.meta.url))
    const loaded = new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }) => {
        if (message.ready !== true) return
        worker.off('message', onMessage)
        resolve()
      }
      worker.on('message', onMessage)
      worker.once('exit', () => reject(new IngestError('INGEST_VERIFIER', 'signature worker exited before it loaded')))
    })
    loaded.catch(() => undefined) // observed through ready(); a failed lane is replaced
    const lane: Lane = { worker, inFlight: 0, batches: new Map(), loaded }
    lane.worker.on('message', (response: BatchResponse) => {
      if (!('results' in response)) return
      const waiters = lane.batches.get(response.id)
      if (waiters === undefined) return
      lane.batches.delete(response.id)
      lane.inFlight--
      this.#inWorkers -= waiters.length
      for (const [i, waiter] of waiters.entries()) waiter.resolve(response.results[i] === 1)
      // Idle workers must not keep the process alive; busy ones must.
      if (lane.inFlight === 0) lane.worker.unref()
      this.#pump()
    })
    lane.worker.on('error', (err) => this.#fail(lane, err))
    lane.worker.on('exit', (code) => {
      if (!this.#isClosed) this.#fail(lane, new Error(`verifier worker exited with code ${code}`))
    })
    lane.worker.unref()
    return lane
  }

  /** A failed worker's batches are rejected, never silently dropped; a fresh worker replaces it. */
  #fail(lane: Lane, cause: Error): void {
    const index = this.#lanes.indexOf(lane)
    if (index === -1) return
    const error = new IngestError('INGEST_VERIFIER', `signature worker failed: ${cause.message}`, { cause })
    for (const waiters of lane.batches.values()) {
      this.#inWorkers -= waiters.length
      for (const waiter of waiters) waiter.reject(error)
    }
    lane.batches.clear()
    void lane.worker.terminate()
    if (!this.#isClosed) {
      this.#lanes[index] = this.#spawn()
      this.#pump()
    }
  }

  async ready(): Promise<void> {
    // Whoever awaits start-up keeps the process alive meanwhile (idle workers are unref'd).
    for (const lane of this.#lanes) lane.worker.ref()
    try {
      await Promise.all(this.#lanes.map((lane) => lane.loaded))
    } finally {
      for (const lane of this.#lanes) if (lane.inFlight === 0) lane.worker.unref()
    }
  }

  tryVerify(item: SignatureItem): Promise<boolean> | undefined {
    if (this.#isClosed) throw new IngestError('INGEST_NOT_STARTED', 'signature pool closed')
    if (this.#queue.length >= this.#queueMax) return undefined
    const { promise, resolve, reject } = deferred()
    this.#queue.push({ item, waiter: { resolve, reject } })
    if (this.#queue.length >= this.#batchSize) this.#pump()
    else if (!this.#isFlushScheduled) {
      this.#isFlushScheduled = true
      setImmediate(() => {
        this.#isFlushScheduled = false
        this.#pump()
      })
    }
    return promise
  }

  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    const out: Promise<boolean>[] = []
    for (const item of items) {
      if (this.#isClosed) throw new IngestError('INGEST_NOT_STARTED', 'signature pool closed')
      const { promise, resolve, reject } = deferred()
      this.#queue.push({ item, waiter: { resolve, reject } }) // an explicit batch is not refused
      out.push(promise)
    }
    this.#pump()
    return Promise.all(out)
  }

  /** Sends batches while some worker has room. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let lane: Lane | undefined
      for (const candidate of this.#lanes) if (lane === undefined || candidate.inFlight < lane.inFlight) lane = candidate
      if (lane === undefined || lane.inFlight >= this.#batchesInFlightMax) return
      const taken = this.#queue.splice(0, this.#batchSize)
      const id = this.#nextId++
      const packed = packBatch(taken.map((t) => t.item))
      lane.batches.set(
        id,
        taken.map((t) => t.waiter),
      )
      lane.inFlight++
      this.#inWorkers += taken.length
      lane.worker.ref()
      const request: BatchRequest = { id, count: taken.length, packed }
      lane.worker.postMessage(request, [packed.buffer as ArrayBuffer])
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    const error = new IngestError('INGEST_NOT_STARTED', 'signature pool closed')
    for (const { waiter } of this.#queue) waiter.reject(error)
    this.#queue = []
    for (const lane of this.#lanes) for (const waiters of lane.batches.values()) for (const w of waiters) w.reject(error)
    this.#inWorkers = 0
    await Promise.all(this.#lanes.map((lane) => lane.worker.terminate()))
  }
}
