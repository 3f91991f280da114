#!/usr/bin/env node
// The polyfill must run before libp2p is loaded (Node 20 lacks Promise.withResolvers).
import '@terrane/polyfill/register'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { runCli } from './program.ts'
import type { CliContext, ShutdownSignal } from './context.ts'

const listeners = new Set<(signal: ShutdownSignal) => void>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (listeners.size === 0) process.exit(signal === 'SIGINT' ? 130 : 143)
    for (const listener of [...listeners]) listener(signal)
  })
}

/** Reads a line from the terminal without echoing it. */
function promptPassword(prompt: string): Promise<string> {
  process.stderr.write(prompt)
  const muted = new Writable({ write: (_chunk, _enc, done) => done() })
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true })
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
  })
}

const ctx: CliContext = {
  io: {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTty: process.stdout.isTTY === true,
    ...(process.stdin.isTTY === true ? { promptPassword } : {}),
  },
  env: process.env,
  cwd: process.cwd(),
  onShutdown: (listener) => {
    listeners.add(listener)
    return () => listeners.delete(listener)
  },
}

const code = await runCli(process.argv.slice(2), ctx)
process.exitCode = code
// Leftover handles (sockets closing, worker threads) must not keep a finished command alive.
setTimeout(() => process.exit(code), 3000).unref()
