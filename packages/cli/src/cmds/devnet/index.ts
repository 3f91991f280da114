import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { buildDashboard, dashboardAssetsDir } from '@terrane/dashboard'
import type { Command } from 'commander'
import { type CliContext, type GlobalOptions, type ShutdownSignal } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { parseNonNegativeInteger } from '../../client.ts'
import { LocalDevnet } from '../../devnet/local-devnet.ts'

interface DevnetOptions extends GlobalOptions {
  validators: string
  fullNodes: string
  dir: string
  basePort: string
  fresh?: boolean
  logLevel?: string
  stopTimeout: string
  simulateDevices: string
}

/** Live status redraw period on a terminal; without one, a line this often. */
const statusTtyMs = 500
const statusLineMs = 10_000
/** A warning is printed if no block commits within this after every node is up. */
const firstBlockWarningMs = 60_000

/** `terrane devnet`: N validators as separate processes on 127.0.0.1, one command, Ctrl-C stops them all. */
/** Log levels the devnet can run nodes at: it reads their info lines to follow heights. */
export const devnetLogLevels = ['trace', 'debug', 'info'] as const

export function registerDevnet(program: Command, ctx: CliContext): void {
  program
    .command('devnet')
    .description('run a local devnet: N validators, each a separate node process with its own home, data, log and ports on 127.0.0.1')
    .option('--validators <n>', 'number of validators', '4')
    .option('--full-nodes <n>', 'extra non-validator nodes', '0')
    .option('--dir <dir>', 'devnet directory (node i in <dir>/node<i>)', '.terrane/devnet')
    .option('--base-port <port>', 'node i uses base+10i (p2p), base+10i+1 (API), base+10i+2 (MQTT)', '26600')
    .option('--fresh', 'delete <dir> and write a new devnet (new genesis) first')
    .option('--log-level <level>', `log level of every node's log file: ${devnetLogLevels.join(', ')}`, 'info')
    .option('--stop-timeout <ms>', 'after Ctrl-C, how long to wait for each node before SIGKILL', '10000')
    .option('--simulate-devices <n>', 'simulated devices run by node 0 (onboard on chain, report over MQTT); 0 for none', '24')
    .addHelpText(
      'after',
      `
The devnet is written on first use (keys from a fixed seed, funded faucet accounts) and reused after,
so a restart continues the same chain; --fresh starts over. Logs: <dir>/node<i>/node.log.

Examples:
  $ npm run devnet
  $ terrane devnet --validators 4 --full-nodes 1 --fresh`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DevnetOptions>()
      // The devnet learns each node's progress from its log ('Committed block', 'Serving the API' at info),
      // so a level that hides info lines would leave it showing height 0 and nodes forever starting.
      const logLevel = opts.logLevel ?? 'info'
      if (!(devnetLogLevels as readonly string[]).includes(logLevel))
        throw new CliError(
          'CLI_USAGE',
          `--log-level must be one of ${devnetLogLevels.join(', ')} (the devnet follows the nodes' info lines), got "${logLevel}"`,
        )
      const basePort = parseNonNegativeInteger(opts.basePort, '--base-port')
      if (basePort < 1024 || basePort > 65_000) throw new CliError('CLI_USAGE', '--base-port must be 1024 to 65000')
      const out0 = (line: string) => ctx.io.stdout(line + '\n')
      // The dashboard is served by every node at `/`; build it once if this checkout has no build yet.
      const dashboardDir = dashboardAssetsDir()
      if (!existsSync(join(dashboardDir, 'index.html'))) {
        out0('Building the dashboard (first run only)...')
        await buildDashboard()
      }
      const devnet = await LocalDevnet.open({
        dir: resolve(ctx.cwd, opts.dir),
        validators: parseNonNegativeInteger(opts.validators, '--validators'),
        fullNodes: parseNonNegativeInteger(opts.fullNodes, '--full-nodes'),
        basePort,
        isFresh: opts.fresh === true,
        env: { TERRANE_LOG_LEVEL: logLevel, TERRANE_DASHBOARD_DIR: dashboardDir },
      })
      // Node 0 runs the simulated devices (a node option in its config file).
      const simulatedDevices = parseNonNegativeInteger(opts.simulateDevices, '--simulate-devices')
      const node0Home = devnet.info.nodes[0]?.home
      if (node0Home !== undefined) {
        const configPath = join(node0Home, 'config.json')
        const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>
        config.devnet = { simulatedDevices }
        await writeFile(configPath, JSON.stringify(config, null, 2) + '\n')
      }
      const out = (line: string) => ctx.io.stdout(line + '\n')
      out(`${devnet.isNew ? 'Wrote' : 'Reusing'} devnet "${devnet.info.chainId}" in ${devnet.dir} (${devnet.nodes.length} nodes)`)
      for (const n of devnet.info.nodes)
        out(`  node${n.index} ${n.isValidator ? 'validator' : 'full node'}  api ${n.apiUrl}  p2p ${n.p2pListen}  log ${n.logPath}`)
      const node0 = devnet.info.nodes[0]
      if (node0 !== undefined) {
        out(`API:       ${node0.apiUrl}/v1/status`)
        out(`Dashboard: ${node0.apiUrl}/`)
      }
      out('Press Ctrl-C to stop all nodes.')

      let signal: ShutdownSignal | undefined
      let wake: () => void = () => undefined
      const unsubscribe = ctx.onShutdown((s) => {
        signal ??= s
        wake()
      })
      let lastLineMs = 0
      let hasCommitted = false
      let hasWarned = false
      let allUpMs: number | undefined
      try {
        devnet.start()
        while (signal === undefined) {
          await new Promise<void>((r) => {
            wake = r
            setTimeout(r, statusTtyMs)
          })
          await devnet.poll()
          const crashed = devnet.nodes.find((n) => n.hasCrashed)
          if (crashed !== undefined)
            throw new CliError(
              'CLI_DEVNET',
              `node${crashed.index} exited (${crashed.exitDescription}); see ${crashed.logPath}: ${(crashed.recentLines.at(-1) ?? '').slice(0, 300)}`,
            )
          const heights = devnet.heights()
          hasCommitted ||= heights.some((h) => h > 0)
          if (allUpMs === undefined && devnet.nodes.every((n) => n.peerId !== undefined)) allUpMs = Date.now()
          if (!hasCommitted && !hasWarned && allUpMs !== undefined && Date.now() - allUpMs > firstBlockWarningMs) {
            hasWarned = true
            out(`\nNo block yet ${firstBlockWarningMs / 1000} s after every node started; still trying. Logs: ${devnet.dir}/node*/node.log`)
          }
          const up = devnet.nodes.filter((n) => n.peerId !== undefined).length
          const status = `heights ${heights.map((h, i) => `node${i}=${h}`).join(' ')}${hasCommitted ? '' : `  (starting: ${up}/${devnet.nodes.length} nodes up)`}`
          if (ctx.io.isTty) ctx.io.stdout(`\r\x1b[2K${status}`)
          else if (Date.now() - lastLineMs >= statusLineMs) {
            lastLineMs = Date.now()
            out(status)
          }
        }
        if (ctx.io.isTty) ctx.io.stdout('\n')
        out(`Stopping ${devnet.nodes.length} nodes (${signal})...`)
      } finally {
        unsubscribe()
        const results = await devnet.stop(parseNonNegativeInteger(opts.stopTimeout, '--stop-timeout'))
        const killed = results.flatMap((r, i) => (r === 'killed' ? [i] : []))
        out(
          killed.length === 0
            ? `Stopped. Heights: ${devnet.describe()}`
            : `Stopped; SIGKILLed node ${killed.join(', ')} after the timeout.`,
        )
      }
    })
}
