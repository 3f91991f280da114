import type { ReactNode } from 'react'
import { cellToLatLng, getHexagonEdgeLengthAvg, getResolution, isValidCell, UNITS } from 'h3-js'
import type { DeviceProofDto, RewardDto } from '@terrane/sdk'
import { useApi, useLoad } from '../hooks.ts'
import { formatTrn } from '../format.ts'
import { href } from '../router.ts'
import { StackedBars } from '../chart.tsx'
import { Badge, Card, Empty, Fields, HashLink, PageTitle, Show } from '../ui.tsx'

/** Proofs and rewards read per device for the charts. */
const historyItemsMax = 2000

const attestationTone = { verified: 'good', pending: 'warn', rejected: 'bad', expired: 'bad' } as const

function ProofChart({ proofs }: { proofs: DeviceProofDto[] }): ReactNode {
  if (proofs.length === 0) return <Empty>No proofs recorded for this device yet.</Empty>
  const epochs = [...new Set(proofs.map((p) => p.epoch))].sort((a, b) => a - b)
  const columns = epochs.map((epoch) => {
    const of = proofs.filter((p) => p.epoch === epoch)
    const count = (kind: string, verdict: string): number => of.filter((p) => p.kind === kind && p.verdict === verdict).length
    const values = [count('coverage', 'accepted'), count('service', 'accepted'), of.filter((p) => p.verdict === 'rejected').length]
    const witnesses = of.reduce((s, p) => s + p.witnessCount, 0)
    return {
      label: String(epoch),
      values,
      title: `epoch ${epoch}: ${values[0]} coverage and ${values[1]} service accepted, ${values[2]} rejected, ${witnesses} witnesses`,
    }
  })
  return (
    <StackedBars
      label="Proofs per epoch"
      isInteger
      series={[
        { name: 'coverage accepted', colour: '#41b6c4' },
        { name: 'service accepted', colour: '#7fcd7b' },
        { name: 'rejected', colour: '#e0533d' },
      ]}
      columns={columns}
    />
  )
}

function RewardChart({ rewards }: { rewards: RewardDto[] }): ReactNode {
  const ordered = [...rewards].sort((a, b) => a.epoch - b.epoch)
  const names = [...new Set(ordered.flatMap((r) => r.explanation.map((c) => c.name)))]
  const palette = ['#41b6c4', '#7fcd7b', '#f2b84b', '#b48ae6', '#e0533d']
  const micro = 1_000_000
  return (
    <StackedBars
      label="Rewards per epoch, by component"
      format={(v) => String(Number((v / micro).toPrecision(3)))}
      series={names.map((name, i) => ({ name, colour: palette[i % palette.length] as string }))}
      columns={ordered.map((r) => ({
        label: String(r.epoch),
        values: names.map((n) => r.explanation.filter((c) => c.name === n).reduce((s, c) => s + Number(c.amount), 0)),
        title: `epoch ${r.epoch}: ${formatTrn(r.amount)}`,
      }))}
    />
  )
}

export function DevicePage({ id }: { id: string }): ReactNode {
  const api = useApi()
  const data = useLoad(async () => {
    const device = await api.device(id)
    if (device === null) return null
    const [proofs, rewards, agreements, channels] = await Promise.all([
      api.all((page) => api.deviceProofs(id, page), historyItemsMax),
      api.all((page) => api.deviceRewards(id, page), historyItemsMax),
      api.agreements({ party: device.owner, limit: 100 }),
      api.channels({ party: device.owner, limit: 100 }),
    ])
    return { device, proofs, rewards, agreements: agreements.items.filter((a) => a.deviceIds.includes(id)), channels: channels.items }
  }, [api, id])
  return (
    <>
      <PageTitle title="Device" subtitle={<span className="mono">{id}</span>} />
      <Show loaded={data} what="the device">
        {(d) => {
          if (d === null) return <Empty>No device with id “{id}”.</Empty>
          const { device } = d
          const hasCell = isValidCell(device.h3Cell)
          const [lat, lng] = hasCell ? cellToLatLng(device.h3Cell) : [NaN, NaN]
          const latestProof = [...d.proofs].sort((a, b) => b.height - a.height)[0]
          return (
            <>
              <div className="grid-2">
                <Card title="Status" id="status">
                  <Fields
                    rows={[
                      [
                        'Attestation',
                        <span data-testid="attestation">
                          <Badge tone={attestationTone[device.attestation.status]}>{device.attestation.status}</Badge>{' '}
                          {device.attestation.reason}
                        </span>,
                      ],
                      ['Checked at', <a href={href.block(device.attestation.checkedHeight)}>block #{device.attestation.checkedHeight}</a>],
                      ['Active', device.isActive ? <Badge tone="good">active</Badge> : <Badge tone="bad">inactive</Badge>],
                      ['Model', device.model],
                      ['Firmware', <span className="muted">reported through measured-boot reports; not served by the API yet</span>],
                      ['Owner', <HashLink kind="account" value={device.owner} chars={12} />],
                      [
                        'Registered',
                        <a href={href.block(device.registeredHeight)} data-testid="registered-block">
                          block #{device.registeredHeight}
                        </a>,
                      ],
                    ]}
                  />
                </Card>
                <Card title="Location" id="location">
                  <Fields
                    rows={[
                      [
                        'Asserted cell',
                        hasCell ? (
                          <a className="mono" href={href.map(device.h3Cell)}>
                            {device.h3Cell}
                          </a>
                        ) : (
                          <span className="mono">{device.h3Cell}</span>
                        ),
                      ],
                      ['Centre', hasCell ? `${lat.toFixed(5)}, ${lng.toFixed(5)}` : '–'],
                      [
                        'Resolution',
                        hasCell
                          ? `${getResolution(device.h3Cell)} (edge ≈ ${Math.round(getHexagonEdgeLengthAvg(getResolution(device.h3Cell), UNITS.m))} m)`
                          : '–',
                      ],
                      [
                        'Radio evidence',
                        latestProof === undefined ? (
                          <span className="muted">no proofs yet</span>
                        ) : (
                          <>
                            last proof at <a href={href.block(latestProof.height)}>block #{latestProof.height}</a> with{' '}
                            {latestProof.witnessCount} witnesses; distance from the assertion is not served by the API yet
                          </>
                        ),
                      ],
                    ]}
                  />
                </Card>
              </div>
              <Card title={`Proofs of coverage and service (${d.proofs.length})`} id="proofs">
                <ProofChart proofs={d.proofs} />
              </Card>
              <Card title="Rewards per epoch" id="rewards">
                {d.rewards.length === 0 ? (
                  <Empty>No rewards yet.</Empty>
                ) : (
                  <>
                    <RewardChart rewards={d.rewards} />
                    <div className="table-wrap">
                      <table>
                        <thead>
                          <tr>
                            <th scope="col">Epoch</th>
                            <th scope="col" className="num">
                              Amount
                            </th>
                            <th scope="col">Explanation</th>
                            <th scope="col">Block</th>
                          </tr>
                        </thead>
                        <tbody>
                          {[...d.rewards]
                            .sort((a, b) => b.epoch - a.epoch)
                            .map((r) => (
                              <tr key={r.epoch}>
                                <td>{r.epoch}</td>
                                <td className="num">{formatTrn(r.amount)}</td>
                                <td>
                                  <ul className="plain explanation">
                                    {r.explanation.map((c) => (
                                      <li key={c.name}>
                                        <strong>{c.name}</strong> {formatTrn(c.amount)} <span className="muted">— {c.detail}</span>
                                      </li>
                                    ))}
                                  </ul>
                                </td>
                                <td>
                                  <a href={href.block(r.height)}>#{r.height}</a>
                                </td>
                              </tr>
                            ))}
                        </tbody>
                      </table>
                    </div>
                  </>
                )}
              </Card>
              <div className="grid-2">
                <Card title="Agreements" id="agreements">
                  {d.agreements.length === 0 ? (
                    <Empty>No service agreement covers this device.</Empty>
                  ) : (
                    <ul className="plain">
                      {d.agreements.map((a) => (
                        <li key={a.id}>
                          <Fields
                            rows={[
                              ['Agreement', <span className="mono">{a.id}</span>],
                              ['Status', <Badge tone={a.status === 'active' ? 'good' : 'neutral'}>{a.status}</Badge>],
                              ['Customer', <HashLink kind="account" value={a.customer} />],
                              ['Price', `${formatTrn(a.pricePerEpoch)} / epoch`],
                              ['Epochs', `${a.startEpoch} – ${a.endEpoch}`],
                            ]}
                          />
                        </li>
                      ))}
                    </ul>
                  )}
                </Card>
                <Card title="Payment channels of the owner" id="channels">
                  {d.channels.length === 0 ? (
                    <Empty>No payment channels.</Empty>
                  ) : (
                    <ul className="plain">
                      {d.channels.map((c) => (
                        <li key={c.id}>
                          <Fields
                            rows={[
                              ['Channel', <span className="mono">{c.id}</span>],
                              ['Status', <Badge tone={c.status === 'open' ? 'good' : 'neutral'}>{c.status}</Badge>],
                              [
                                'Payer → payee',
                                <>
                                  <HashLink kind="account" value={c.payer} chars={6} /> →{' '}
                                  <HashLink kind="account" value={c.payee} chars={6} />
                                </>,
                              ],
                              ['Redeemed', `${formatTrn(c.redeemed)} of ${formatTrn(c.deposit)}`],
                              ['Expires', <a href={href.block(c.expiresHeight)}>block #{c.expiresHeight}</a>],
                            ]}
                          />
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
