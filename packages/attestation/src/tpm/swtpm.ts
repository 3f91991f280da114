/* NON-DETERMINISTIC FILE, by design: starts a software TPM
   (swtpm) child process on loopback, for tests and for simulated devices. */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttestationError } from '../errors.ts'

/** How long swtpm may take to accept connections. */
export const swtpmStartTimeoutMs = 5_000
const swtpmStartAttemptsMax = 5

export interface Swtpm {
  /** TCTI string for tpm2-tools, e.g. `swtpm:host=127.0.0.1,port=40000` */
  readonly tcti: string
  stop(): Promise<void>
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Starts `swtpm socket --tpm2` in a fresh state directory (a brand-new TPM, startup-clear),
 * server on port P and control on P + 1 (the swtpm TCTI's convention). Throws
 * ATTESTATION_TPM_COMMAND if swtpm is missing or does not come up.
 */
export async function startSwtpm(): Promise<Swtpm> {
  const stateDir = await mkdtemp(join(tmpdir(), 'terrane-swtpm-'))
  for (let attempt = 0; attempt < swtpmStartAttemptsMax; attempt++) {
    const port = randomInt(20_000, 60_000)
    const child: ChildProcess = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--tpmstate',
        `dir=${stateDir}`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: 'ignore' },
    )
    let hasExited = false
    let spawnError: Error | undefined
    child.once('exit', () => (hasExited = true))
    child.once('error', (err) => {
      spawnError = err
      hasExited = true
    })
    const deadline = performance.now() + swtpmStartTimeoutMs
    while (!hasExited && performance.now() < deadline) {
      if (await canConnect(port)) {
        return {
          tcti: `swtpm:host=127.0.0.1,port=${port}`,
          async stop() {
            if (!hasExited) {
              const exited = new Promise((resolve) => child.once('exit', resolve))
              child.kill('SIGTERM')
              await exited
            }
            await rm(stateDir, { recursive: true, force: true })
          },
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    if (!hasExited) child.kill('SIGKILL')
    if (spawnError !== undefined) {
      await rm(stateDir, { recursive: true, force: true })
      throw new AttestationError('ATTESTATION_TPM_COMMAND', `cannot start swtpm: ${spawnError.message}`, { cause: spawnError })
    }
  }
  await rm(stateDir, { recursive: true, force: true })
  throw new AttestationError('ATTESTATION_TPM_COMMAND', 'swtpm did not start')
}
