/**
 * One WebSocket subscription for the whole app (newBlock and tx events), kept
 * in a bounded window of recent headers that the Network and Blocks pages read.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react'
import type { BlockHeaderDto, StatusDto } from '@terrane/sdk'
import { useApi } from './hooks.ts'

/** Headers kept for the live views and the chain statistics. */
export const recentHeadersMax = 50

export interface LiveState {
  status: StatusDto | null
  isConnected: boolean
  /** Newest first. */
  headers: BlockHeaderDto[]
  /** Milliseconds from a block's timestamp to its newBlock event reaching this page. */
  commitLatenciesMs: number[]
  txEventCount: number
  error: string | null
}

const initial: LiveState = { status: null, isConnected: false, headers: [], commitLatenciesMs: [], txEventCount: 0, error: null }
const LiveContext = createContext<LiveState>(initial)

export function useLive(): LiveState {
  return useContext(LiveContext)
}

function mergeHeaders(current: BlockHeaderDto[], incoming: BlockHeaderDto[]): BlockHeaderDto[] {
  const byHeight = new Map(current.map((h) => [h.height, h]))
  for (const h of incoming) byHeight.set(h.height, h)
  return [...byHeight.values()].sort((a, b) => b.height - a.height).slice(0, recentHeadersMax)
}

export function LiveProvider({ children }: { children: ReactNode }): ReactNode {
  const api = useApi()
  const [live, setLive] = useState<LiveState>(initial)
  useEffect(() => {
    let isCurrent = true
    Promise.all([api.status(), api.blocks({ limit: 20 })]).then(
      ([status, page]) => isCurrent && setLive((s) => ({ ...s, status, headers: mergeHeaders(s.headers, page.items), error: null })),
      (err: unknown) => isCurrent && setLive((s) => ({ ...s, error: err instanceof Error ? err.message : String(err) })),
    )
    const close = api.subscribe(
      { topics: ['newBlock', 'tx'] },
      {
        onState: (isConnected) => setLive((s) => ({ ...s, isConnected })),
        onEvent: (event) => {
          if (event.topic === 'tx') return setLive((s) => ({ ...s, txEventCount: s.txEventCount + 1 }))
          if (event.topic !== 'newBlock') return
          const { header } = event
          const latencyMs = Date.now() - header.timeMs
          setLive((s) => ({
            ...s,
            headers: mergeHeaders(s.headers, [header]),
            commitLatenciesMs: [...s.commitLatenciesMs, latencyMs].slice(-recentHeadersMax),
            status:
              s.status === null || header.height <= s.status.height
                ? s.status
                : { ...s.status, height: header.height, latestBlockHash: header.hash, latestBlockTimeMs: header.timeMs },
          }))
        },
      },
    )
    // Peers and sync state are not events: poll the status now and then.
    const timer = setInterval(() => {
      api.status().then(
        (status) =>
          setLive((s) => ({
            ...s,
            status: s.status !== null && s.status.height > status.height ? { ...status, height: s.status.height } : status,
          })),
        () => {},
      )
    }, 5000)
    return () => {
      isCurrent = false
      close()
      clearInterval(timer)
    }
  }, [api])
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>
}
