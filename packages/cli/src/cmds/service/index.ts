import type { Command } from 'commander'
import { randomBytes } from 'node:crypto'
import { createClient } from '@terrane/sdk'
import { devnetFaucets } from '@terrane/node'
import { printValue, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { nodeUrlOf, parseNonNegativeInteger } from '../../client.ts'
import { demoSummary, runServiceDemo } from './demo.ts'

interface DemoOptions extends GlobalOptions {
  api?: string
  faucet: string
  devnetSeed: string
  epochs: string
  missFromEpoch: string
  seed?: string
  deviceId?: string
  timeout: string
}

/** Faucet 14 funds the simulated devices' owners and 15 administers the devices module; 12 is free for demos. */
export const demoFaucetIndexDefault = 12

/** `terrane service demo`: proof-of-service, agreements and payment channels end to end on a devnet. */
export function registerService(program: Command, ctx: CliContext): void {
  const service = program.command('service').description('proof-of-service, service agreements and payment channels')

  service
    .command('demo')
    .description(
      'on a running devnet: a simulated customer opens an agreement with a simulated device, pays it through a payment ' +
        'channel, a prober submits proof-of-service figures each epoch, and the agreement settles every epoch; the device ' +
        'misses its SLA from --miss-from-epoch on and is penalised',
    )
    .option('--api <url>', 'API base URL of a devnet node (default: --node, TERRANE_NODE, or <home>/config.json)')
    .option('--faucet <index>', 'devnet faucet that funds the customer, the device and the prober', String(demoFaucetIndexDefault))
    .option('--devnet-seed <seed>', 'seed the devnet faucets derive from', 'terrane-devnet')
    .option('--epochs <n>', 'epochs the agreement covers', '4')
    .option('--miss-from-epoch <n>', 'the device misses its SLA from this covered epoch on (0-based; >= --epochs: never)', '2')
    .option('--seed <hex>', '32-byte hex seed of the actors (default: random, so every run has fresh actors)')
    .option('--device-id <id>', 'the device the prober probes (default: the first device the node lists)')
    .option('--timeout <ms>', 'how long to wait for any one transaction or height', '60000')
    .addHelpText(
      'after',
      `
Takes about epochs + 2 devnet epochs. Prints each settled epoch's outcome, payment, refund and penalty,
what the channel paid the device, and checks that no funds were created or lost.

Examples:
  $ npm run devnet                       (in another terminal)
  $ terrane service demo --api http://127.0.0.1:26601
  $ terrane service demo --api http://127.0.0.1:26601 --miss-from-epoch 1 --json`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DemoOptions>()
      const url = opts.api ?? (await nodeUrlOf(ctx, opts))
      if (!/^https?:\/\/[^\s]+$/.test(url)) throw new CliError('CLI_USAGE', `--api must be an http(s) URL, got "${url}"`)
      const faucetIndex = parseNonNegativeInteger(opts.faucet, '--faucet')
      const faucet = devnetFaucets(opts.devnetSeed)[faucetIndex]
      if (faucet === undefined) throw new CliError('CLI_USAGE', '--faucet must be 0 to 15')
      if (opts.seed !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.seed)) throw new CliError('CLI_USAGE', '--seed must be 64 hex digits')
      const actorsSeed = opts.seed === undefined ? randomBytes(32) : Buffer.from(opts.seed, 'hex')
      const client = createClient({ url })
      const deviceId = opts.deviceId ?? (await client.devices({ limit: 1 })).items[0]?.id ?? 'simulated-device'
      const result = await runServiceDemo({
        client,
        faucet,
        actorsSeed,
        deviceId,
        epochs: parseNonNegativeInteger(opts.epochs, '--epochs'),
        missFromEpoch: parseNonNegativeInteger(opts.missFromEpoch, '--miss-from-epoch'),
        waitMsMax: parseNonNegativeInteger(opts.timeout, '--timeout'),
        ...(opts.json === true ? {} : { onProgress: (line: string) => ctx.io.stdout(line + '\n') }),
      })
      if (opts.json === true) printValue(ctx, result, true)
      else for (const line of demoSummary(result)) ctx.io.stdout(line + '\n')
      if (result.unaccountedMicro !== 0n) throw new CliError('CLI_TX_FAILED', `funds unaccounted: ${result.unaccountedMicro} micro-TRN`)
    })
}
