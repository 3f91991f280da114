import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { blockTxsMax, devnetTimeouts } from '@terrane/consensus'

/**
 * Node options (per node; STYLE.md section 5): chain parameters live in the
 * genesis file and protocol constants in code. Sources, later ones winning:
 * defaults < `<home>/config.json` < environment (`TERRANE_*`) < command-line flags.
 */
export interface NodeConfig {
  /** Data directory: keys, config, databases, WAL. */
  home: string
  moniker: string
  /** Log level for pino. @default 'info' */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  p2p: {
    /** @default '/ip4/127.0.0.1/tcp/26656' */
    listen: string
    /** Multiaddrs with /p2p/<peer id>. */
    bootstrap: string[]
  }
  api: {
    /** @default '127.0.0.1' */
    host: string
    /** @default 26657; 0 picks a free port */
    port: number
    /** A directory with the built dashboard, served at `/`; null serves none. @default null */
    dashboardDir: string | null
    /** Requests per 10 s per client (API key, else IP); 0 turns the limit off (a devnet's loopback API). @default 1000 */
    rateLimitRequestsMax: number
  }
  mqtt: {
    /** Embedded broker port for device ingest; 0 picks a free port, -1 disables. @default 1883 */
    port: number
  }
  consensus: {
    /** Use the fast devnet timeouts (`nodeDevnetTimeouts`) instead of CometBFT's. @default false */
    isDevnetTiming: boolean
    /** @default true */
    isCreatingEmptyBlocks: boolean
    /**
     * Transactions this node puts in a block it proposes (within consensus's 4 MiB validity
     * bound): a proposal every validator can check and execute well within the propose and
     * prevote timeouts, so an overloaded pool does not make rounds fail: a validator's whole
     * pipeline costs 0.6 ms of CPU per transfer (session 2, `bench -- pipeline`), execution a part
     * of it, so 1,000 fit the devnet's 1 s propose timeout with 4 validators on 2 cores on a quiet
     * machine; at a ~1 s block interval still about twice the chain's capacity. @default 1_000
     */
    proposalTxsMax: number
    /** Pause after a commit (CometBFT timeout_commit); null keeps the timing's own (1 s, devnet 100 ms). @default null */
    timeoutCommitMs: number | null
  }
  mempool: {
    /** @default 5_000 (CometBFT mempool.size) */
    txsMax: number
    /** @default 64 MiB */
    bytesMax: number
    /** Pooled txs re-checked after each block beyond those of the block's senders (a rotating slice). @default 1_000 */
    recheckTxsMax: number
  }
  /** Devnet-only options (optional so older config objects stay valid). */
  devnet?: {
    /** Simulated devices this node runs in-process (needs the ingest: mqtt.port >= 0). @default 0 */
    simulatedDevices: number
  }
}

export type NodeConfigOverrides = {
  [K in keyof NodeConfig]?: NodeConfig[K] extends object
    ? NodeConfig[K] extends unknown[]
      ? NodeConfig[K]
      : Partial<NodeConfig[K]>
    : NodeConfig[K]
}

export class NodeConfigError extends Error {
  static override name = 'NodeConfigError'
  override name = 'NodeConfigError'
  readonly code = 'NODE_BAD_CONFIG'
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`config ${path}: ${message}`)
  }
}

export function defaultNodeConfig(home: string): NodeConfig {
  return {
    home,
    moniker: 'terrane-node',
    logLevel: 'info',
    p2p: { listen: '/ip4/127.0.0.1/tcp/26656', bootstrap: [] },
    api: { host: '127.0.0.1', port: 26657, dashboardDir: null, rateLimitRequestsMax: 1000 },
    mqtt: { port: 1883 },
    consensus: { isDevnetTiming: false, isCreatingEmptyBlocks: true, proposalTxsMax: 1_000, timeoutCommitMs: null },
    mempool: { txsMax: 5_000, bytesMax: 64 * 1024 * 1024, recheckTxsMax: 1_000 },
    devnet: { simulatedDevices: 0 },
  }
}

function merge(base: NodeConfig, over: NodeConfigOverrides): NodeConfig {
  return {
    ...base,
    ...(over.home === undefined ? {} : { home: over.home }),
    ...(over.moniker === undefined ? {} : { moniker: over.moniker }),
    ...(over.logLevel === undefined ? {} : { logLevel: over.logLevel }),
    p2p: { ...base.p2p, ...over.p2p },
    api: { ...base.api, ...over.api },
    mqtt: { ...base.mqtt, ...over.mqtt },
    consensus: { ...base.consensus, ...over.consensus },
    mempool: { ...base.mempool, ...over.mempool },
    ...(base.devnet === undefined && over.devnet === undefined ? {} : { devnet: { simulatedDevices: 0, ...base.devnet, ...over.devnet } }),
  }
}

/** Environment variables understood by the node, and where each lands. */
export const environmentVariables: Record<string, (value: string) => NodeConfigOverrides> = {
  TERRANE_MONIKER: (v) => ({ moniker: v }),
  TERRANE_LOG_LEVEL: (v) => ({ logLevel: v as NodeConfig['logLevel'] }),
  TERRANE_P2P_LISTEN: (v) => ({ p2p: { listen: v } }),
  TERRANE_P2P_BOOTSTRAP: (v) => ({ p2p: { bootstrap: v.split(',').filter((s) => s.length > 0) } }),
  TERRANE_API_HOST: (v) => ({ api: { host: v } }),
  TERRANE_API_PORT: (v) => ({ api: { port: Number(v) } }),
  TERRANE_MQTT_PORT: (v) => ({ mqtt: { port: Number(v) } }),
  TERRANE_DASHBOARD_DIR: (v) => ({ api: { dashboardDir: v } }),
  TERRANE_API_RATE_LIMIT: (v) => ({ api: { rateLimitRequestsMax: Number(v) } }),
  TERRANE_SIMULATED_DEVICES: (v) => ({ devnet: { simulatedDevices: Number(v) } }),
  TERRANE_MEMPOOL_TXS_MAX: (v) => ({ mempool: { txsMax: Number(v) } }),
  TERRANE_PROPOSAL_TXS_MAX: (v) => ({ consensus: { proposalTxsMax: Number(v) } }),
  TERRANE_TIMEOUT_COMMIT_MS: (v) => ({ consensus: { timeoutCommitMs: Number(v) } }),
}

function fromEnvironment(env: Record<string, string | undefined>): NodeConfigOverrides[] {
  const out: NodeConfigOverrides[] = []
  for (const [name, apply] of Object.entries(environmentVariables)) {
    const value = env[name]
    if (value !== undefined && value !== '') out.push(apply(value))
  }
  return out
}

function isPort(v: number, allowDisabled = false): boolean {
  return Number.isSafeInteger(v) && v >= (allowDisabled ? -1 : 0) && v <= 65535
}

/** Checks a merged configuration once, at start-up, with the path of the first bad field. */
export function validateNodeConfig(c: NodeConfig): NodeConfig {
  if (typeof c.home !== 'string' || c.home.length === 0) throw new NodeConfigError('home', 'must be a directory path')
  if (typeof c.moniker !== 'string' || c.moniker.length === 0 || c.moniker.length > 64)
    throw new NodeConfigError('moniker', 'must be 1-64 characters')
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(c.logLevel))
    throw new NodeConfigError('logLevel', `unknown level ${String(c.logLevel)}`)
  if (typeof c.p2p.listen !== 'string' || !c.p2p.listen.startsWith('/'))
    throw new NodeConfigError('p2p.listen', 'must be a multiaddr such as /ip4/127.0.0.1/tcp/26656')
  if (!Array.isArray(c.p2p.bootstrap) || !c.p2p.bootstrap.every((a) => typeof a === 'string' && a.includes('/p2p/'))) {
    throw new NodeConfigError('p2p.bootstrap', 'must be multiaddrs ending in /p2p/<peer id>')
  }
  if (!isPort(c.api.port)) throw new NodeConfigError('api.port', 'must be a port number (0 picks a free one)')
  if (!Number.isSafeInteger(c.api.rateLimitRequestsMax) || c.api.rateLimitRequestsMax < 0)
    throw new NodeConfigError('api.rateLimitRequestsMax', 'must be a non-negative integer (0 turns the limit off)')
  if (c.api.dashboardDir !== null && (typeof c.api.dashboardDir !== 'string' || c.api.dashboardDir.length === 0)) {
    throw new NodeConfigError('api.dashboardDir', 'must be a directory path or null')
  }
  if (!isPort(c.mqtt.port, true)) throw new NodeConfigError('mqtt.port', 'must be a port number, 0 for a free one, or -1 to disable')
  if (!Number.isSafeInteger(c.mempool.txsMax) || c.mempool.txsMax < 1)
    throw new NodeConfigError('mempool.txsMax', 'must be a positive integer')
  if (!Number.isSafeInteger(c.mempool.bytesMax) || c.mempool.bytesMax < 1024)
    throw new NodeConfigError('mempool.bytesMax', 'must be at least 1024')
  if (!Number.isSafeInteger(c.mempool.recheckTxsMax) || c.mempool.recheckTxsMax < 0)
    throw new NodeConfigError('mempool.recheckTxsMax', 'must be a non-negative integer')
  if (!Number.isSafeInteger(c.consensus.proposalTxsMax) || c.consensus.proposalTxsMax < 1 || c.consensus.proposalTxsMax > blockTxsMax)
    throw new NodeConfigError('consensus.proposalTxsMax', `must be an integer in 1..${blockTxsMax}`)
  if (c.consensus.timeoutCommitMs !== null && (!Number.isSafeInteger(c.consensus.timeoutCommitMs) || c.consensus.timeoutCommitMs < 0))
    throw new NodeConfigError('consensus.timeoutCommitMs', 'must be a non-negative integer (milliseconds) or null')
  if (
    c.devnet !== undefined &&
    (!Number.isSafeInteger(c.devnet.simulatedDevices) || c.devnet.simulatedDevices < 0 || c.devnet.simulatedDevices > 10_000)
  )
    throw new NodeConfigError('devnet.simulatedDevices', 'must be an integer in 0..10000')
  return c
}

/** Loads `<home>/config.json` (if present), the environment and flag overrides, and validates the result. */
export async function loadNodeConfig(
  home: string,
  flags: NodeConfigOverrides = {},
  env: Record<string, string | undefined> = {},
): Promise<NodeConfig> {
  let config = defaultNodeConfig(home)
  let fileText: string | undefined
  try {
    fileText = await readFile(join(home, 'config.json'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (fileText !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(fileText)
    } catch (err) {
      throw new NodeConfigError('config.json', `not valid JSON: ${(err as Error).message}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new NodeConfigError('config.json', 'must be a JSON object')
    config = merge(config, parsed as NodeConfigOverrides)
  }
  for (const over of fromEnvironment(env)) config = merge(config, over)
  config = merge(config, flags)
  return validateNodeConfig({ ...config, home })
}

/**
 * The node's devnet timeouts: the simulator's (`devnetTimeouts`, which its fixed digests
 * depend on) with a shorter commit pause. The 200 ms pause was a third of the block
 * interval at 50% load and waited for nothing: on loopback the fourth precommit arrives
 * within a few milliseconds of the third, and the next proposer waits for no transactions.
 */
export const nodeDevnetTimeouts = { ...devnetTimeouts, timeoutCommitMs: 50 } as const
