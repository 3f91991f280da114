import type { ReactNode } from 'react'
import type { DelegationDto, RewardDto } from '@terrane/sdk'
import { useApi, useLoad } from '../hooks.ts'
import { formatTrn } from '../format.ts'
import { href } from '../router.ts'
import { Badge, Card, Empty, Fields, HashLink, PageTitle, Show } from '../ui.tsx'

const emptyPage = { items: [], nextCursor: null }

function orEmpty<T>(promise: Promise<T>, fallback: T): Promise<T> {
  return promise.catch((err: unknown) => {
    console.warn('Section unavailable', err)
    return fallback
  })
}

/** Owned devices whose rewards are summed on the account page (one request each). */
const rewardDevicesMax = 20

function DelegationTable({ items, other }: { items: DelegationDto[]; other: 'validator' | 'delegator' }): ReactNode {
  if (items.length === 0) return <Empty>None.</Empty>
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{other === 'validator' ? 'Validator' : 'Delegator'}</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col" className="num">
              Shares
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={`${d.delegator}/${d.validator}`}>
              <td>
                <HashLink kind="account" value={other === 'validator' ? d.validator : d.delegator} />
              </td>
              <td className="num">{formatTrn(d.amount)}</td>
              <td className="num">{d.shares}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function AccountPage({ address }: { address: string }): ReactNode {
  const api = useApi()
  const data = useLoad(async () => {
    // The account itself must load; the other sections degrade to empty if their route fails.
    const [account, validator, delegated, delegators, txs, devices] = await Promise.all([
      api.account(address),
      orEmpty(api.validator(address), null),
      orEmpty(api.delegations({ delegator: address, limit: 100 }), emptyPage),
      orEmpty(api.delegations({ validator: address, limit: 100 }), emptyPage),
      orEmpty(api.accountTxs(address, { limit: 20 }), emptyPage),
      orEmpty(api.devices({ owner: address, limit: 100 }), emptyPage),
    ])
    const rewardPages = await Promise.all(
      devices.items.slice(0, rewardDevicesMax).map((d) => orEmpty(api.deviceRewards(d.id, { limit: 100 }), emptyPage)),
    )
    const rewards: RewardDto[] = rewardPages.flatMap((p) => p.items)
    return { account, validator, delegated: delegated.items, delegators: delegators.items, txs: txs.items, devices: devices.items, rewards }
  }, [api, address])
  return (
    <>
      <PageTitle title="Account" subtitle={<span className="mono break">{address}</span>} />
      <Show loaded={data} what="the account">
        {(d) => {
          if (d.account === null && d.validator === null) return <Empty>No account with this address on chain.</Empty>
          const rewardTotal = d.rewards.reduce((sum, r) => sum + BigInt(r.amount), 0n)
          const byEpoch = new Map<number, bigint>()
          for (const r of d.rewards) byEpoch.set(r.epoch, (byEpoch.get(r.epoch) ?? 0n) + BigInt(r.amount))
          return (
            <>
              <div className="grid-2">
                <Card title="Balance" id="balance">
                  <Fields
                    rows={[
                      ['Balance', <strong data-testid="balance">{d.account === null ? '–' : formatTrn(d.account.balance)}</strong>],
                      ['Kind', d.account?.kind ?? '–'],
                      ['Nonce', d.account?.nonce ?? '–'],
                      ['Delegated', formatTrn(d.delegated.reduce((s, x) => s + BigInt(x.amount), 0n).toString())],
                      ['Device rewards', `${formatTrn(rewardTotal.toString())} over ${byEpoch.size} epochs`],
                    ]}
                  />
                </Card>
                {d.validator === null ? (
                  <Card title="Delegations" id="delegations">
                    <DelegationTable items={d.delegated} other="validator" />
                  </Card>
                ) : (
                  <Card title="Validator" id="validator">
                    <Fields
                      rows={[
                        ['Status', <Badge tone={d.validator.status === 'bonded' ? 'good' : 'warn'}>{d.validator.status}</Badge>],
                        ['Jailed', d.validator.isJailed ? <Badge tone="bad">jailed</Badge> : <Badge tone="good">no</Badge>],
                        ['Stake', formatTrn(d.validator.tokens)],
                        ['Voting power', d.validator.votingPower],
                        ['Commission', `${(d.validator.commissionBps / 100).toFixed(2)}%`],
                        ['Consensus key', <span className="mono break">{d.validator.publicKey}</span>],
                        ['Slashing history', <span className="muted">not served by the API yet (jail status above is current)</span>],
                      ]}
                    />
                  </Card>
                )}
              </div>
              {d.validator === null ? null : (
                <div className="grid-2">
                  <Card title="Delegators" id="delegators">
                    <DelegationTable items={d.delegators} other="delegator" />
                  </Card>
                  <Card title="Own delegations" id="delegations">
                    <DelegationTable items={d.delegated} other="validator" />
                  </Card>
                </div>
              )}
              <div className="grid-2">
                <Card title="Recent transactions" id="txs">
                  {d.txs.length === 0 ? (
                    <Empty>No transactions.</Empty>
                  ) : (
                    <ul className="plain">
                      {d.txs.map((t) => (
                        <li key={t.hash} className="row">
                          <HashLink kind="tx" value={t.hash} chars={10} />
                          <a href={href.block(t.height)}>#{t.height}</a>
                          {t.code === 0 ? <Badge tone="good">ok</Badge> : <Badge tone="bad">{t.reason || 'failed'}</Badge>}
                        </li>
                      ))}
                    </ul>
                  )}
                </Card>
                <Card title={`Devices (${d.devices.length})`} id="devices">
                  {d.devices.length === 0 ? (
                    <Empty>No devices.</Empty>
                  ) : (
                    <ul className="plain">
                      {d.devices.map((dev) => (
                        <li key={dev.id} className="row">
                          <a href={href.device(dev.id)}>{dev.id}</a>
                          <span className="muted">{dev.model}</span>
                          <Badge tone={dev.attestation.status === 'verified' ? 'good' : 'bad'}>{dev.attestation.status}</Badge>
                        </li>
                      ))}
                    </ul>
                  )}
                </Card>
              </div>
            </>
          )
        }}
      </Show>
    </>
  )
}
