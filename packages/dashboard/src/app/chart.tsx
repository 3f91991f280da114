/** A small stacked bar chart in SVG (no chart library: the app stays small and offline). */
import { useEffect, useRef, useState, type ReactNode } from 'react'

export interface ChartSeries {
  name: string
  colour: string
}

export interface ChartColumn {
  label: string
  /** One value per series, stacked bottom-up. */
  values: number[]
  title: string
}

const height = 200
const margin = { top: 12, right: 12, bottom: 28, left: 56 }

/** Four even steps from 0 to a round maximum at or above `value`; whole steps when `isInteger`. */
export function niceTicks(value: number, isInteger: boolean): number[] {
  const raw = Math.max(value, isInteger ? 1 : Number.MIN_VALUE) / 4
  const power = 10 ** Math.floor(Math.log10(raw))
  let step = ([1, 2, 2.5, 5, 10].find((s) => s * power >= raw) ?? 10) * power
  if (isInteger) step = Math.max(1, Math.ceil(step))
  return [0, 1, 2, 3, 4].map((i) => i * step)
}

export function StackedBars({
  series,
  columns,
  label,
  format = String,
  isInteger = false,
}: {
  series: ChartSeries[]
  columns: ChartColumn[]
  label: string
  format?: (v: number) => string
  isInteger?: boolean
}): ReactNode {
  // Drawn at the figure's real width, so text keeps its size on any screen.
  const figure = useRef<HTMLElement>(null)
  const [width, setWidth] = useState(640)
  useEffect(() => {
    const element = figure.current
    if (element === null) return
    const observer = new ResizeObserver((entries) => setWidth(Math.max(260, Math.round(entries[0]?.contentRect.width ?? 640))))
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  const ticks = niceTicks(Math.max(0, ...columns.map((c) => c.values.reduce((a, b) => a + b, 0))), isInteger)
  const max = ticks[ticks.length - 1] as number
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const band = plotW / Math.max(1, columns.length)
  const barW = Math.max(2, Math.min(36, band * 0.7))
  const y = (v: number): number => margin.top + plotH - (v / max) * plotH
  const labelEvery = Math.ceil(columns.length / Math.max(2, Math.floor(plotW / 48)))
  return (
    <figure className="chart" ref={figure}>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={label}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={margin.left} x2={width - margin.right} y1={y(t)} y2={y(t)} className="gridline" />
            <text x={margin.left - 6} y={y(t)} className="axis" textAnchor="end" dominantBaseline="middle">
              {format(t)}
            </text>
          </g>
        ))}
        {columns.map((c, i) => {
          const x = margin.left + i * band + (band - barW) / 2
          let base = 0
          return (
            <g key={c.label}>
              <title>{c.title}</title>
              {c.values.map((v, k) => {
                const top = base + v
                const rect =
                  v <= 0 ? null : (
                    <rect key={k} x={x} width={barW} y={y(top)} height={y(base) - y(top)} fill={series[k]?.colour ?? '#888'} rx={2} />
                  )
                base = top
                return rect
              })}
              {i % labelEvery === 0 ? (
                <text x={x + barW / 2} y={height - 10} className="axis" textAnchor="middle">
                  {c.label}
                </text>
              ) : null}
            </g>
          )
        })}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <span className="swatch" style={{ background: s.colour }} aria-hidden="true" />
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}
