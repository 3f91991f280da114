import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadNodeConfig, nodePaths, readNodeGenesis, writeDevnet, type DevnetNode } from '@terrane/node'
import { CliError } from '../errors.ts'
import { NodeProcess } from './node-process.ts'

/** How often node logs are read for heights. */
export const logPollIntervalMs = 100

export interface LocalDevnetInit {
  /** Root directory; node i lives in `<dir>/node<i>`. */
  dir: string
  /** @default 4 */
  validators?: number
  /** Extra full (non-validator) nodes. @default 0 */
  fullNodes?: number
  /** Node i uses basePort + 10 i (+0 p2p, +1 API, +2 MQTT). @default 26600 */
  basePort?: number
  /** Delete `dir` first. @default false */
  isFresh?: boolean
  /** Key seed of the devnet (same seed, same keys). @default 'terrane-devnet' */
  seed?: string
  /** Chain parameter overrides for a newly written genesis. */
  params?: Record<string, unknown>
  /** Environment for every child (e.g. TERRANE_LOG_LEVEL). */
  env?: Record<string, string>
  /** Clock for the genesis time of a new devnet. @default Date.now */
  nowMs?: () => number
}

export interface LocalDevnetNodeInfo {
  index: number
  home: string
  isValidator: boolean
  apiUrl: string
  p2pListen: string
  logPath: string
}

/**
 * A devnet on this machine: N validators (and full nodes), each a separate
 * `terrane node start` process with its own home, data, log file and ports on
 * 127.0.0.1. Writes the home directories on first use and reuses them after.
 */
export class LocalDevnet {
  readonly dir: string
  readonly nodes: NodeProcess[]
  readonly info: LocalDevnetInfo
  readonly isNew: boolean
  private pollTimer: NodeJS.Timeout | null = null
  private polling: Promise<void> = Promise.resolve()

  private constructor(dir: string, info: LocalDevnetInfo, nodes: NodeProcess[], isNew: boolean) {
    this.dir = dir
    this.info = info
    this.nodes = nodes
    this.isNew = isNew
  }

  static async open(init: LocalDevnetInit): Promise<LocalDevnet> {
    const validators = init.validators ?? 4
    const fullNodes = init.fullNodes ?? 0
    if (!Number.isSafeInteger(validators) || validators < 1 || validators > 32)
      throw new CliError('CLI_USAGE', '--validators must be 1 to 32')
    if (!Number.isSafeInteger(fullNodes) || fullNodes < 0 || fullNodes > 32) throw new CliError('CLI_USAGE', '--full-nodes must be 0 to 32')
    if (init.isFresh === true) await rm(init.dir, { recursive: true, force: true })
    const isNew = !existsSync(nodePaths(join(init.dir, 'node0')).genesis)
    if (isNew) {
      const layout = await writeDevnet({
        dir: init.dir,
        validators,
        fullNodes,
        basePort: init.basePort ?? 26600,
        genesisTimeMs: (init.nowMs ?? Date.now)(),
        ...(init.seed === undefined ? {} : { seed: init.seed }),
        ...(init.params === undefined ? {} : { params: init.params }),
      })
      await bootstrapFromEveryone(layout.nodes)
    }
    const info = await readDevnetInfo(init.dir)
    const existingValidators = info.nodes.filter((n) => n.isValidator).length
    if (!isNew && (existingValidators !== validators || info.nodes.length - existingValidators !== fullNodes)) {
      throw new CliError(
        'CLI_DEVNET',
        `${init.dir} holds a devnet of ${existingValidators} validators and ${info.nodes.length - existingValidators} full nodes; use --fresh to replace it`,
      )
    }
    const nodes = info.nodes.map((n) => new NodeProcess({ index: n.index, home: n.home, logPath: n.logPath, env: init.env ?? {} }))
    return new LocalDevnet(init.dir, info, nodes, isNew)
  }

  node(index: number): NodeProcess {
    const node = this.nodes[index]
    if (node === undefined) throw new RangeError(`no node ${index}`)
    return node
  }

  /** Starts the given nodes (all by default) and begins following their logs. */
  start(indexes: readonly number[] = this.nodes.map((n) => n.index)): void {
    for (const i of indexes) this.node(i).start()
    if (this.pollTimer === null) {
      this.pollTimer = setInterval(() => {
        this.polling = this.polling.then(() => this.poll()).catch(() => undefined)
      }, logPollIntervalMs)
      this.pollTimer.unref()
    }
  }

  /** Reads every node's new log lines now. */
  async poll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.poll()))
  }

  heights(): number[] {
    return this.nodes.map((n) => n.height)
  }

  /**
   * Waits until `predicate` holds (checked after each log poll); on timeout throws
   * an error naming `what`, with each node's height and state.
   */
  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    await this.waitWhileProgressing(predicate, () => Promise.resolve(0), timeoutMs, what)
  }

  /**
   * Waits until `isDone` holds, for as long as `progress` keeps growing: fails only
   * after `stallMs` without any growth (or when a node crashes), so a loaded machine
   * that is slow but moving never fails a test, and a wedged node fails it in
   * `stallMs`. `progress` must be monotone while things move (heights, CPU ticks).
   */
  async waitWhileProgressing(
    isDone: () => boolean | Promise<boolean>,
    progress: () => Promise<number>,
    stallMs: number,
    what: string,
  ): Promise<void> {
    let best = await progress()
    let progressedAtMs = Date.now()
    for (;;) {
      await this.poll()
      if (await isDone()) return
      const dead = this.nodes.find((n) => n.hasCrashed)
      if (dead !== undefined)
        throw new CliError('CLI_DEVNET', `node ${dead.index} exited (${dead.exitDescription}) while waiting for ${what}: ${lastLine(dead)}`)
      const now = await progress()
      if (now > best) {
        best = now
        progressedAtMs = Date.now()
      } else if (Date.now() - progressedAtMs > stallMs) {
        throw new CliError('CLI_TIMEOUT', `no progress for ${stallMs} ms waiting for ${what}; ${this.describe()}\n${this.lastLines()}`)
      }
      await new Promise((resolve) => setTimeout(resolve, logPollIntervalMs))
    }
  }

  /**
   * Waits until each of `indexes` (default: all running) has committed `height`.
   * Progress is any of them moving towards it: a committed height, or CPU time used
   * by one still starting (before its `Serving the API` line). Fails after `stallMs`
   * without progress.
   */
  async waitForHeight(height: number, stallMs: number, indexes?: readonly number[]): Promise<void> {
    const chosen = (indexes ?? this.nodes.filter((n) => n.state === 'running').map((n) => n.index)).map((i) => this.node(i))
    await this.waitWhileProgressing(
      () => chosen.every((n) => n.height >= height),
      async () => {
        let sum = 0
        for (const n of chosen) {
          sum += Math.min(n.height, height)
          if (!n.hasStarted && n.height < height) sum += (await n.cpuTicks()) ?? 0
        }
        return sum
      },
      stallMs,
      `height ${height} on nodes ${chosen.map((n) => n.index).join(',')}`,
    )
  }

  /** Each running node's last log line, for failure messages. */
  lastLines(): string {
    return this.nodes
      .filter((n) => n.state !== 'idle')
      .map((n) => `node${n.index}${n.hasStarted ? '' : ' (starting)'}: ${lastLine(n).slice(0, 300)}`)
      .join('\n')
  }

  describe(): string {
    return this.nodes.map((n) => `node${n.index}=${n.height}${n.state === 'running' ? '' : `(${n.state})`}`).join(' ')
  }

  /** Stops every node cleanly (SIGINT, then SIGKILL after `timeoutMs`) and stops following logs. */
  async stop(timeoutMs = 10_000): Promise<Array<'stopped' | 'killed' | 'not-running'>> {
    const results = await Promise.all(this.nodes.map((n) => n.stop(timeoutMs)))
    if (this.pollTimer !== null) clearInterval(this.pollTimer)
    this.pollTimer = null
    await this.polling
    await this.poll()
    await Promise.all(this.nodes.map((n) => n.close()))
    return results
  }

  /** SIGKILL to every child still running: for `finally` blocks. */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()))
    if (this.pollTimer !== null) clearInterval(this.pollTimer)
    this.pollTimer = null
    await Promise.all(this.nodes.map((n) => n.close()))
  }
}

/**
 * Gives every node all the others as bootstrap peers. writeDevnet names node 0
 * only and relies on the DHT, but a node whose bootstrap dial fails (node 0 not
 * listening yet, or down) never dials again while it has no connection, so a
 * devnet started all at once could stay split. With every address listed, of
 * any two nodes the later one to start dials the earlier one.
 */
async function bootstrapFromEveryone(nodes: readonly DevnetNode[]): Promise<void> {
  const addresses = nodes.map((n) => `${n.config.p2p.listen}/p2p/${String(n.peerId)}`)
  for (const node of nodes) {
    const path = join(node.home, 'config.json')
    const config = JSON.parse(await readFile(path, 'utf8')) as { p2p: { bootstrap: string[] } }
    config.p2p.bootstrap = addresses.filter((_, i) => i !== node.index)
    await writeFile(path, JSON.stringify(config, null, 2) + '\n')
  }
}

function lastLine(node: NodeProcess): string {
  return (node.recentLines.at(-1) ?? '(empty log)').slice(0, 500)
}

export interface LocalDevnetInfo {
  chainId: string
  nodes: LocalDevnetNodeInfo[]
}

/** Reads the layout of a devnet written by `writeDevnet` back from its files. */
export async function readDevnetInfo(dir: string): Promise<LocalDevnetInfo> {
  const names = (await readdir(dir)).filter((n) => /^node[0-9]+$/.test(n)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
  const nodes: LocalDevnetNodeInfo[] = []
  for (const name of names) {
    const home = join(dir, name)
    const config = await loadNodeConfig(home)
    nodes.push({
      index: Number(name.slice(4)),
      home,
      isValidator: existsSync(nodePaths(home).validatorKey),
      apiUrl: `http://${config.api.host}:${config.api.port}`,
      p2pListen: config.p2p.listen,
      logPath: join(home, 'node.log'),
    })
  }
  if (nodes.length === 0) throw new CliError('CLI_DEVNET', `${dir} holds no devnet (no node0 directory)`)
  nodes.forEach((n, i) => {
    if (n.index !== i) throw new CliError('CLI_DEVNET', `${dir}: node directories are not numbered 0..${nodes.length - 1}`)
  })
  const chainId = (await readNodeGenesis(nodePaths(join(dir, 'node0')).genesis)).chain.chainId
  return { chainId, nodes }
}
