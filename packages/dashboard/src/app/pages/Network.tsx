import type { ReactNode } from 'react'
import type { ValidatorDto } from '@terrane/sdk'
import { useApi, useLoad, useNow } from '../hooks.ts'
import { useLive } from '../live.tsx'
import { chainStats, meanOfLatest } from '../stats.ts'
import { formatAgo, formatMs, formatPercent, formatTrn, shortHash } from '../format.ts'
import { href } from '../router.ts'
import { Badge, Card, Empty, HashLink, PageTitle, Show, Stat } from '../ui.tsx'

function ValidatorTable({
  validators,
  proposed,
  window,
}: {
  validators: ValidatorDto[]
  proposed: Map<string, number>
  window: number
}): ReactNode {
  const total = validators.reduce((sum, v) => sum + BigInt(v.votingPower), 0n)
  if (validators.length === 0) return <Empty>No validators.</Empty>
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Validator</th>
            <th scope="col">Voting power</th>
            <th scope="col" className="num">
              Stake
            </th>
            <th scope="col" className="num">
              Commission
            </th>
            <th scope="col" className="num" title={`Blocks proposed among the last ${window} seen`}>
              Proposed
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {validators.map((v) => {
            const share = total === 0n ? 0 : Number((BigInt(v.votingPower) * 10_000n) / total) / 10_000
            return (
              <tr key={v.address}>
                <td>
                  <HashLink kind="account" value={v.address} chars={6} />
                </td>
                <td>
                  <div className="bar" aria-label={`${formatPercent(share)} of voting power`}>
                    <div className="bar-fill" style={{ width: `${share * 100}%` }} />
                    <span>
                      {v.votingPower} · {formatPercent(share)}
                    </span>
                  </div>
                </td>
                <td className="num nowrap">{formatTrn(v.tokens)}</td>
                <td className="num">{(v.commissionBps / 100).toFixed(2)}%</td>
                <td className="num">{proposed.get(v.address) ?? 0}</td>
                <td>
                  {v.isJailed ? <Badge tone="bad">jailed</Badge> : <Badge tone={v.status === 'bonded' ? 'good' : 'warn'}>{v.status}</Badge>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

export function NetworkPage(): ReactNode {
  const api = useApi()
  const live = useLive()
  const now = useNow()
  const validators = useLoad(() => api.all((page) => api.validators(page), 1000), [api])
  const stats = chainStats(live.headers.slice(0, 20))
  const latest = live.headers[0]
  return (
    <>
      <PageTitle
        title="Network"
        subtitle={
          <>
            {live.status?.chainId ?? 'connecting…'} ·{' '}
            {live.isConnected ? <Badge tone="good">live</Badge> : <Badge tone="warn">reconnecting</Badge>}
            {live.status?.isSyncing === true ? <Badge tone="warn">syncing</Badge> : null}
          </>
        }
      />
      {live.error === null ? null : (
        <p className="error" role="alert">
          Could not reach the API: {live.error}
        </p>
      )}
      <div className="stats">
        <Stat
          label="Height"
          value={live.status === null ? '–' : `#${live.status.height}`}
          testId="height"
          hint={latest === undefined ? undefined : formatAgo(latest.timeMs, now)}
        />
        <Stat label="Block interval" value={formatMs(stats.blockIntervalMs)} hint="mean of the last 20 blocks" testId="block-interval" />
        <Stat
          label="Transactions / s"
          value={stats.txsPerSecond === null ? '–' : stats.txsPerSecond.toFixed(2)}
          hint="over the last 20 blocks"
          testId="tps"
        />
        <Stat
          label="Finality latency"
          value={formatMs(meanOfLatest(live.commitLatenciesMs, 10))}
          hint="block time → commit seen here"
          testId="finality"
        />
        <Stat label="Peers" value={live.status?.peerCount ?? '–'} testId="peers" />
        <Stat label="Node version" value={live.status?.version ?? '–'} />
      </div>
      <div className="grid-2 grid-wide-left">
        <Card title="Validators" id="validators">
          <Show loaded={validators} what="validators">
            {(list) => <ValidatorTable validators={list} proposed={stats.proposedByAddress} window={Math.min(20, live.headers.length)} />}
          </Show>
          <p className="muted small">Uptime and missed blocks are not served by the API yet; proposals are counted from the blocks seen.</p>
        </Card>
        <Card title="Latest blocks" id="latest" actions={<a href={href.blocks()}>All blocks →</a>}>
          {live.headers.length === 0 ? (
            <Empty>Waiting for blocks…</Empty>
          ) : (
            <ol className="block-feed" aria-live="polite" data-testid="block-feed">
              {live.headers.slice(0, 8).map((h) => (
                <li key={h.height}>
                  <a className="block-height" href={href.block(h.height)}>
                    #{h.height}
                  </a>
                  <span className="mono muted">{shortHash(h.hash, 6)}</span>
                  <span>{h.txCount} tx</span>
                  <span className="muted">{formatAgo(h.timeMs, now)}</span>
                </li>
              ))}
            </ol>
          )}
        </Card>
      </div>
    </>
  )
}
