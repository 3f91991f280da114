import fs from 'node:fs'
const names = fs.readdirSync('packages')
const refs = []
for (const n of names) {
  const pj = JSON.parse(fs.readFileSync(`packages/${n}/package.json`, 'utf8'))
  const deps = Object.keys({ ...pj.dependencies, ...pj.devDependencies })
    .filter((d) => d.startsWith('@terrane/'))
    .map((d) => d.slice(9))
  const ts = {
    extends: '../../tsconfig.base.json',
    compilerOptions: { rootDir: '.', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
    include: ['src', 'test', 'bench'],
    references: deps.map((d) => ({ path: `../${d}` })),
  }
  const existing = fs.existsSync(`packages/${n}/tsconfig.json`) ? JSON.parse(fs.readFileSync(`packages/${n}/tsconfig.json`, 'utf8')) : null
  if (existing) {
    existing.references = ts.references
    fs.writeFileSync(`packages/${n}/tsconfig.json`, JSON.stringify(existing, null, 2) + '\n')
  } else fs.writeFileSync(`packages/${n}/tsconfig.json`, JSON.stringify(ts, null, 2) + '\n')
  refs.push({ path: `packages/${n}` })
}
fs.writeFileSync('tsconfig.json', JSON.stringify({ files: [], references: refs }, null, 2) + '\n')

// Keep the generated files in the house format (npm run lint checks it).
import { execFileSync } from 'node:child_process'
execFileSync(
  process.execPath,
  [
    new URL('../node_modules/prettier/bin/prettier.cjs', import.meta.url).pathname,
    '--write',
    '--log-level',
    'warn',
    'tsconfig.json',
    'packages/*/tsconfig.json',
  ],
  { stdio: 'inherit' },
)
