import type { Logger, Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { writeBatchBytesMax } from './limits.ts'

export interface OutboundChannelInit {
  /** Opens the long-lived stream to the peer for this channel. */
  openStream(signal: AbortSignal): Promise<Stream>
  sendQueueMessagesMax: number
  sendQueueBytesMax: number
  log: Logger
}

/**
 * The writer of one channel to one peer: a bounded queue drained into one
 * long-lived libp2p stream. Frames are `varint(length) || payload`; consecutive
 * frames are coalesced into one `stream.send` of up to `writeBatchBytesMax`.
 * When the stream's buffer is full the pump waits for 'drain' while the queue
 * absorbs the producer, and once the queue is full `enqueue` refuses: memory per
 * peer per channel is bounded by `sendQueueBytesMax`.
 */
export class OutboundChannel {
  readonly #init: OutboundChannelInit
  #queue: Uint8Array[] = []
  #head = 0
  #queuedBytes = 0
  #stream: Stream | undefined
  #isPumpScheduled = false
  #isPumping = false
  #isClosed = false
  readonly #abort = new AbortController()
  #roomWaiters: Array<() => void> = []

  constructor(init: OutboundChannelInit) {
    this.#init = init
  }

  get queuedMessages(): number {
    return this.#queue.length - this.#head
  }

  get queuedBytes(): number {
    return this.#queuedBytes
  }

  get isClosed(): boolean {
    return this.#isClosed
  }

  hasRoom(byteLength: number): boolean {
    return this.queuedMessages < this.#init.sendQueueMessagesMax && this.#queuedBytes + byteLength <= this.#init.sendQueueBytesMax
  }

  /** Queues one message; false when the queue is full (the caller reports `queue-full`). */
  enqueue(bytes: Uint8Array): boolean {
    if (this.#isClosed || !this.hasRoom(bytes.byteLength)) return false
    this.#queue.push(bytes)
    this.#queuedBytes += bytes.byteLength
    if (!this.#isPumpScheduled && !this.#isPumping) {
      // Defer to a microtask so a burst of synchronous sends shares one batch.
      this.#isPumpScheduled = true
      queueMicrotask(() => {
        this.#isPumpScheduled = false
        void this.#pump()
      })
    }
    return true
  }

  /** Resolves when the queue has room for `byteLength` more bytes, or the channel closes. */
  waitForRoom(byteLength: number, signal?: AbortSignal): Promise<void> {
    if (this.#isClosed || this.hasRoom(byteLength)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#roomWaiters = this.#roomWaiters.filter((w) => w !== wake)
        reject(signal?.reason as Error)
      }
      const wake = (): void => {
        if (!this.#isClosed && !this.hasRoom(byteLength)) {
          this.#roomWaiters.push(wake)
          return
        }
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      if (signal?.aborted === true) {
        reject(signal.reason as Error)
        return
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#roomWaiters.push(wake)
    })
  }

  /** Drops queued messages and closes the stream; the channel cannot be reused. */
  close(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    this.#abort.abort(new Error('Outbound channel closed'))
    this.#dropQueue()
    const stream = this.#stream
    this.#stream = undefined
    if (stream !== undefined) {
      stream.close().catch((err: unknown) => stream.abort(err as Error))
    }
    this.#wakeWaiters()
  }

  async #pump(): Promise<void> {
    if (this.#isPumping || this.#isClosed) return
    this.#isPumping = true
    try {
      while (this.queuedMessages > 0 && !this.#isClosed) {
        const stream = this.#stream ?? (await this.#openStream())
        if (this.#isClosed) break
        const batch = new Uint8ArrayList()
        while (batch.byteLength < writeBatchBytesMax && this.queuedMessages > 0) {
          const message = this.#shift()
          batch.append(varint.encode(message.byteLength))
          batch.append(message)
        }
        this.#wakeWaiters()
        if (!stream.send(batch)) await stream.onDrain({ signal: this.#abort.signal })
      }
    } catch (err) {
      if (!this.#isClosed) {
        this.#init.log('Dropped channel queue after stream failure %e', err)
        this.#dropQueue()
        this.#stream?.abort(err as Error)
        this.#stream = undefined
        this.#wakeWaiters()
      }
    } finally {
      this.#isPumping = false
    }
  }

  async #openStream(): Promise<Stream> {
    const stream = await this.#init.openStream(this.#abort.signal)
    stream.addEventListener('close', () => {
      if (this.#stream === stream) this.#stream = undefined
    })
    if (this.#isClosed) {
      stream.abort(new Error('Outbound channel closed'))
    } else {
      this.#stream = stream
    }
    return stream
  }

  #shift(): Uint8Array {
    const message = this.#queue[this.#head]
    if (message === undefined) throw new Error('OutboundChannel queue underflow')
    this.#queue[this.#head] = EMPTY
    this.#head++
    this.#queuedBytes -= message.byteLength
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    return message
  }

  #dropQueue(): void {
    this.#queue = []
    this.#head = 0
    this.#queuedBytes = 0
  }

  #wakeWaiters(): void {
    if (this.#roomWaiters.length === 0) return
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const wake of waiters) wake()
  }
}

const EMPTY = new Uint8Array(0)
