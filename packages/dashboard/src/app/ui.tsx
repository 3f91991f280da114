import type { ReactNode } from 'react'
import type { Loaded } from './hooks.ts'
import { shortHash } from './format.ts'
import { href } from './router.ts'

export function Card({
  title,
  children,
  actions,
  id,
}: {
  title?: string
  children: ReactNode
  actions?: ReactNode
  id?: string
}): ReactNode {
  return (
    <section className="card" aria-labelledby={id === undefined ? undefined : `${id}-title`}>
      {title === undefined ? null : (
        <header className="card-header">
          <h2 id={id === undefined ? undefined : `${id}-title`}>{title}</h2>
          {actions}
        </header>
      )}
      {children}
    </section>
  )
}

export function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string
  value: ReactNode
  hint?: string | undefined
  testId?: string
}): ReactNode {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
      {hint === undefined ? null : <div className="stat-hint">{hint}</div>}
    </div>
  )
}

/** A definition list of label/value rows. */
export function Fields({ rows }: { rows: Array<[string, ReactNode]> }): ReactNode {
  return (
    <dl className="fields">
      {rows.map(([label, value]) => (
        <div key={label} className="field">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

export function HashLink({ kind, value, chars }: { kind: 'tx' | 'block' | 'account'; value: string; chars?: number }): ReactNode {
  const target = kind === 'tx' ? href.tx(value) : kind === 'account' ? href.account(value) : href.search(value)
  return (
    <a className="mono" href={target} title={value}>
      {shortHash(value, chars)}
    </a>
  )
}

export function Badge({ tone, children }: { tone: 'good' | 'bad' | 'warn' | 'neutral'; children: ReactNode }): ReactNode {
  return <span className={`badge badge-${tone}`}>{children}</span>
}

export function Loading({ what }: { what: string }): ReactNode {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  )
}

export function Empty({ children }: { children: ReactNode }): ReactNode {
  return <p className="muted empty">{children}</p>
}

/** Renders a Loaded value: spinner text, error or the content. */
export function Show<T>({ loaded, what, children }: { loaded: Loaded<T>; what: string; children: (value: T) => ReactNode }): ReactNode {
  if (loaded.state === 'loading') return <Loading what={what} />
  if (loaded.state === 'error')
    return (
      <p className="error" role="alert">
        Could not load {what}: {loaded.message}
      </p>
    )
  return children(loaded.value)
}

export function PageTitle({ title, subtitle }: { title: string; subtitle?: ReactNode }): ReactNode {
  return (
    <div className="page-title">
      <h1>{title}</h1>
      {subtitle === undefined ? null : <div className="subtitle">{subtitle}</div>}
    </div>
  )
}
