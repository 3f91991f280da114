import type { Command } from 'commander'
import { resolve } from 'node:path'
import { DeviceError, parseSimulateArgs, runSimulation, type SimulateOptions, type SimulateSummary } from '@terrane/device'
import { printValue, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'

/** The largest region radius, km: @terrane/device's simulatePositions refuses more. */
export const regionRadiusKmMax = 2000

interface SimulateFlags extends GlobalOptions {
  count: string
  region: string
  seed: string
  chainId: string
  broker?: string
  challengeUrl?: string
  rounds: string
  beacons: string
  out?: string
}

/**
 * The options as `@terrane/device` reads them: its `parseSimulateArgs` owns the bounds and defaults,
 * commander owns the help. Values go as `--name=value` so that a negative latitude is not taken for a flag.
 * A DEVICE_CONFIG refusal becomes one CLI_USAGE line (the device package appends its own usage text).
 */
export function simulateOptionsOf(flags: SimulateFlags, cwd: string): SimulateOptions {
  const argv = [
    `--count=${flags.count}`,
    `--region=${flags.region}`,
    `--seed=${flags.seed}`,
    `--chain-id=${flags.chainId}`,
    `--rounds=${flags.rounds}`,
    `--beacons=${flags.beacons}`,
    ...(flags.broker === undefined ? [] : [`--broker=${flags.broker}`]),
    ...(flags.challengeUrl === undefined ? [] : [`--challenge-url=${flags.challengeUrl}`]),
    ...(flags.out === undefined ? [] : [`--out=${resolve(cwd, flags.out)}`]),
  ]
  let options: SimulateOptions
  try {
    options = parseSimulateArgs(argv)
  } catch (err) {
    if (err instanceof DeviceError && err.code === 'DEVICE_CONFIG')
      throw new CliError('CLI_USAGE', err.message.split('\n')[0] ?? err.message, { cause: err })
    throw err
  }
  // parseSimulateArgs checks only that the region is three numbers; simulatePositions refuses a radius
  // outside (0, 2000] km later, after the run has started. Refuse it here, with the coordinates, as usage.
  const { lat, lng, radiusKm } = options.region
  if (!(lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 && radiusKm > 0 && radiusKm <= regionRadiusKmMax))
    throw new CliError(
      'CLI_USAGE',
      `--region must be lat (-90..90), lng (-180..180), radiusKm (0 < r <= ${regionRadiusKmMax}), got "${flags.region}"`,
    )
  return options
}

/** The summary for people: what was simulated, what was sent, what the embedded ingest made of it. */
export function formatSimulateSummary(options: SimulateOptions, summary: SimulateSummary): string[] {
  const { lat, lng, radiusKm } = options.region
  const lines = [
    `Simulated ${summary.devices} devices within ${radiusKm} km of ${lat},${lng} (seed ${options.seed}, chain ${options.chainId}).`,
    `Onboarded: ${summary.onboarded} of ${summary.devices}, every onboarding request and X.509 attestation verified.`,
    `Sent to ${options.brokerUrl ?? 'the embedded ingest'}: ${summary.heartbeats} heartbeats, ${summary.beacons} beacons, ${summary.witnesses} witness reports.`,
  ]
  if (summary.ingest !== undefined) {
    const refused = Object.entries(summary.ingest.rejected)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ')
    lines.push(`Ingest: ${summary.ingest.accepted} accepted, ${refused === '' ? 'none refused' : `refused: ${refused}`}.`)
  }
  if (options.outFile !== undefined) lines.push(`Onboarding requests written to ${options.outFile}.`)
  lines.push(`Elapsed: ${(summary.elapsedMs / 1000).toFixed(1)} s.`)
  return lines
}

/** `terrane device simulate`: `@terrane/device`'s simulator (`runSimulation`) behind the CLI's help and errors. */
export function registerDeviceSimulate(device: Command, ctx: CliContext): void {
  device
    .command('simulate')
    .description(
      'run simulated devices at realistic positions: keys and certificates from a simulated manufacturer, onboarding requests ' +
        'with X.509 attestations verified, then heartbeats, beacons and witness reports signed and sent through the real MQTT ' +
        'ingest (an embedded one on loopback, or --broker)',
    )
    .option('--count <n>', 'devices (0..100000)', '100')
    .option('--region <lat,lng,radiusKm>', 'area to place them in: centre and radius in km', '52.52,13.405,20')
    .option('--seed <s>', 'positions, keys and owners derive from it', '1')
    .option('--chain-id <id>', 'chain id the onboarding requests and reports are signed for', 'terrane-devnet')
    .option('--broker <url>', 'external MQTT broker (default: an embedded ingest on loopback, which reports what it accepted)')
    .option('--challenge-url <url>', 'session-token challenges of an external Terrane ingest (default with --broker: anonymous)')
    .option('--rounds <n>', 'heartbeat rounds (0..10000)', '1')
    .option('--beacons <n>', 'beaconing devices per round, each drawing witness reports from its neighbours (0..100000)', '0')
    .option('--out <file>', 'also write the onboarding requests: hex of their canonical bytes, one per line')
    .addHelpText(
      'after',
      '\nExamples:\n  $ terrane device simulate --count 1000 --region 52.52,13.405,20 --beacons 10\n' +
        '  $ terrane device simulate --count 50 --region -33.87,151.21,5 --broker mqtt://127.0.0.1:1883 --json',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<SimulateFlags>()
      const options = simulateOptionsOf(flags, ctx.cwd)
      const summary = await runSimulation(options)
      if (flags.json === true) printValue(ctx, summary, true)
      else ctx.io.stdout(formatSimulateSummary(options, summary).join('\n') + '\n')
    })
}
