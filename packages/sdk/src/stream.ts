import WebSocket from 'ws'
import type { EventDto, TopicFilterDto, WsServerMessageDto } from '@terrane/api/schemas'

export interface EventStreamInit {
  /** ws://host:port/v1/ws */
  url: string
  /** Replay from this height on the first connection. */
  fromHeight?: number
  /** First reconnection delay, doubled up to `reconnectDelayMsMax`. @default 250 */
  reconnectDelayMs?: number
  /** @default 10_000 */
  reconnectDelayMsMax?: number
  /** Reconnection attempts in a row before giving up. @default Infinity */
  reconnectAttemptsMax?: number
  onError?: (error: { code: string; message: string }) => void
}

export interface EventStream {
  /** Height and index of the last event delivered (resume point). */
  readonly last: { height: number; index: number } | null
  readonly reconnects: number
  close(): void
}

/**
 * One subscription over /v1/ws that survives disconnections: on reconnect it
 * resubscribes from the last height delivered and skips events at or before the
 * last (height, index), so the listener sees every event once, in order.
 */
export function subscribeEvents(init: EventStreamInit, filter: TopicFilterDto, onEvent: (event: EventDto) => void): EventStream {
  const delayMin = init.reconnectDelayMs ?? 250
  const delayMax = init.reconnectDelayMsMax ?? 10_000
  const attemptsMax = init.reconnectAttemptsMax ?? Infinity
  let last: { height: number; index: number } | null = null
  let reconnects = 0
  let attempts = 0
  let isClosed = false
  let socket: WebSocket | null = null
  let timer: NodeJS.Timeout | null = null

  const connect = (): void => {
    const ws = new WebSocket(init.url)
    socket = ws
    ws.on('open', () => {
      attempts = 0
      const fromHeight = last?.height ?? init.fromHeight
      ws.send(
        JSON.stringify(
          fromHeight === undefined ? { op: 'subscribe', id: 'sdk', filter } : { op: 'subscribe', id: 'sdk', filter, fromHeight },
        ),
      )
    })
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as WsServerMessageDto
      if (message.type === 'error') return init.onError?.(message.error)
      if (message.type !== 'event') return
      const { event } = message
      if (last !== null && (event.height < last.height || (event.height === last.height && event.index <= last.index))) return
      last = { height: event.height, index: event.index }
      onEvent(event)
    })
    ws.on('error', () => {})
    ws.on('close', () => {
      if (isClosed) return
      if (attempts >= attemptsMax) return init.onError?.({ code: 'SDK_NETWORK', message: 'gave up reconnecting' })
      const delay = Math.min(delayMax, delayMin * 2 ** attempts++)
      reconnects++
      timer = setTimeout(connect, delay)
    })
  }
  connect()
  return {
    get last() {
      return last
    },
    get reconnects() {
      return reconnects
    },
    close() {
      isClosed = true
      if (timer !== null) clearTimeout(timer)
      socket?.close()
    },
  }
}
