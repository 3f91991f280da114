#!/usr/bin/env node
// Runs every package's tests with node's own test runner.
//   npm test                      all tests
//   npm test -- codec crypto      only the packages named
// TERRANE_TEST_CONCURRENCY sets how many test files run at once (default: 2, one per core here).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const only = process.argv.slice(2)

function findTests(dir) {
  if (!existsSync(dir)) return []
  const out = []
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...findTests(path))
    else if (entry.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const packages = readdirSync(join(root, 'packages')).filter((p) => only.length === 0 || only.includes(p))
const files = packages.flatMap((p) => findTests(join(root, 'packages', p, 'test'))).sort()
// Repository-wide checks (docs in sync, every package documented) live in test/ at the root.
if (only.length === 0 || only.includes('repo')) files.push(...findTests(join(root, 'test')))
if (files.length === 0) {
  console.error('No test files found for', only.join(' ') || 'any package')
  process.exit(1)
}
const concurrency = process.env.TERRANE_TEST_CONCURRENCY ?? '2'
const result = spawnSync(
  process.execPath,
  [
    '--import',
    join(root, 'packages/polyfill/register.js'),
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
)
process.exit(result.status ?? 1)
