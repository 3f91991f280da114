/**
 * The map's view as a Mercator scale and translate (d3-geo's projection
 * parameters), with zoom about a point and pan. Pure, tested in node.
 */
import { geoMercator, type GeoProjection } from 'd3-geo'

export interface MapView {
  scale: number
  translate: [number, number]
}

/** World at its smallest: the whole Mercator square fits the width. */
export function worldView(width: number, height: number): MapView {
  const scale = width / (2 * Math.PI)
  return { scale, translate: [width / 2, height / 2 + scale * 0.35] }
}

/** Deepest zoom: about 1.5 m per pixel at the equator (40,075 km / (2π · 2^22)), below any H3 cell a device asserts. */
export const scaleMax = 2 ** 22

/** The initial fit shows at least this many degrees, so that a handful of nearby cells keep their surroundings. */
export const fitSpanDegreesMin = 0.03

export function clampView(view: MapView, width: number): MapView {
  const scaleMin = width / (2 * Math.PI)
  const scale = Math.min(scaleMax, Math.max(scaleMin, view.scale))
  if (scale === view.scale) return view
  return { ...zoomAt(view, scale / view.scale, [width / 2, 0]), scale }
}

/** Zooms by `factor` keeping the screen point `at` fixed. */
export function zoomAt(view: MapView, factor: number, at: [number, number]): MapView {
  return {
    scale: view.scale * factor,
    translate: [at[0] - (at[0] - view.translate[0]) * factor, at[1] - (at[1] - view.translate[1]) * factor],
  }
}

export function pan(view: MapView, dx: number, dy: number): MapView {
  return { scale: view.scale, translate: [view.translate[0] + dx, view.translate[1] + dy] }
}

/** The view that fits [[west, south], [east, north]] in the box, with `padding` pixels around. */
export function fitView(bounds: [[number, number], [number, number]], width: number, height: number, padding: number): MapView {
  const [[w0, s0], [e0, n0]] = bounds
  const padLng = Math.max(0, fitSpanDegreesMin - (e0 - w0)) / 2
  const padLat = Math.max(0, fitSpanDegreesMin - (n0 - s0)) / 2
  const [west, south, east, north] = [w0 - padLng, s0 - padLat, e0 + padLng, n0 + padLat]
  const projection = geoMercator().fitExtent(
    [
      [padding, padding],
      [width - padding, height - padding],
    ],
    {
      type: 'Feature',
      properties: {},
      geometry: {
        type: 'MultiPoint',
        coordinates: [
          [west, south],
          [east, north],
        ],
      },
    },
  )
  return clampView({ scale: projection.scale(), translate: projection.translate() as [number, number] }, width)
}

export function projectionOf(view: MapView, width: number, height: number): GeoProjection {
  return geoMercator()
    .scale(view.scale)
    .translate(view.translate)
    .clipExtent([
      [0, 0],
      [width, height],
    ])
}
