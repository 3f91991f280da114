#!/usr/bin/env node
// Checks that @terrane dependencies point one way (STYLE.md section 1): each
// package may import only the layers listed for it below. Run by `npm run lint`.
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
// Layers from the bottom up; a package may depend only on packages of lower layers.
const layers = [
  ['polyfill', 'bench'],
  ['codec'],
  ['crypto'],
  ['state', 'attestation'],
  ['reports', 'consensus', 'firmware', 'p2p'],
  ['verifier', 'ingest', 'service'],
  ['chain', 'device'],
  ['sim', 'api', 'devices', 'agreements', 'channels', 'coverage'],
  ['node', 'sdk'],
  ['dashboard'],
  ['cli'],
]
const layerOf = new Map(layers.flatMap((names, i) => names.map((n) => [n, i])))
let failures = 0
for (const pkg of readdirSync(join(root, 'packages'))) {
  const file = join(root, 'packages', pkg, 'package.json')
  if (!existsSync(file)) continue
  const json = JSON.parse(readFileSync(file, 'utf8'))
  const own = layerOf.get(pkg)
  if (own === undefined) {
    console.error(`packages/${pkg}: not placed in a layer in scripts/check-deps.mjs`)
    failures++
    continue
  }
  const deps = Object.keys({ ...json.dependencies }).filter((d) => d.startsWith('@terrane/'))
  for (const dep of deps) {
    const name = dep.slice('@terrane/'.length)
    const layer = layerOf.get(name)
    if (name === 'bench' || name === 'polyfill') continue
    if (layer === undefined || layer >= own) {
      console.error(`packages/${pkg} (layer ${own}) must not depend on ${dep} (layer ${layer})`)
      failures++
    }
  }
}
if (failures > 0) process.exit(1)
console.log('dependency directions: ok')
