/**
 * Requests per second and p99 latency of GET /v1/status and a device lookup,
 * with the server alone in a child process (one core: Node serves on one
 * thread) and autocannon in this process; plus the GraphQL Armor cost of a page
 * of 100 devices with owners, and its latency.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { parse, type OperationDefinitionNode } from 'graphql'
import { report, type BenchRow } from '@terrane/bench'
import { queryCostOf, queryDepthOf } from '../src/index.ts'

const durationS = Number(process.env.TERRANE_BENCH_SECONDS ?? 10)
const root = new URL('../../..', import.meta.url).pathname
const child = spawn(process.execPath, ['--import', 'tsx', new URL('./serve.ts', import.meta.url).pathname], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
})
const [line] = (await once(child.stdout, 'data')) as [Buffer]
const base = line.toString().trim()

async function load(path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) {
  const result = await autocannon({
    url: base + path,
    connections: 32,
    pipelining: 1,
    duration: durationS,
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: init.body, headers: { 'content-type': 'application/json' } }),
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { rps: result.requests.average, p99: result.latency.p99, p50: result.latency.p50 }
}

const devicePage =
  '{ devices(first: 100) { items { id owner model h3Cell isActive attestation { status reason } ownerAccount { address balance nonce kind } } nextCursor } }'
const rows: BenchRow[] = []
try {
  await load('/v1/status') // warm-up
  const status = await load('/v1/status')
  rows.push({
    name: 'GET /v1/status',
    value: Math.round(status.rps),
    unit: 'req/s',
    target: '>= 20,000 req/s',
    note: `one server core, 32 connections, ${durationS} s`,
  })
  rows.push({ name: 'GET /v1/status p99', value: status.p99, unit: 'ms', target: '< 10 ms', note: `p50 ${status.p50} ms` })
  const device = await load('/v1/devices/dev-04242')
  rows.push({ name: 'GET /v1/devices/:id', value: Math.round(device.rps), unit: 'req/s', note: '10,000 devices in the store' })
  rows.push({ name: 'GET /v1/devices/:id p99', value: device.p99, unit: 'ms', note: `p50 ${device.p50} ms` })
  const gql = await load('/graphql', { method: 'POST', body: JSON.stringify({ query: devicePage }) })
  rows.push({
    name: 'GraphQL page of 100 devices + owners',
    value: Math.round(gql.rps),
    unit: 'req/s',
    note: `p99 ${gql.p99} ms; 2 backend calls per query`,
  })
  const op = parse(devicePage).definitions[0] as OperationDefinitionNode
  rows.push({
    name: 'GraphQL cost of that page',
    value: queryCostOf(op.selectionSet, new Map()),
    unit: 'points',
    target: '<= 5,000',
    note: `GraphQL Armor weights; depth ${queryDepthOf(op.selectionSet, new Map())}`,
  })
} finally {
  child.kill('SIGTERM')
}
report('api', rows)
