import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

export interface BenchRow {
  /** What was measured, e.g. "ed25519 verify, node:crypto, 1 core". */
  name: string
  value: number
  /** Unit of `value`, e.g. "ops/s", "ms", "MB/s". */
  unit: string
  /** value / physical limit, where one applies. */
  ratio?: number
  /** What the ratio is taken against, e.g. "ed25519 verify/s, 1 core". */
  ratioTo?: string
  /** The goal from the issue, as text, e.g. ">= 100,000 ops/s". */
  target?: string
  note?: string
}

const resultsDir = join(new URL('../../..', import.meta.url).pathname, 'bench', 'results')

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toPrecision(3)
}

/** Prints a table of rows and writes them to bench/results/<suite>.json. */
export function report(suite: string, rows: readonly BenchRow[]): void {
  const lines = rows.map((r) => [
    r.name,
    `${formatNumber(r.value)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)} x ${r.ratioTo ?? 'limit'}`,
    r.target ?? '',
    r.note ?? '',
  ])
  const header = ['benchmark', 'result', 'ratio to limit', 'target', 'note']
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)))
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')
  console.log(`\n## ${suite}`)
  console.log(fmt(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
  for (const l of lines) console.log(fmt(l))
  mkdirSync(resultsDir, { recursive: true })
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' }
  writeFileSync(join(resultsDir, `${suite}.json`), JSON.stringify({ suite, machine, rows }, null, 2) + '\n')
}
