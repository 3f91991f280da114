import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the command writes and reads: the process in `bin.ts`, buffers in tests. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  /** Whether stdout is a terminal (live status lines redraw in place only then). */
  isTty: boolean
  /** Reads a line without echo; absent when there is no terminal to ask. */
  promptPassword?: (prompt: string) => Promise<string>
}

export type ShutdownSignal = 'SIGINT' | 'SIGTERM'

/** Everything a command handler may touch besides its options: no globals in handlers. */
export interface CliContext {
  io: CliIo
  env: Record<string, string | undefined>
  cwd: string
  /** Calls `listener` on SIGINT/SIGTERM; returns an unsubscribe function. */
  onShutdown(listener: (signal: ShutdownSignal) => void): () => void
}

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  home?: string
  verbose?: boolean
  json?: boolean
  node?: string
}

/** The repository root (this file is packages/cli/src/context.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** The `terrane` entry point that child node processes run. */
export const binPath = join(repoRoot, 'packages', 'cli', 'src', 'bin.ts')

/** Node's `--import` hooks every terrane process needs: the polyfill first, then tsx. */
export const nodeImportArgs: readonly string[] = ['--import', join(repoRoot, 'packages', 'polyfill', 'register.js'), '--import', 'tsx']

/** Home directory: --home, then TERRANE_HOME, then ~/.terrane. */
export function resolveHome(ctx: CliContext, home: string | undefined): string {
  const chosen = home ?? ctx.env.TERRANE_HOME ?? join(homedir(), '.terrane')
  return resolve(ctx.cwd, chosen)
}

/** Writes a value for people (`key: value` lines, tables) or for machines (--json). */
export function printValue(ctx: CliContext, value: unknown, isJson: boolean | undefined): void {
  if (isJson === true) {
    ctx.io.stdout(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n')
    return
  }
  ctx.io.stdout(humanText(value, '') + '\n')
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return JSON.stringify(v)
}

function humanText(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`
    return value
      .map((item, i) =>
        typeof item === 'object' && item !== null ? `${indent}[${i}]\n${humanText(item, indent + '  ')}` : `${indent}- ${scalar(item)}`,
      )
      .join('\n')
  }
  if (typeof value === 'object' && value !== null) {
    const lines: string[] = []
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'object' && v !== null && !(Array.isArray(v) && v.every((x) => typeof x !== 'object'))) {
        lines.push(`${indent}${key}:`)
        lines.push(humanText(v, indent + '  '))
      } else if (Array.isArray(v)) lines.push(`${indent}${key}: ${v.length === 0 ? '(none)' : v.map(scalar).join(', ')}`)
      else lines.push(`${indent}${key}: ${scalar(v)}`)
    }
    return lines.join('\n')
  }
  return indent + scalar(value)
}
