import type { Command } from 'commander'
import { printValue, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { clientOf, parseNonNegativeInteger } from '../../client.ts'
import { diagnoseDevice, diagnoseEpochsDefault, diagnoseEpochsMax, formatDiagnosis } from './diagnose.ts'
import { registerDeviceSimulate } from './simulate.ts'

interface DiagnoseOptions extends GlobalOptions {
  api?: string
  epochs: string
}

/** `terrane device ...`: operator commands about one device, and the device simulator. */
export function registerDevice(program: Command, ctx: CliContext): void {
  const device = program
    .command('device')
    .description("a device's standing, proofs and rewards, read through a node's API; simulated devices for a devnet")

  device
    .command('diagnose')
    .description(
      'why a device is or is not earning: its standing on chain (attestation, firmware, asserted location), and for each recent ' +
        "epoch the verdicts on its reports, multipliers, flags, escrow and earnings, as the node's verifier computed them",
    )
    .argument('<device-id>', 'the device id (tdev1...)')
    .option(
      '--api <url>',
      'API base URL of the node (default: TERRANE_NODE, else the API port in <home>/config.json, else http://127.0.0.1:26657)',
    )
    .option('--epochs <n>', `newest scored epochs to show (1..${diagnoseEpochsMax})`, String(diagnoseEpochsDefault))
    .addHelpText(
      'after',
      '\nExamples:\n  $ terrane device diagnose tdev1qxy... --api http://127.0.0.1:26601\n  $ terrane device diagnose tdev1qxy... --epochs 20 --json',
    )
    .action(async (deviceId: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DiagnoseOptions>()
      if (!/^tdev1[02-9ac-hj-np-z]{6,}$/.test(deviceId)) throw new CliError('CLI_USAGE', `"${deviceId}" is not a device id (tdev1...)`)
      const epochs = parseNonNegativeInteger(opts.epochs, '--epochs')
      if (epochs < 1 || epochs > diagnoseEpochsMax)
        throw new CliError('CLI_USAGE', `--epochs must be in 1..${diagnoseEpochsMax}, got ${epochs}`)
      const { api, ...rest } = opts
      if (api !== undefined && !/^https?:\/\/[^\s]+$/.test(api))
        throw new CliError('CLI_USAGE', `--api must be an http(s) URL, got "${api}"`)
      const client = await clientOf(ctx, api === undefined ? rest : { ...rest, node: api })
      const diagnosis = await diagnoseDevice(client, deviceId, epochs)
      if (opts.json === true) printValue(ctx, diagnosis, true)
      else ctx.io.stdout(formatDiagnosis(diagnosis).join('\n') + '\n')
    })

  registerDeviceSimulate(device, ctx)
}
