import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
// @ts-expect-error: a plain JavaScript script without types
import { collectErrorCodes } from '../scripts/error-codes.mjs'

const root = new URL('..', import.meta.url).pathname

test('docs/errors.md lists every error code declared in the sources', () => {
  const doc = readFileSync(`${root}docs/errors.md`, 'utf8')
  const missing: string[] = []
  for (const [pkg, codes] of collectErrorCodes() as Map<string, string[]>)
    for (const code of codes) if (!doc.includes(`\`${code}\``)) missing.push(`${pkg}: ${code}`)
  assert.deepEqual(missing, [], 'run `npm run docs` to regenerate docs/errors.md')
})

test('every package has a README that says what it owns', () => {
  const missing = readdirSync(`${root}packages`).filter((p) => !existsSync(`${root}packages/${p}/README.md`))
  assert.deepEqual(missing, [])
})
