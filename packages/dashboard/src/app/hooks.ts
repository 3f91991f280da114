import { createContext, useContext, useEffect, useState } from 'react'
import { parseRoute, type Route } from './router.ts'
import type { Api } from './api.ts'

export const ApiContext = createContext<Api | null>(null)

export function useApi(): Api {
  const api = useContext(ApiContext)
  if (api === null) throw new Error('useApi outside ApiContext')
  return api
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; message: string }

/** Runs `load` when `deps` change; a stale result (deps changed meanwhile) is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' })
  useEffect(() => {
    let isCurrent = true
    setLoaded({ state: 'loading' })
    load().then(
      (value) => isCurrent && setLoaded({ state: 'ready', value }),
      (err: unknown) => isCurrent && setLoaded({ state: 'error', message: err instanceof Error ? err.message : String(err) }),
    )
    return () => {
      isCurrent = false
    }
  }, deps)
  return loaded
}

/** Re-renders every `periodMs` (relative times such as "4s ago"). */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs)
    return () => clearInterval(timer)
  }, [periodMs])
  return now
}
