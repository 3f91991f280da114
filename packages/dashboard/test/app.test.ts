// The app's pure parts, in node: search classification, routes, formatting, chain statistics, map maths.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cellToParent, latLngToCell } from 'h3-js'
import type { BlockHeaderDto, DeviceDto, DeviceProofDto } from '@terrane/sdk'
import { classifySearch } from '../src/app/search.ts'
import { href, parseRoute } from '../src/app/router.ts'
import { formatAgo, formatMs, formatTrn, shortHash } from '../src/app/format.ts'
import { chainStats, meanOfLatest } from '../src/app/stats.ts'
import { boundsOf, densityColour, displayResolution, qualityColour, summariseCoverage } from '../src/app/map/hexes.ts'
import { clampView, fitView, pan, projectionOf, scaleMax, worldView, zoomAt } from '../src/app/map/view.ts'
import { apiBaseUrl } from '../src/app/api.ts'

test('search: heights, hashes, addresses and device ids', () => {
  const hash = 'ab'.repeat(32)
  assert.deepEqual(classifySearch(' 42 '), { kind: 'height', height: 42 })
  assert.deepEqual(classifySearch('#7'), { kind: 'height', height: 7 })
  assert.deepEqual(classifySearch(hash.toUpperCase()), { kind: 'hash', hash })
  assert.deepEqual(classifySearch(`0x${hash}`), { kind: 'hash', hash })
  const address = 'trn1' + 'q'.repeat(38)
  assert.deepEqual(classifySearch(address), { kind: 'address', address })
  assert.deepEqual(classifySearch('dev-00012'), { kind: 'device', id: 'dev-00012' })
  // 63 hex characters is not a hash: a device id may look like that.
  assert.equal(classifySearch('a'.repeat(63)).kind, 'device')
  assert.deepEqual(classifySearch('   '), { kind: 'invalid', reason: 'empty' })
  assert.deepEqual(classifySearch('no such thing!'), { kind: 'invalid', reason: 'unrecognised' })
})

test('routes: every href parses back to its page', () => {
  assert.deepEqual(parseRoute(''), { page: 'network' })
  assert.deepEqual(parseRoute(href.network()), { page: 'network' })
  assert.deepEqual(parseRoute(href.map()), { page: 'map', cell: null })
  assert.deepEqual(parseRoute(href.map('8a2a1072b59ffff')), { page: 'map', cell: '8a2a1072b59ffff' })
  assert.deepEqual(parseRoute(href.blocks()), { page: 'blocks' })
  assert.deepEqual(parseRoute(href.block(12)), { page: 'block', height: 12 })
  assert.deepEqual(parseRoute(href.tx('ff')), { page: 'tx', hash: 'ff' })
  assert.deepEqual(parseRoute(href.account('trn1x')), { page: 'account', address: 'trn1x' })
  assert.deepEqual(parseRoute('#/validators/trn1x'), { page: 'account', address: 'trn1x' })
  assert.deepEqual(parseRoute(href.device('a:b/c')), { page: 'device', id: 'a:b/c' })
  assert.deepEqual(parseRoute(href.search('dev 1')), { page: 'search', query: 'dev 1' })
  assert.deepEqual(parseRoute('#/blocks/x'), { page: 'notFound', path: '/blocks/x' })
})

test('api base URL: same origin unless ?api= names an http(s) URL', () => {
  assert.equal(apiBaseUrl({ origin: 'http://a:1', search: '' }), 'http://a:1')
  assert.equal(apiBaseUrl({ origin: 'http://a:1', search: '?api=http://b:2' }), 'http://b:2')
  assert.equal(apiBaseUrl({ origin: 'http://a:1', search: '?api=javascript:alert(1)' }), 'http://a:1')
})

test('format: amounts, hashes, durations', () => {
  assert.equal(formatTrn('0'), '0 TRN')
  assert.equal(formatTrn('12345'), '0.012345 TRN')
  assert.equal(formatTrn('1000000000000000'), '1,000,000,000 TRN')
  assert.equal(formatTrn('1500000'), '1.5 TRN')
  assert.equal(shortHash('0123456789abcdef0123456789', 4), '0123…6789')
  assert.equal(shortHash('abc'), 'abc')
  assert.equal(formatMs(null), '–')
  assert.equal(formatMs(250), '250 ms')
  assert.equal(formatMs(1500), '1.50 s')
  assert.equal(formatAgo(0, 125_000), '2m ago')
})

function header(height: number, timeMs: number, txCount: number, proposer = 'trn1a'): BlockHeaderDto {
  const h = '00'.repeat(32)
  return { height, hash: h, parentHash: h, timeMs, proposer, txRoot: h, stateRoot: h, txCount }
}

test('chain statistics: block interval, transactions per second, proposals', () => {
  // Newest first: 4 blocks one second apart, the oldest one's transactions are outside the span.
  const stats = chainStats([header(4, 4000, 3), header(3, 3000, 2, 'trn1b'), header(2, 2000, 1), header(1, 1000, 100)])
  assert.equal(stats.blockIntervalMs, 1000)
  assert.equal(stats.txsPerSecond, 2)
  assert.deepEqual(
    [...stats.proposedByAddress],
    [
      ['trn1a', 3],
      ['trn1b', 1],
    ],
  )
  assert.equal(chainStats([header(1, 0, 1)]).blockIntervalMs, null)
  assert.equal(meanOfLatest([1, 2, 3, 10], 2), 6.5)
  assert.equal(meanOfLatest([], 2), null)
})

function device(id: string, h3Cell: string, isHealthy = true): DeviceDto {
  return {
    id,
    owner: 'trn1' + 'q'.repeat(38),
    model: 'm',
    h3Cell,
    attestation: { status: isHealthy ? 'verified' : 'rejected', reason: '', checkedHeight: 1 },
    registeredHeight: 1,
    isActive: isHealthy,
  }
}

function proof(deviceId: string, epoch: number, verdict: 'accepted' | 'rejected'): DeviceProofDto {
  return { id: `${deviceId}-${epoch}`, deviceId, kind: 'coverage', epoch, height: 1, witnessCount: 3, verdict, reason: '' }
}

test('coverage: devices grouped by cell, density and quality, aggregated to coarser cells', () => {
  const a = latLngToCell(40.689, -74.044, 10)
  const b = latLngToCell(40.7, -74.0, 10)
  const devices = [device('d1', a), device('d2', a), device('d3', a, false), device('d4', b), device('bad', 'zz')]
  const withoutProofs = summariseCoverage(devices, [], null)
  assert.equal(withoutProofs.hexes.length, 2)
  assert.equal(withoutProofs.invalidCellCount, 1)
  assert.equal(withoutProofs.densityMax, 3)
  const first = withoutProofs.hexes[0]
  assert.ok(first !== undefined)
  assert.equal(first.cell, a)
  assert.deepEqual(first.deviceIds, ['d1', 'd2', 'd3'])
  assert.equal(first.quality, 2 / 3, 'no proofs: the healthy share')
  assert.equal(first.boundary.length, 6)

  // With proofs of the epoch, quality is the share that proved (other epochs do not count).
  const proofs = [proof('d1', 5, 'accepted'), proof('d2', 5, 'rejected'), proof('d2', 4, 'accepted')]
  const withProofs = summariseCoverage(devices, proofs, 5)
  assert.equal(withProofs.epoch, 5)
  assert.equal(withProofs.hexes[0]?.quality, 1 / 3)
  assert.equal(withProofs.hexes[1]?.quality, 0)

  // At resolution 5 both cells share a parent.
  const coarse = summariseCoverage(devices, [], null, 5)
  assert.equal(coarse.hexes.length, 1)
  assert.equal(coarse.hexes[0]?.cell, cellToParent(a, 5))
  assert.equal(coarse.hexes[0]?.deviceIds.length, 4)

  const bounds = boundsOf(withoutProofs.hexes)
  assert.ok(bounds !== null)
  assert.ok(bounds[0][0] < -74.044 && bounds[1][0] > -74.0 && bounds[0][1] < 40.689 && bounds[1][1] > 40.7)
  assert.equal(boundsOf([]), null)
})

test('coverage: colour scales run from the first stop to the last', () => {
  assert.equal(densityColour(1, 25), 'rgb(199, 233, 180)')
  assert.equal(densityColour(25, 25), 'rgb(37, 52, 148)')
  assert.equal(qualityColour(0), 'rgb(215, 48, 39)')
  assert.equal(qualityColour(1), 'rgb(26, 152, 80)')
  assert.equal(qualityColour(7), qualityColour(1), 'clamped')
})

test('map view: fit, zoom about a point, pan, clamps, display resolution', () => {
  const world = worldView(800, 500)
  assert.equal(clampView(zoomAt(world, 0.1, [0, 0]), 800).scale, world.scale, 'no smaller than the world')
  assert.equal(clampView(zoomAt(world, 1e9, [0, 0]), 800).scale, scaleMax, 'no deeper than scaleMax')
  // Zooming keeps the point under the cursor fixed.
  const at: [number, number] = [300, 200]
  const before = projectionOf(world, 800, 500).invert?.(at)
  const after = projectionOf(zoomAt(world, 4, at), 800, 500).invert?.(at)
  assert.ok(before !== undefined && before !== null && after !== undefined && after !== null)
  assert.ok(Math.abs(before[0] - after[0]) < 1e-9 && Math.abs(before[1] - after[1]) < 1e-9)
  assert.deepEqual(pan(world, 10, -5).translate, [world.translate[0] + 10, world.translate[1] - 5])
  // A fitted box projects inside the padded viewport.
  const view = fitView(
    [
      [-74.1, 40.6],
      [-73.9, 40.8],
    ],
    800,
    500,
    40,
  )
  const projection = projectionOf(view, 800, 500)
  for (const corner of [
    [-74.1, 40.6],
    [-73.9, 40.8],
  ] as Array<[number, number]>) {
    const [x, y] = projection(corner) ?? [NaN, NaN]
    assert.ok(x >= 39 && x <= 761 && y >= 39 && y <= 461, `${corner} at ${x},${y}`)
  }
  // Zoomed out, coarse cells; zoomed in, the devices' own cells.
  assert.ok(displayResolution(world.scale, 40, 10) <= 2)
  assert.equal(displayResolution(view.scale * 1000, 40, 10), 10)
  assert.ok(displayResolution(view.scale, 40, 10) < displayResolution(view.scale * 8, 40, 10))
})
