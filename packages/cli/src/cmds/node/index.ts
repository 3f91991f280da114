import type { Command } from 'commander'
import { pino } from 'pino'
import { loadNodeConfig, startNode, type TerraneNode } from '@terrane/node'
import { printValue, resolveHome, type CliContext, type GlobalOptions, type ShutdownSignal } from '../../context.ts'
import { nodeFlagOptions, overridesOf, type NodeFlagOptions } from './flags.ts'
import { keepBootstrapPeers } from './bootstrap-redial.ts'

interface StartOptions extends GlobalOptions, NodeFlagOptions {
  logFile?: string
}

/** A second Ctrl-C later than this after the first stops the node without waiting. */
const forceStopAfterMs = 1000

/** `terrane node start|config`: run a node in this process, or print its effective options. */
export function registerNode(program: Command, ctx: CliContext): void {
  const node = program.command('node').description('run a node, or show its configuration')

  nodeFlagOptions(
    node
      .command('start')
      .description('start the node of <home> in this process; SIGINT/SIGTERM stop it cleanly')
      .option('--log-file <file>', 'append JSON logs to this file instead of stdout'),
  )
    .addHelpText(
      'after',
      `
Options come from (later wins): defaults < <home>/config.json < TERRANE_* environment < flags.
Logs are JSON lines (pino), one per event, e.g. {"msg":"Committed block","height":12,...}.

Example:
  $ terrane node start --home ./mynode --api-port 26657`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<StartOptions>()
      const config = await loadNodeConfig(resolveHome(ctx, opts.home), overridesOf(opts), ctx.env)
      const destination =
        opts.logFile === undefined
          ? pino.destination({ fd: 1, sync: true })
          : pino.destination({ dest: opts.logFile, sync: true, append: true, mkdir: true })
      const logger = pino({ level: config.logLevel, base: { node: config.moniker } }, destination)

      // Listen before starting: a signal during start-up stops the node as soon as it is up.
      let firstSignalMs: number | undefined
      let onSignal: (signal: ShutdownSignal) => void = () => undefined
      const stopped = new Promise<ShutdownSignal>((resolve) => {
        onSignal = resolve
      })
      const unsubscribe = ctx.onShutdown((signal) => {
        if (firstSignalMs === undefined) {
          firstSignalMs = Date.now()
          onSignal(signal)
        } else if (Date.now() - firstSignalMs > forceStopAfterMs) {
          logger.warn({ signal }, 'Stopping at once on a second signal')
          process.exit(130)
        }
      })
      let running: TerraneNode | undefined
      try {
        running = await startNode({ config, logger })
        const stopRedial = keepBootstrapPeers(running.p2p, config.p2p.bootstrap, (message, context) => logger.info(context, message))
        const signal = await stopped
        stopRedial()
        logger.info({ signal, height: running.blockStore.height }, 'Stopping node')
        await running.stop()
        logger.info({}, 'Stopped node')
      } finally {
        unsubscribe()
      }
    })

  nodeFlagOptions(
    node.command('config').description('print the effective node options (defaults < config.json < environment < flags) without starting'),
  )
    .addHelpText('after', '\nExample:\n  $ terrane node config --home ./mynode --api-port 9000')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & NodeFlagOptions>()
      const config = await loadNodeConfig(resolveHome(ctx, opts.home), overridesOf(opts), ctx.env)
      printValue(ctx, config, true)
    })
}
