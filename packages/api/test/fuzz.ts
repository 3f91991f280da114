/**
 * Property-based fuzzing over the OpenAPI document: for every operation, random
 * and malformed path parameters, query strings, headers and bodies (wrong types,
 * huge values, bad encodings, missing fields, random bytes, deep JSON). The one
 * property: no request gets a 5xx, and every 4xx carries an error code.
 * TERRANE_FUZZ_REQUESTS scales the run (default 100,000 through inject, plus a
 * batch over real HTTP). A failure prints the request and the batch seed.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { testServer, adminKey, type TestServer } from './helpers.ts'

const batchRequests = 5000
const httpRequests = 250

interface Operation {
  method: string
  path: string
  pathParams: string[]
  queryParams: string[]
  hasBody: boolean
}

interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
}

const hostileStrings = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e400',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999999',
  'null',
  'true',
  '[]',
  '{}',
  '%00',
  '%',
  '%E0%A4%A',
  '..%2F..%2Fetc%2Fpasswd',
  '__proto__',
  'constructor',
  'trn1' + 'q'.repeat(38),
  'ab'.repeat(32),
  'A'.repeat(5000),
  '\u0000\u0001',
  '😀',
)

const scalar = fc.oneof(
  hostileStrings,
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 130 }),
)
const pathSegment = scalar.map((s) => encodeURIComponent(s).slice(0, 600))

function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

const body = fc.oneof(
  { weight: 6, arbitrary: fc.anything({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 6,
    arbitrary: fc
      .dictionary(
        fc.constantFrom('tx', 'address', 'level', 'query', 'x', '__proto__'),
        fc.oneof(scalar, fc.integer(), fc.boolean(), fc.constant(null)),
        { maxKeys: 3 },
      )
      .map((v) => JSON.stringify(v)),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 100, max: 3000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
      .map(([d, k]) => deepJson(d, k)),
  },
  // Few oversized bodies: each costs a megabyte of copying; a handful per batch shows the limit holds.
  { weight: 1, arbitrary: fc.constantFrom(999_990, 1_000_001, 1_200_000).map((n) => `{"tx":"${'a'.repeat(n - 10)}"}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"tx":"00","__proto__":{"a":1}}',
      '{"constructor":{"prototype":{"a":1}}}',
      '{"tx":"0g"}',
      '{"level":"debug","level":"info"}',
      '',
    ),
  },
)

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  '',
  'application/json; charset=latin1',
)

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      params: fc.tuple(...op.pathParams.map(() => pathSegment)),
      query: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...op.queryParams, 'limit', 'cursor', 'zzz'), fc.string({ maxLength: 10 })), scalar),
        { maxLength: 4 },
      ),
      body: fc.option(body, { nil: undefined, freq: 2 }),
      contentType,
      auth: fc.constantFrom('none', 'admin', 'garbage'),
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(op.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
      ),
    })
    .map(({ params, query, body, contentType, auth, method }) => {
      let i = 0
      const path = op.path.replace(/\{[^}]+\}/g, () => params[i++] ?? 'x')
      const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).slice(0, 2000)}`).join('&')
      const headers: Record<string, string> = {}
      if (contentType !== '') headers['content-type'] = contentType
      if (auth === 'admin') headers['x-api-key'] = adminKey
      if (auth === 'garbage') headers['authorization'] = 'Bearer \u00ff'.repeat(3)
      const request: FuzzRequest = { method, url: qs === '' ? path : `${path}?${qs}`, headers }
      if (body !== undefined && method !== 'GET' && method !== 'HEAD') request.payload = body
      return request
    })
}

function describeRequest(r: FuzzRequest): string {
  const payload = r.payload === undefined ? '' : ` body=${String(r.payload).slice(0, 200)}`
  return `${r.method} ${r.url.slice(0, 300)} ${JSON.stringify(r.headers)}${payload}`
}

/**
 * Runs share `part` of `parts` of the operations (and of the request budget):
 * split over files so that the test runner spreads them over both cores.
 */
export function runFuzz(part: number, parts: number): void {
  const requestsTotal = Math.ceil(Number(process.env.TERRANE_FUZZ_REQUESTS ?? 100_000) / parts)
  describe(`fuzz ${part + 1}/${parts}: malformed requests over the OpenAPI document`, () => {
    let t: TestServer
    let requestArb: fc.Arbitrary<FuzzRequest>
    let operations: Operation[]
    before(async () => {
      t = await testServer({}, 20)
      const doc = (await t.server.app.inject('/openapi.json')).json() as {
        paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>
      }
      operations = []
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          const parameters = op.parameters ?? []
          operations.push({
            method: method.toUpperCase(),
            path,
            pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
            queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
            hasBody: op.requestBody !== undefined,
          })
        }
      }
      // GraphQL is not in the OpenAPI document: fuzz it too.
      operations.push({ method: 'POST', path: '/graphql', pathParams: [], queryParams: [], hasBody: true })
      assert.ok(operations.length >= 25, `only ${operations.length} operations found`)
      requestArb = fc.oneof(...operations.filter((_, i) => i % parts === part).map(requestFor))
    })
    after(async () => {
      await t.server.stop()
    })

    const batches = Math.ceil(requestsTotal / batchRequests)
    for (let batch = 0; batch < batches; batch++) {
      it(`batch ${batch + 1}/${batches}: ${batchRequests} requests through inject, zero 5xx`, async () => {
        const seed = 0x7e44a + batch * parts + part
        const requests = fc.sample(requestArb, { seed, numRuns: Math.min(batchRequests, requestsTotal - batch * batchRequests) })
        const statusCounts = new Map<number, number>()
        for (let i = 0; i < requests.length; i += 50) {
          const chunk = requests.slice(i, i + 50)
          const responses = await Promise.all(chunk.map((r) => t.server.app.inject(r)))
          for (const [j, response] of responses.entries()) {
            const request = chunk[j] as FuzzRequest
            statusCounts.set(response.statusCode, (statusCounts.get(response.statusCode) ?? 0) + 1)
            if (response.statusCode >= 500)
              assert.fail(`seed ${seed}: ${response.statusCode} for ${describeRequest(request)}: ${response.body.slice(0, 300)}`)
            if (response.statusCode >= 400 && request.method !== 'HEAD' && !request.url.startsWith('/graphql')) {
              const code = (response.json() as { error?: { code?: string } }).error?.code
              assert.match(
                code ?? '',
                /^API_/,
                `seed ${seed}: no error code for ${describeRequest(request)}: ${response.body.slice(0, 300)}`,
              )
            }
          }
        }
        // The fuzzer must reach past validation sometimes, or it tests nothing but the schema.
        assert.ok((statusCounts.get(200) ?? 0) + (statusCounts.get(202) ?? 0) + (statusCounts.get(404) ?? 0) > 0)
      })
    }

    it(`${httpRequests} requests over real HTTP, zero 5xx`, async () => {
      const base = await t.server.start()
      const requests = fc.sample(requestArb, { seed: 99 + part, numRuns: httpRequests })
      for (let i = 0; i < requests.length; i += 20) {
        const chunk = requests.slice(i, i + 20)
        const statuses = await Promise.all(
          chunk.map(async (r) => {
            const init: RequestInit = { method: r.method, headers: r.headers }
            if (r.payload !== undefined) init.body = r.payload
            try {
              const response = await fetch(base + r.url, init)
              await response.arrayBuffer()
              return response.status
            } catch (err) {
              // undici refuses some requests client-side (e.g. invalid header bytes): not the server's doing.
              if (err instanceof TypeError) return 0
              throw err
            }
          }),
        )
        for (const [j, status] of statuses.entries()) assert.ok(status < 500, `${status} for ${describeRequest(chunk[j] as FuzzRequest)}`)
      }
    })
  })
}
