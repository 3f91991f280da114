import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, type CliContext, type ShutdownSignal } from '../src/index.ts'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

export interface TestCli {
  dir: string
  run(argv: readonly string[], env?: Record<string, string>): Promise<CliRun>
  /** Sends a shutdown signal to the command running now (as Ctrl-C would). */
  signal(signal: ShutdownSignal): void
  cleanup(): Promise<void>
}

/** Runs the CLI in this process with buffered output, a temp cwd and a cheap keystore KDF. */
export async function testCli(baseEnv: Record<string, string> = {}): Promise<TestCli> {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-cli-'))
  const listeners = new Set<(s: ShutdownSignal) => void>()
  return {
    dir,
    async run(argv, env = {}) {
      let stdout = ''
      let stderr = ''
      const ctx: CliContext = {
        io: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTty: false },
        env: { TERRANE_HOME: join(dir, 'home'), TERRANE_KEYSTORE_SCRYPT_N: '1024', ...baseEnv, ...env },
        cwd: dir,
        onShutdown: (l) => {
          listeners.add(l)
          return () => listeners.delete(l)
        },
      }
      const code = await runCli(argv, ctx)
      return { code, stdout, stderr }
    },
    signal(signal) {
      for (const l of [...listeners]) l(signal)
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Polls `predicate` (for conditions in other tasks/processes); throws after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
