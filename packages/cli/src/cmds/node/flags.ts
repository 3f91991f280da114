import type { Command } from 'commander'
import type { NodeConfig, NodeConfigOverrides } from '@terrane/node'
import { CliError } from '../../errors.ts'

/** Node option flags shared by `init` (written to config.json) and `node start` (override it). */
export interface NodeFlagOptions {
  moniker?: string
  logLevel?: string
  p2pListen?: string
  bootstrap?: string[]
  apiHost?: string
  apiPort?: string
  mqttPort?: string
  devnetTiming?: boolean
  emptyBlocks?: boolean
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function nodeFlagOptions(cmd: Command): Command {
  return cmd
    .option('--moniker <name>', 'node name in logs and status (config: moniker; env: TERRANE_MONIKER; default: terrane-node)')
    .option('--log-level <level>', `${logLevels.join('|')} (config: logLevel; env: TERRANE_LOG_LEVEL; default: info)`)
    .option(
      '--p2p-listen <multiaddr>',
      'p2p listen address (config: p2p.listen; env: TERRANE_P2P_LISTEN; default: /ip4/127.0.0.1/tcp/26656)',
    )
    .option(
      '--bootstrap <multiaddr...>',
      'bootstrap peers, /…/p2p/<peer id> (config: p2p.bootstrap; env: TERRANE_P2P_BOOTSTRAP, comma-separated)',
    )
    .option('--api-host <host>', 'API listen host (config: api.host; env: TERRANE_API_HOST; default: 127.0.0.1)')
    .option('--api-port <port>', 'API port, 0 = any free port (config: api.port; env: TERRANE_API_PORT; default: 26657)')
    .option('--mqtt-port <port>', 'device MQTT port, 0 = any, -1 = off (config: mqtt.port; env: TERRANE_MQTT_PORT; default: 1883)')
    .option('--devnet-timing', 'fast devnet consensus timeouts (config: consensus.isDevnetTiming; default: off)')
    .option('--no-empty-blocks', 'do not create empty blocks (config: consensus.isCreatingEmptyBlocks; default: create them)')
}

function port(text: string, flag: string, min: number): number {
  if (!/^-?[0-9]{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535)
    throw new CliError('CLI_USAGE', `${flag} must be a port number${min < 0 ? ', 0 or -1' : ' or 0'}, got "${text}"`)
  return Number(text)
}

/** The flags the user gave, as config overrides (flags win over env and config.json). */
export function overridesOf(opts: NodeFlagOptions): NodeConfigOverrides {
  const over: NodeConfigOverrides = {}
  if (opts.moniker !== undefined) over.moniker = opts.moniker
  if (opts.logLevel !== undefined) {
    if (!logLevels.includes(opts.logLevel)) throw new CliError('CLI_USAGE', `--log-level must be one of ${logLevels.join(', ')}`)
    over.logLevel = opts.logLevel as NodeConfig['logLevel']
  }
  const p2p: Partial<NodeConfig['p2p']> = {}
  if (opts.p2pListen !== undefined) p2p.listen = opts.p2pListen
  if (opts.bootstrap !== undefined) p2p.bootstrap = opts.bootstrap
  if (Object.keys(p2p).length > 0) over.p2p = p2p
  const api: Partial<NodeConfig['api']> = {}
  if (opts.apiHost !== undefined) api.host = opts.apiHost
  if (opts.apiPort !== undefined) api.port = port(opts.apiPort, '--api-port', 0)
  if (Object.keys(api).length > 0) over.api = api
  if (opts.mqttPort !== undefined) over.mqtt = { port: port(opts.mqttPort, '--mqtt-port', -1) }
  const consensus: Partial<NodeConfig['consensus']> = {}
  if (opts.devnetTiming === true) consensus.isDevnetTiming = true
  if (opts.emptyBlocks === false) consensus.isCreatingEmptyBlocks = false
  if (Object.keys(consensus).length > 0) over.consensus = consensus
  return over
}
