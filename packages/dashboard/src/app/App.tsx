import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'
import type { Api } from './api.ts'
import { ApiContext, useRoute } from './hooks.ts'
import { LiveProvider, useLive } from './live.tsx'
import { href, type Route } from './router.ts'
import { NetworkPage } from './pages/Network.tsx'
import { BlocksPage, BlockPage, TxPage } from './pages/Blocks.tsx'
import { AccountPage } from './pages/Account.tsx'
import { DevicePage } from './pages/Device.tsx'
import { CoveragePage } from './pages/Coverage.tsx'
import { SearchPage } from './pages/Search.tsx'
import { PageTitle } from './ui.tsx'

const nav: Array<{ label: string; href: string; pages: Route['page'][] }> = [
  { label: 'Network', href: href.network(), pages: ['network', 'account'] },
  { label: 'Coverage map', href: href.map(), pages: ['map', 'device'] },
  { label: 'Blocks', href: href.blocks(), pages: ['blocks', 'block', 'tx'] },
]

function SearchBox(): ReactNode {
  const [query, setQuery] = useState('')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (query.trim() === '') return
    window.location.hash = href.search(query.trim())
    setQuery('')
  }
  return (
    <form className="search" role="search" onSubmit={submit}>
      <label htmlFor="search-input" className="visually-hidden">
        Search by height, hash, address or device id
      </label>
      <input
        id="search-input"
        type="search"
        placeholder="Height, hash, address or device id"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
      <button type="submit">Search</button>
    </form>
  )
}

function LiveBadge(): ReactNode {
  const live = useLive()
  return (
    <div className="live-badge" title={live.isConnected ? 'Receiving blocks over the WebSocket' : 'Event stream disconnected'}>
      <span className={live.isConnected ? 'dot dot-live' : 'dot'} aria-hidden="true" />
      <span>{live.status?.chainId ?? '…'}</span>
      <span className="mono" data-testid="header-height">
        #{live.status?.height ?? '–'}
      </span>
    </div>
  )
}

function Page({ route }: { route: Route }): ReactNode {
  switch (route.page) {
    case 'network':
      return <NetworkPage />
    case 'map':
      return <CoveragePage cell={route.cell} />
    case 'blocks':
      return <BlocksPage />
    case 'block':
      return <BlockPage height={route.height} />
    case 'tx':
      return <TxPage hash={route.hash} />
    case 'account':
      return <AccountPage address={route.address} />
    case 'device':
      return <DevicePage id={route.id} />
    case 'search':
      return <SearchPage query={route.query} />
    case 'notFound':
      return <PageTitle title="Page not found" subtitle={<a href={href.network()}>Back to the network</a>} />
  }
}

export function App({ api }: { api: Api }): ReactNode {
  const route = useRoute()
  const main = useRef<HTMLElement>(null)
  // Move focus to the new page for keyboard and screen-reader users.
  useEffect(() => {
    main.current?.focus({ preventScroll: true })
    window.scrollTo(0, 0)
  }, [route])
  return (
    <ApiContext.Provider value={api}>
      <LiveProvider>
        <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
          Skip to content
        </a>
        <header className="topbar">
          <a className="brand" href={href.network()}>
            <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M12 2 21 7v10l-9 5-9-5V7z" fill="none" stroke="currentColor" strokeWidth="2" />
              <path d="M12 7 16.5 9.5v5L12 17l-4.5-2.5v-5z" fill="currentColor" />
            </svg>
            Terrane
          </a>
          <nav aria-label="Main">
            {nav.map((item) => (
              <a key={item.label} href={item.href} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
                {item.label}
              </a>
            ))}
          </nav>
          <SearchBox />
          <LiveBadge />
        </header>
        <main id="main" ref={main} tabIndex={-1}>
          <Page route={route} />
        </main>
        <footer className="footer muted">
          Terrane explorer · API <span className="mono">{api.url}</span>
        </footer>
      </LiveProvider>
    </ApiContext.Provider>
  )
}
