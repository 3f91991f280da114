#!/usr/bin/env node
// Runs every `packages/*/bench/*.bench.ts`, one process each, one after another,
// so that benchmarks never compete for the two cores.
//   npm run bench                 all benchmarks
//   npm run bench -- state crypto only those whose package or file name contains a word
// Each benchmark prints its table and writes bench/results/<suite>.json.
import { spawnSync } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const filters = process.argv.slice(2)
const files = []
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'bench')
  if (!existsSync(dir)) continue
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.bench.ts')) continue
    const id = `${pkg}/${f}`
    if (filters.length === 0 || filters.some((w) => id.includes(w))) files.push(join(dir, f))
  }
}
if (files.length === 0) {
  console.error('No benchmark matches', filters.join(' '))
  process.exit(1)
}
let failed = 0
for (const file of files.sort()) {
  console.log(`\n# ${file.slice(root.length)}`)
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', join(root, 'packages/polyfill/register.js'), '--import', 'tsx', file], {
    stdio: 'inherit',
    cwd: root,
  })
  if (r.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
