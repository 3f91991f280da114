import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { binPath, nodeImportArgs, repoRoot } from '../context.ts'

/** Log lines kept per node for error reports (the tail of its log). */
export const recentLogLinesMax = 20
/** Bytes read from a log file per poll. */
const logReadBytesMax = 1 << 20

export interface NodeProcessInit {
  index: number
  home: string
  /** Appended to across restarts. @default <home>/node.log */
  logPath?: string
  /** Extra environment for the child (TERRANE_* from the parent is not inherited). */
  env?: Record<string, string>
  /** Extra arguments after `node start --home <home>`. */
  args?: readonly string[]
}

export type NodeProcessState = 'idle' | 'running' | 'paused' | 'exited'

/**
 * One `terrane node start` child process. It follows the node's JSON log to
 * learn the committed height (`Committed block` lines) without any API, so it
 * works while the node is paused, wedged or has no API at all.
 */
export class NodeProcess {
  readonly index: number
  readonly home: string
  readonly logPath: string
  private readonly env: Record<string, string>
  private readonly args: readonly string[]
  private child: ChildProcess | null = null
  private exitPromise: Promise<number | null> = Promise.resolve(null)
  private stateValue: NodeProcessState = 'idle'
  private logHandle: FileHandle | null = null
  private logOffset = 0
  private partialLine = ''
  private heightValue = 0
  private startsValue = 0
  private lastExitCode: number | null = null
  private isStopIntended = false
  private isClosed = false
  private lastExitSignal: string | null = null
  private hasStartedValue = false
  /** The last lines of the log, for error reports. */
  readonly recentLines: string[] = []
  /** Peer id the node announced in its `Started node` line. */
  peerId: string | undefined

  constructor(init: NodeProcessInit) {
    this.index = init.index
    this.home = init.home
    this.logPath = init.logPath ?? join(init.home, 'node.log')
    this.env = init.env ?? {}
    this.args = init.args ?? []
  }

  get state(): NodeProcessState {
    return this.stateValue
  }
  get pid(): number | undefined {
    return this.child?.pid
  }
  /** Highest committed height this node has logged (across restarts). */
  get height(): number {
    return this.heightValue
  }
  /** How many times the process was started. */
  get starts(): number {
    return this.startsValue
  }
  /** Whether the process exited without being stopped or killed through this object. */
  get hasCrashed(): boolean {
    return this.stateValue === 'exited' && !this.isStopIntended
  }
  /** Whether the running process has logged `Serving the API` (the end of its start-up). */
  get hasStarted(): boolean {
    return this.hasStartedValue && (this.stateValue === 'running' || this.stateValue === 'paused')
  }
  get exitDescription(): string {
    return this.lastExitSignal !== null ? `signal ${this.lastExitSignal}` : `exit code ${String(this.lastExitCode)}`
  }

  start(): void {
    if (this.stateValue === 'running' || this.stateValue === 'paused') throw new Error(`node ${this.index} is already running`)
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TERRANE_')) env[k] = v
    Object.assign(env, this.env)
    const fd = openSync(this.logPath, 'a')
    try {
      const child = spawn(process.execPath, [...nodeImportArgs, binPath, 'node', 'start', '--home', this.home, ...this.args], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', fd, fd],
      })
      this.child = child
      this.hasStartedValue = false
      this.isStopIntended = false
      this.isClosed = false
      this.stateValue = 'running'
      this.startsValue++
      this.exitPromise = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.lastExitCode = code
          this.lastExitSignal = signal
          if (this.child === child) {
            this.child = null
            this.stateValue = 'exited'
          }
          resolve(code)
        })
        child.once('error', () => resolve(null))
      })
    } finally {
      closeSync(fd)
    }
  }

  /** Sends a signal to the running process (no-op when it is not running). */
  signal(signal: NodeJS.Signals): void {
    if (this.child === null) return
    try {
      this.child.kill(signal)
    } catch {
      // Already gone.
    }
  }

  /** `kill -9`, then waits for the exit. */
  async kill(): Promise<void> {
    if (this.child === null) return
    this.isStopIntended = true
    this.signal('SIGKILL')
    await this.exitPromise
  }

  /** SIGSTOP: the process stays alive but runs nothing (sockets stay open). */
  pause(): void {
    this.signal('SIGSTOP')
    if (this.child !== null) this.stateValue = 'paused'
  }

  resume(): void {
    this.signal('SIGCONT')
    if (this.child !== null) this.stateValue = 'running'
  }

  /**
   * Clean stop: SIGCONT (in case it is paused), SIGINT, wait up to `timeoutMs`,
   * then SIGKILL. Resolves to how it ended.
   */
  async stop(timeoutMs = 10_000): Promise<'stopped' | 'killed' | 'not-running'> {
    if (this.child === null) return 'not-running'
    this.isStopIntended = true
    this.signal('SIGCONT')
    this.signal('SIGINT')
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([this.exitPromise.then(() => 'exited' as const), timedOut])
    clearTimeout(timer)
    if (result === 'exited') return 'stopped'
    await this.kill()
    return 'killed'
  }

  /** Waits for the current process to exit. */
  exited(): Promise<number | null> {
    return this.exitPromise
  }

  /** Reads what the node logged since the last poll and updates `height`. */
  async poll(): Promise<void> {
    if (this.isClosed) return
    if (this.logHandle === null) {
      try {
        const handle = await open(this.logPath, 'r')
        if (this.isClosed) {
          await handle.close()
          return
        }
        this.logHandle = handle
      } catch {
        return
      }
    }
    const buffer = Buffer.alloc(logReadBytesMax)
    for (;;) {
      const { bytesRead } = await this.logHandle.read(buffer, 0, buffer.length, this.logOffset)
      if (bytesRead === 0) return
      this.logOffset += bytesRead
      const text = this.partialLine + buffer.subarray(0, bytesRead).toString('utf8')
      const lines = text.split('\n')
      this.partialLine = lines.pop() ?? ''
      for (const line of lines) this.onLine(line)
      if (bytesRead < buffer.length) return
    }
  }

  private onLine(line: string): void {
    if (line.length === 0) return
    this.recentLines.push(line)
    if (this.recentLines.length > recentLogLinesMax) this.recentLines.shift()
    if (!line.startsWith('{')) return
    let record: { msg?: unknown; height?: unknown; peerId?: unknown }
    try {
      record = JSON.parse(line) as typeof record
    } catch {
      return
    }
    if (record.msg === 'Committed block' && typeof record.height === 'number') this.heightValue = Math.max(this.heightValue, record.height)
    // The last line of a start: the API listens once consensus, the DePIN service and
    // the HTTP routes are up; until then a node is starting (its CPU time is progress).
    if (record.msg === 'Serving the API') this.hasStartedValue = true
    if (record.msg === 'Started node') {
      if (typeof record.height === 'number') this.heightValue = Math.max(this.heightValue, record.height - 1) // the height it works on
      if (typeof record.peerId === 'string') this.peerId = record.peerId
    }
  }

  /**
   * CPU time the running process has used, in clock ticks (Linux /proc), or null when
   * it is not running or the platform has no /proc. While a node starts (tsx compiles,
   * stores open, blocks replay) it logs nothing, but its CPU time grows: the sign that a
   * slow start on a loaded machine is a start, not a hang.
   */
  async cpuTicks(): Promise<number | null> {
    const pid = this.child?.pid
    if (pid === undefined || this.stateValue !== 'running') return null
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(fields[11]) + Number(fields[12])
    } catch {
      return null
    }
  }

  /** Closes the log reader (the process itself is left alone). */
  async close(): Promise<void> {
    this.isClosed = true
    await this.logHandle?.close()
    this.logHandle = null
  }
}
