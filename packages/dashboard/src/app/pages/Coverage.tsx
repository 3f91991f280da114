import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react'
import { geoBounds, geoGraticule, geoPath } from 'd3-geo'
import { cellToParent, getResolution, isValidCell } from 'h3-js'
import { feature, mesh } from 'topojson-client'
import type { GeometryCollection, Topology } from 'topojson-specification'
import type { Feature, FeatureCollection, MultiLineString } from 'geojson'
import type { DeviceDto, DeviceProofDto } from '@terrane/sdk'
import { useApi, useLoad } from '../hooks.ts'
import {
  boundsOf,
  densityColour,
  displayResolution,
  qualityColour,
  summariseCoverage,
  type CoverageSummary,
  type HexSummary,
} from '../map/hexes.ts'
import { clampView, fitView, pan, projectionOf, worldView, zoomAt, type MapView } from '../map/view.ts'
import { formatPercent } from '../format.ts'
import { href } from '../router.ts'
import { Badge, Card, Empty, PageTitle, Show, Stat } from '../ui.tsx'

/** Proofs of the latest epoch read to colour the cells by quality. */
const proofsItemsMax = 5000
/** Devices listed under a selected cell before "and N more". */
const cellDevicesShownMax = 200
/** Below this many pixels across, a cell is drawn as a dot so that it stays visible when zoomed out. */
const hexPixelsMin = 7
/** Cells at least this many pixels across show their device count. */
const hexLabelPixelsMin = 26
/** Above this scale the 1:10m outlines replace the 1:50m ones (loaded on demand, ~3.6 MB). */
const detailedAtlasScaleMin = 2 ** 14

interface Outlines {
  /** Countries with their [[west, south], [east, north]] bounds, to skip those out of view. */
  countries: Array<{ feature: Feature; bounds: [[number, number], [number, number]] }>
  borders: MultiLineString
}

async function loadOutlines(isDetailed: boolean): Promise<Outlines> {
  const topology = (isDetailed
    ? (await import('world-atlas/countries-10m.json')).default
    : (await import('world-atlas/countries-50m.json')).default) as unknown as Topology<{
    countries: GeometryCollection
  }>
  const land = feature(topology, topology.objects.countries) as FeatureCollection
  return {
    countries: land.features.map((f) => ({ feature: f, bounds: geoBounds(f) })),
    borders: mesh(topology, topology.objects.countries, (a, b) => a !== b),
  }
}

type ColourBy = 'density' | 'quality'

interface CoverageData {
  devices: DeviceDto[]
  proofs: DeviceProofDto[]
  epoch: number | null
  /** Devices by their own asserted cells. */
  full: CoverageSummary
  /** The finest resolution any device asserted at. */
  resolutionMax: number
}

function hexPath(
  hex: HexSummary,
  project: (p: [number, number]) => [number, number] | null,
): { d: string; span: number; cx: number; cy: number } | null {
  const points = hex.boundary.map(project)
  if (points.some((p) => p === null)) return null
  const xs = points.map((p) => (p as [number, number])[0])
  const ys = points.map((p) => (p as [number, number])[1])
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys))
  const center = project(hex.center) ?? [0, 0]
  return {
    d: `M${points.map((p) => (p as [number, number]).map((v) => v.toFixed(1)).join(',')).join('L')}Z`,
    span,
    cx: center[0],
    cy: center[1],
  }
}

function CoverageMap({
  data,
  colourBy,
  selected,
  onSelect,
}: {
  data: CoverageData
  colourBy: ColourBy
  selected: string | null
  onSelect: (cell: string) => void
}): ReactNode {
  const box = useRef<HTMLDivElement>(null)
  const svg = useRef<SVGSVGElement>(null)
  const [width, setWidth] = useState(800)
  const height = Math.round(Math.min(620, Math.max(340, width * 0.62)))
  const bounds = useMemo(() => boundsOf(data.full.hexes), [data])
  const homeView = useMemo(() => (bounds === null ? worldView(width, height) : fitView(bounds, width, height, 40)), [bounds, width, height])
  const home = (): MapView => homeView
  const [view, setView] = useState<MapView | null>(null)
  const current = view ?? homeView
  const isDetailed = current.scale >= detailedAtlasScaleMin
  const centreLatitude = bounds === null ? 0 : (bounds[0][1] + bounds[1][1]) / 2
  const resolution = displayResolution(current.scale, centreLatitude, data.resolutionMax)
  const summary = useMemo(
    () => (resolution >= data.resolutionMax ? data.full : summariseCoverage(data.devices, data.proofs, data.epoch, resolution)),
    [data, resolution],
  )
  const outlines = useLoad(() => loadOutlines(isDetailed), [isDetailed])
  const drag = useRef<{ x: number; y: number; moved: number } | null>(null)
  const wasDragged = useRef(false)

  useEffect(() => {
    const element = box.current
    if (element === null) return
    const observer = new ResizeObserver((entries) => setWidth(Math.max(280, Math.round(entries[0]?.contentRect.width ?? 800))))
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  useEffect(() => {
    // Wheel zoom about the cursor; a non-passive listener so the page does not scroll.
    const element = svg.current
    if (element === null) return
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault()
      const rect = element.getBoundingClientRect()
      const at: [number, number] = [((e.clientX - rect.left) / rect.width) * width, ((e.clientY - rect.top) / rect.height) * height]
      setView((v) => clampView(zoomAt(v ?? home(), Math.exp(-e.deltaY * 0.0015), at), width))
    }
    element.addEventListener('wheel', onWheel, { passive: false })
    return () => element.removeEventListener('wheel', onWheel)
  })

  const projection = useMemo(() => projectionOf(current, width, height), [current, width, height])
  const path = useMemo(() => geoPath(projection), [projection])
  // [west, south, east, north] of the view, to draw only what is in it.
  const viewBounds = useMemo(() => {
    const [west, north] = projection.invert?.([0, 0]) ?? [-180, 85]
    const [east, south] = projection.invert?.([width, height]) ?? [180, -85]
    return { west: Math.max(-180, west), south: Math.max(-85, south), east: Math.min(180, east), north: Math.min(85, north) }
  }, [projection, width, height])
  const land = useMemo(() => {
    if (outlines.state !== 'ready') return ''
    // Only the countries whose bounds meet the view (the 1:10m world is ~3.6 MB of arcs).
    const { west, south, east, north } = viewBounds
    const visible = outlines.value.countries.filter(
      ({ bounds: [[w, s], [e, n]] }) => (w > e || (e >= west && w <= east)) && n >= south && s <= north,
    )
    return visible.map(({ feature: f }) => path(f) ?? '').join('')
  }, [outlines, path, viewBounds])
  const graticule = useMemo(() => {
    // Lines every 10° down to every 0.01°, about four across the view, generated for the view only.
    const { west, south, east, north } = viewBounds
    const step = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01].find((s) => s * 4 <= east - west) ?? 0.01
    const extent: [[number, number], [number, number]] = [
      [Math.floor(west / step) * step, Math.floor(south / step) * step],
      [Math.ceil(east / step) * step, Math.ceil(north / step) * step],
    ]
    return path(geoGraticule().extent(extent).step([step, step]).precision(Math.min(2.5, step))()) ?? ''
  }, [path, viewBounds])
  const borders = useMemo(() => (outlines.state === 'ready' ? (path(outlines.value.borders) ?? '') : ''), [outlines, path])
  const project = (p: [number, number]): [number, number] | null => projection(p) as [number, number] | null

  const zoomBy = (factor: number): void => setView((v) => clampView(zoomAt(v ?? home(), factor, [width / 2, height / 2]), width))
  const panBy = (dx: number, dy: number): void => setView((v) => pan(v ?? home(), dx, dy))
  const onKeyDown = (e: KeyboardEvent): void => {
    const step = 80
    const actions: Record<string, () => void> = {
      '+': () => zoomBy(1.5),
      '=': () => zoomBy(1.5),
      '-': () => zoomBy(1 / 1.5),
      ArrowLeft: () => panBy(step, 0),
      ArrowRight: () => panBy(-step, 0),
      ArrowUp: () => panBy(0, step),
      ArrowDown: () => panBy(0, -step),
      '0': () => setView(null),
    }
    const action = actions[e.key]
    if (action === undefined || e.target !== e.currentTarget) return
    e.preventDefault()
    action()
  }
  const onPointerDown = (e: PointerEvent): void => {
    drag.current = { x: e.clientX, y: e.clientY, moved: 0 }
    wasDragged.current = false
  }
  const onPointerMove = (e: PointerEvent): void => {
    const d = drag.current
    if (d === null) return
    const rect = svg.current?.getBoundingClientRect()
    const ratio = rect === undefined || rect.width === 0 ? 1 : width / rect.width
    const dx = (e.clientX - d.x) * ratio
    const dy = (e.clientY - d.y) * ratio
    d.moved += Math.abs(dx) + Math.abs(dy)
    d.x = e.clientX
    d.y = e.clientY
    if (d.moved > 4) {
      if (!wasDragged.current) svg.current?.setPointerCapture(e.pointerId)
      wasDragged.current = true
      panBy(dx, dy)
    }
  }
  const onPointerUp = (): void => {
    drag.current = null
  }
  const colourOf = (hex: HexSummary): string =>
    colourBy === 'density' ? densityColour(hex.deviceIds.length, summary.densityMax) : qualityColour(hex.quality)

  return (
    <div className="map-box" ref={box}>
      <div className="map-controls" role="toolbar" aria-label="Map controls">
        <button onClick={() => zoomBy(1.5)} aria-label="Zoom in">
          +
        </button>
        <button onClick={() => zoomBy(1 / 1.5)} aria-label="Zoom out">
          −
        </button>
        <button onClick={() => setView(null)}>Fit devices</button>
        <button onClick={() => setView(worldView(width, height))}>World</button>
      </div>
      <svg
        ref={svg}
        className="map"
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        role="group"
        aria-label="Coverage map: arrow keys pan, + and − zoom, 0 fits the devices, Tab moves between cells"
        tabIndex={0}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        data-testid="coverage-map"
        data-resolution={resolution}
      >
        <rect width={width} height={height} className="sea" />
        <path d={land} className="land" />
        <path d={graticule} className="graticule" />
        <path d={borders} className="borders" />
        <g className="hexes">
          {summary.hexes.map((hex) => {
            const shape = hexPath(hex, project)
            if (shape === null || shape.cx < -20 || shape.cy < -20 || shape.cx > width + 20 || shape.cy > height + 20) return null
            const label = `Cell ${hex.cell}: ${hex.deviceIds.length} devices, quality ${formatPercent(hex.quality)}`
            const activate = (): void => {
              if (!wasDragged.current) onSelect(hex.cell)
            }
            const common = {
              role: 'button',
              tabIndex: 0,
              'aria-label': label,
              'aria-pressed': selected === hex.cell,
              'data-cell': hex.cell,
              className: selected === hex.cell ? 'hex hex-selected' : 'hex',
              fill: colourOf(hex),
              onClick: activate,
              onKeyDown: (e: KeyboardEvent) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault()
                  onSelect(hex.cell)
                }
              },
            }
            return shape.span >= hexPixelsMin ? (
              <g key={hex.cell}>
                <path d={shape.d} {...common}>
                  <title>{label}</title>
                </path>
                {shape.span >= hexLabelPixelsMin ? (
                  <text x={shape.cx} y={shape.cy} className="hex-count" aria-hidden="true">
                    {hex.deviceIds.length}
                  </text>
                ) : null}
              </g>
            ) : (
              <circle key={hex.cell} cx={shape.cx} cy={shape.cy} r={5} {...common}>
                <title>{label}</title>
              </circle>
            )
          })}
        </g>
        <ScaleBar scale={current.scale} latitude={centreLatitude} x={12} y={height - 14} />
      </svg>
      <div className="map-legend">
        <span>
          {colourBy === 'density' ? 'Devices per cell' : 'Coverage quality'} <span className="muted">(H3 resolution {resolution})</span>
        </span>
        <span className={`gradient gradient-${colourBy}`} aria-hidden="true" />
        <span className="muted">
          {colourBy === 'density' ? `1 – ${summary.densityMax}` : '0% – 100%'} · witness links of the last epoch: not served by the API yet
          · outlines: Natural Earth via world-atlas ({isDetailed ? '1:10m' : '1:50m'})
        </span>
      </div>
    </div>
  )
}

/** A scale bar of a round length near 100 px (Mercator: metres per pixel grow with 1 / cos(latitude)). */
function ScaleBar({ scale, latitude, x, y }: { scale: number; latitude: number; x: number; y: number }): ReactNode {
  const metresPerPixel = (6_378_137 * Math.cos((latitude * Math.PI) / 180)) / scale
  const target = metresPerPixel * 100
  const power = 10 ** Math.floor(Math.log10(target))
  const metres = ([5, 2, 1].map((m) => m * power).find((m) => m <= target) ?? power) as number
  const pixels = metres / metresPerPixel
  const label = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`
  return (
    <g className="scale-bar" aria-hidden="true">
      <path d={`M${x},${y - 5}V${y}H${x + pixels}V${y - 5}`} />
      <text x={x + pixels + 6} y={y}>
        {label}
      </text>
    </g>
  )
}

/** The summary of one cell at its own resolution: the devices asserted in it or in any of its children. */
function cellSummary(data: CoverageData, cell: string): HexSummary | undefined {
  if (!isValidCell(cell)) return undefined
  const resolution = getResolution(cell)
  const inside = data.devices.filter(
    (d) =>
      isValidCell(d.h3Cell) && getResolution(d.h3Cell) >= resolution && (d.h3Cell === cell || cellToParent(d.h3Cell, resolution) === cell),
  )
  return summariseCoverage(inside, data.proofs, data.epoch, resolution).hexes.find((h) => h.cell === cell)
}

function CellPanel({ hex, devices }: { hex: HexSummary; devices: Map<string, DeviceDto> }): ReactNode {
  const shown = hex.deviceIds.slice(0, cellDevicesShownMax)
  return (
    <Card title={`Cell ${hex.cell}`} id="cell">
      <p className="muted">
        Resolution {hex.resolution} · {hex.deviceIds.length} devices · {hex.healthyCount} active and attested · {hex.provenCount} proved in
        the last epoch · quality {formatPercent(hex.quality)}
      </p>
      <ul className="plain device-list" data-testid="cell-devices">
        {shown.map((id) => {
          const device = devices.get(id)
          return (
            <li key={id} className="row">
              <a href={href.device(id)}>{id}</a>
              <span className="muted">{device?.model}</span>
              {device === undefined ? null : (
                <Badge tone={device.attestation.status === 'verified' ? 'good' : 'bad'}>{device.attestation.status}</Badge>
              )}
            </li>
          )
        })}
      </ul>
      {hex.deviceIds.length > shown.length ? <p className="muted">and {hex.deviceIds.length - shown.length} more</p> : null}
    </Card>
  )
}

export function CoveragePage({ cell }: { cell: string | null }): ReactNode {
  const api = useApi()
  const [colourBy, setColourBy] = useState<ColourBy>('density')
  const [selected, setSelected] = useState<string | null>(cell)
  useEffect(() => setSelected(cell), [cell])
  const data = useLoad(async () => {
    const [devices, latestReward] = await Promise.all([api.all((page) => api.devices(page)), api.rewards({ limit: 1 })])
    // The newest epoch with rewards is the last finished one; its proofs set the quality.
    const epoch = latestReward.items[0]?.epoch ?? null
    const proofs = epoch === null ? [] : await api.all((page) => api.proofs({ ...page, epoch }), proofsItemsMax)
    const full = summariseCoverage(devices, proofs, epoch)
    const data: CoverageData = { devices, proofs, epoch, full, resolutionMax: full.hexes.reduce((m, h) => Math.max(m, h.resolution), 0) }
    return { byId: new Map(devices.map((d) => [d.id, d])), data }
  }, [api])
  const select = (next: string): void => {
    setSelected(next)
    // Keep the URL shareable without a route change (which would move focus off the map).
    window.history.replaceState(null, '', href.map(next))
  }
  return (
    <>
      <PageTitle
        title="Coverage map"
        subtitle="Devices by the H3 cell they asserted. Drag to pan, scroll or +/− to zoom, click a cell to list its devices."
      />
      <Show loaded={data} what="devices">
        {({ byId: devices, data: coverage }) => {
          const summary = coverage.full
          const hex = selected === null ? undefined : cellSummary(coverage, selected)
          const healthy = summary.hexes.reduce((s, h) => s + h.healthyCount, 0)
          return (
            <>
              <div className="stats">
                <Stat label="Devices" value={devices.size} testId="device-count" />
                <Stat label="Cells" value={summary.hexes.length} testId="cell-count" />
                <Stat label="Active and attested" value={devices.size === 0 ? '–' : formatPercent(healthy / devices.size)} />
                <Stat
                  label="Quality epoch"
                  value={summary.epoch ?? '–'}
                  hint={summary.epoch === null ? 'no proofs yet: quality = attested share' : 'accepted proofs share'}
                />
              </div>
              <div className="map-layout">
                <Card
                  title="Map"
                  id="map"
                  actions={
                    <div className="segmented" role="radiogroup" aria-label="Colour cells by">
                      {(['density', 'quality'] as const).map((mode) => (
                        <button
                          key={mode}
                          role="radio"
                          aria-checked={colourBy === mode}
                          className={colourBy === mode ? 'on' : ''}
                          onClick={() => setColourBy(mode)}
                        >
                          {mode === 'density' ? 'Density' : 'Quality'}
                        </button>
                      ))}
                    </div>
                  }
                >
                  {summary.hexes.length === 0 ? <Empty>No devices registered yet: the map fills in as devices are onboarded.</Empty> : null}
                  <CoverageMap data={coverage} colourBy={colourBy} selected={selected} onSelect={select} />
                </Card>
                <div className="map-side">
                  {hex === undefined ? (
                    <Card title="Cells" id="cells">
                      <p className="muted">Select a cell on the map, or one of the busiest:</p>
                      <ul className="plain">
                        {summary.hexes.slice(0, 12).map((h) => (
                          <li key={h.cell} className="row">
                            <button className="link mono" onClick={() => select(h.cell)}>
                              {h.cell}
                            </button>
                            <span>{h.deviceIds.length} devices</span>
                            <span className="muted">{formatPercent(h.quality)}</span>
                          </li>
                        ))}
                      </ul>
                    </Card>
                  ) : (
                    <CellPanel hex={hex} devices={devices} />
                  )}
                  {summary.invalidCellCount > 0 ? (
                    <p className="muted">{summary.invalidCellCount} devices have an invalid cell and are not drawn.</p>
                  ) : null}
                </div>
              </div>
            </>
          )
        }}
      </Show>
    </>
  )
}
