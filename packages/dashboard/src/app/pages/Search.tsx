import { useEffect, type ReactNode } from 'react'
import type { Api } from '../api.ts'
import { useApi, useLoad } from '../hooks.ts'
import { classifySearch } from '../search.ts'
import { href } from '../router.ts'
import { Empty, PageTitle, Show } from '../ui.tsx'

/** Where a query leads, or null when nothing matches. Hashes are tried as a transaction, then as a block. */
async function resolve(api: Api, query: string): Promise<string | null> {
  const target = classifySearch(query)
  switch (target.kind) {
    case 'height':
      return href.block(target.height)
    case 'address':
      return href.account(target.address)
    case 'hash': {
      if ((await api.tx(target.hash)) !== null) return href.tx(target.hash)
      const block = await api.blockByHash(target.hash)
      return block === null ? null : href.block(block.header.height)
    }
    case 'device':
      return (await api.device(target.id)) === null ? null : href.device(target.id)
    case 'invalid':
      return null
  }
}

export function SearchPage({ query }: { query: string }): ReactNode {
  const api = useApi()
  const result = useLoad(() => resolve(api, query), [api, query])
  useEffect(() => {
    // Replace, so Back returns to the page the search started from.
    if (result.state === 'ready' && result.value !== null) window.location.replace(result.value)
  }, [result])
  return (
    <>
      <PageTitle title="Search" subtitle={<span className="mono break">{query}</span>} />
      <Show loaded={result} what="results">
        {(target) =>
          target === null ? (
            <Empty>
              Nothing matches “{query}”. Search by block height, block or transaction hash (64 hex characters), account address (trn1…) or
              device id.
            </Empty>
          ) : (
            <p>
              Found: <a href={target}>{target.slice(2)}</a>
            </p>
          )
        }
      </Show>
    </>
  )
}
