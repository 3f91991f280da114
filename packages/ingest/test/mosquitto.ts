// Runs Debian's mosquitto on a free loopback port with a config written by the test.
// If mosquitto is not installed the start fails, so the test fails: it never skips.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './wait.ts'

export interface Mosquitto {
  url: string
  port: number
  dir: string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** `acl`: mosquitto ACL file text (users and patterns); omitted: no ACL. */
export async function startMosquitto(acl?: string): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'terrane-mosquitto-'))
  const port = await freePort()
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error']
  // Running as root, mosquitto drops to user `mosquitto`, which could not read the temp dir.
  if (process.getuid?.() === 0) lines.push('user root')
  if (acl !== undefined) {
    writeFileSync(join(dir, 'acl'), acl)
    lines.push(`acl_file ${join(dir, 'acl')}`)
  }
  writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n')
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`mosquitto did not start (is it installed? apt-get install mosquitto): ${err.message}`)))
    child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr}`)))
  })
  failed.catch(() => {})
  await Promise.race([until(() => accepts(port), 'mosquitto to listen'), failed])
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Publishes one message with the real `mosquitto_pub` client (payload from a file: binary-safe). */
export async function mosquittoPub(
  broker: Mosquitto,
  init: { topic: string; payload: Uint8Array; username?: string; clientId?: string },
): Promise<void> {
  const file = join(broker.dir, `payload-${process.hrtime.bigint()}`)
  writeFileSync(file, init.payload)
  const args = ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', init.topic, '-f', file]
  if (init.username !== undefined) args.push('-u', init.username)
  if (init.clientId !== undefined) args.push('-i', init.clientId)
  const child = spawn('mosquitto_pub', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`mosquitto_pub exited with ${code}: ${stderr}`)
}
