import { useState, type ReactNode } from 'react'
import type { BlockHeaderDto } from '@terrane/sdk'
import { useApi, useLoad, useNow } from '../hooks.ts'
import { useLive } from '../live.tsx'
import { formatAgo, shortHash } from '../format.ts'
import { href } from '../router.ts'
import { Badge, Card, Empty, Fields, HashLink, PageTitle, Show } from '../ui.tsx'

function HeaderRows({ headers, now }: { headers: BlockHeaderDto[]; now: number }): ReactNode {
  return (
    <div className="table-wrap">
      <table data-testid="blocks-table">
        <thead>
          <tr>
            <th scope="col">Height</th>
            <th scope="col">Hash</th>
            <th scope="col">Proposer</th>
            <th scope="col" className="num">
              Txs
            </th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {headers.map((h) => (
            <tr key={h.height}>
              <td>
                <a href={href.block(h.height)}>#{h.height}</a>
              </td>
              <td className="mono">{shortHash(h.hash)}</td>
              <td>
                <HashLink kind="account" value={h.proposer} chars={6} />
              </td>
              <td className="num">{h.txCount}</td>
              <td title={new Date(h.timeMs).toISOString()}>{formatAgo(h.timeMs, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function BlocksPage(): ReactNode {
  const api = useApi()
  const live = useLive()
  const now = useNow()
  const [older, setOlder] = useState<{ headers: BlockHeaderDto[]; cursor: string | null; isLoading: boolean }>({
    headers: [],
    cursor: null,
    isLoading: false,
  })
  const oldestLive = live.headers[live.headers.length - 1]
  const loadOlder = async (): Promise<void> => {
    setOlder((o) => ({ ...o, isLoading: true }))
    const from = older.headers[older.headers.length - 1]?.height ?? oldestLive?.height ?? 1
    // Cursors of the node's API are opaque; ask for the next page by walking heights below the oldest shown.
    const heights = Array.from({ length: 20 }, (_, i) => from - 1 - i).filter((h) => h >= 1)
    const blocks = await Promise.all(heights.map((h) => api.block(h)))
    setOlder((o) => ({
      headers: [...o.headers, ...blocks.flatMap((b) => (b === null ? [] : [b.header]))],
      cursor: heights.length === 20 ? 'more' : null,
      isLoading: false,
    }))
  }
  const hasMore = (older.headers[older.headers.length - 1]?.height ?? oldestLive?.height ?? 1) > 1
  return (
    <>
      <PageTitle
        title="Blocks"
        subtitle={<>New blocks appear as they are committed {live.isConnected ? <Badge tone="good">live</Badge> : null}</>}
      />
      <Card>
        {live.headers.length === 0 ? (
          <Empty>Waiting for blocks…</Empty>
        ) : (
          <HeaderRows headers={[...live.headers, ...older.headers]} now={now} />
        )}
        {hasMore ? (
          <button className="secondary" onClick={() => void loadOlder()} disabled={older.isLoading}>
            {older.isLoading ? 'Loading…' : 'Older blocks'}
          </button>
        ) : null}
      </Card>
    </>
  )
}

export function BlockPage({ height }: { height: number }): ReactNode {
  const api = useApi()
  const live = useLive()
  const block = useLoad(() => api.block(height), [api, height])
  const tip = live.status?.height ?? null
  return (
    <>
      <PageTitle
        title={`Block #${height}`}
        subtitle={
          <nav className="pager" aria-label="Neighbouring blocks">
            {height > 1 ? <a href={href.block(height - 1)}>← #{height - 1}</a> : null}
            {tip === null || height < tip ? <a href={href.block(height + 1)}>#{height + 1} →</a> : null}
          </nav>
        }
      />
      <Show loaded={block} what={`block ${height}`}>
        {(b) =>
          b === null ? (
            <Empty>
              No block at height {height}
              {tip === null ? '' : ` (the chain is at #${tip})`}.
            </Empty>
          ) : (
            <div className="grid-2">
              <Card title="Header" id="header">
                <Fields
                  rows={[
                    ['Height', <span data-testid="block-height">{b.header.height}</span>],
                    ['Hash', <span className="mono break">{b.header.hash}</span>],
                    [
                      'Parent',
                      b.header.height > 1 ? (
                        <a className="mono break" href={href.block(b.header.height - 1)}>
                          {b.header.parentHash}
                        </a>
                      ) : (
                        <span className="mono break">{b.header.parentHash}</span>
                      ),
                    ],
                    ['Time', new Date(b.header.timeMs).toISOString()],
                    ['Proposer', <HashLink kind="account" value={b.header.proposer} chars={12} />],
                    ['Transactions', b.header.txCount],
                    ['Tx root', <span className="mono break">{b.header.txRoot}</span>],
                    ['State root', <span className="mono break">{b.header.stateRoot}</span>],
                  ]}
                />
              </Card>
              <Card title={`Transactions (${b.txHashes.length})`} id="txs">
                {b.txHashes.length === 0 ? (
                  <Empty>This block has no transactions.</Empty>
                ) : (
                  <ol className="tx-list">
                    {b.txHashes.map((hash) => (
                      <li key={hash}>
                        <HashLink kind="tx" value={hash} chars={16} />
                      </li>
                    ))}
                  </ol>
                )}
              </Card>
            </div>
          )
        }
      </Show>
    </>
  )
}

export function TxPage({ hash }: { hash: string }): ReactNode {
  const api = useApi()
  const tx = useLoad(() => api.tx(hash), [api, hash])
  return (
    <>
      <PageTitle title="Transaction" subtitle={<span className="mono break">{hash}</span>} />
      <Show loaded={tx} what="the transaction">
        {(t) =>
          t === null ? (
            <Empty>No committed transaction with this hash (it may still be in the mempool).</Empty>
          ) : (
            <div className="grid-2">
              <Card title="Result" id="result">
                <Fields
                  rows={[
                    [
                      'Status',
                      t.code === 0 ? <Badge tone="good">success</Badge> : <Badge tone="bad">failed: {t.reason || `code ${t.code}`}</Badge>,
                    ],
                    [
                      'Block',
                      <a href={href.block(t.height)} data-testid="tx-block">
                        #{t.height}
                      </a>,
                    ],
                    ['Index in block', `${t.index} of ${t.proof.count}`],
                    ['Size', `${t.bytes.length / 2} bytes`],
                    [
                      'Accounts',
                      <ul className="plain">
                        {t.accounts.map((a, i) => (
                          <li key={a}>
                            <HashLink kind="account" value={a} chars={12} /> {i === 0 ? <span className="muted">sender</span> : null}
                          </li>
                        ))}
                      </ul>,
                    ],
                  ]}
                />
              </Card>
              <Card title="Inclusion proof" id="proof">
                <Fields
                  rows={[
                    ['Tx root', <span className="mono break">{t.proof.txRoot}</span>],
                    [
                      'Siblings',
                      t.proof.siblings.length === 0
                        ? 'none (single transaction)'
                        : t.proof.siblings.map((s) => (
                            <div key={s} className="mono break">
                              {s}
                            </div>
                          )),
                    ],
                  ]}
                />
                <details>
                  <summary>Canonical bytes</summary>
                  <pre className="mono bytes">{t.bytes}</pre>
                </details>
              </Card>
            </div>
          )
        }
      </Show>
    </>
  )
}
