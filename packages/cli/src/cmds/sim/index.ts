import type { Command } from 'commander'
import { performance } from 'node:perf_hooks'
import { adversaryKinds, formatSimTable, runCoverageSim, type AdversaryKind } from '@terrane/verifier/sim'
import { toHex } from '@terrane/codec'
import { printValue, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { parseNonNegativeInteger } from '../../client.ts'

interface CoverageOptions extends GlobalOptions {
  devices: string
  seed: string
  adversaryShare: string
  adversaries: string
  epochs: string
}

/** Devices one run may place: the verifier README's largest measured run is 10,000; 1,000,000 is its benchmark. */
export const simDevicesMax = 1_000_000

/** `--adversaries a,b`: each a kind of `@terrane/verifier/sim`'s adversaryKinds; "" means none (honest devices only). */
export function parseAdversaries(text: string): AdversaryKind[] {
  const names = text === '' ? [] : text.split(',').map((s) => s.trim())
  for (const name of names)
    if (!(adversaryKinds as readonly string[]).includes(name))
      throw new CliError('CLI_USAGE', `unknown adversary kind "${name}"; known: ${adversaryKinds.join(', ')}`)
  return names as AdversaryKind[]
}

/** `--adversary-share x`: a fraction in [0, 1). */
export function parseAdversaryShare(text: string): number {
  const share = /^(0(\.[0-9]{1,6})?|\.[0-9]{1,6})$/.test(text) ? Number(text) : NaN
  if (!(share >= 0 && share < 1)) throw new CliError('CLI_USAGE', `--adversary-share must be a fraction in [0, 1), got "${text}"`)
  return share
}

/** `terrane sim coverage`: the adversarial Proof-of-Coverage simulator of `@terrane/verifier/sim`. */
export function registerSim(program: Command, ctx: CliContext): void {
  const sim = program.command('sim').description('run a seeded simulator and print its measurements')

  sim
    .command('coverage')
    .description(
      'place devices on real geography (H3), propagate beacons with log-distance path loss and shadowing, mix in adversaries, ' +
        'run the real verification and reward code, and print detection and reward shares per adversary kind',
    )
    .option('--devices <n>', 'devices to place', '10000')
    .option('--seed <s>', 'seed of every random draw (same seed, same table)', '1')
    .option('--adversary-share <x>', 'fraction of devices that are adversaries, split among the kinds', '0.1')
    .option('--adversaries <kinds>', `comma-separated adversary kinds (empty: none): ${adversaryKinds.join(',')}`, adversaryKinds.join(','))
    .option('--epochs <n>', 'epochs to simulate (the verifier simulator runs one epoch over a warmed history)', '1')
    .addHelpText(
      'after',
      '\nExamples:\n  $ terrane sim coverage --devices 10000 --seed 1\n  $ terrane sim coverage --devices 2000 --seed 7 --adversaries spoofer,witness_ring --adversary-share 0.05 --json',
    )
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<CoverageOptions>()
      const devices = parseNonNegativeInteger(opts.devices, '--devices')
      if (devices < 1 || devices > simDevicesMax)
        throw new CliError('CLI_USAGE', `--devices must be in 1..${simDevicesMax}, got ${devices}`)
      const adversaryShare = parseAdversaryShare(opts.adversaryShare)
      const adversaries = parseAdversaries(opts.adversaries)
      const epochs = parseNonNegativeInteger(opts.epochs, '--epochs')
      // runCoverageSim measures one epoch (its history is warmed, as after earlier clean epochs);
      // more needs a multi-epoch runner in @terrane/verifier/sim, not a loop here.
      if (epochs !== 1) throw new CliError('CLI_USAGE', `--epochs ${epochs}: the coverage simulator runs exactly 1 epoch so far`)
      const startedMs = performance.now()
      const run = runCoverageSim({ devices, seed: opts.seed, adversaryShare, adversaries })
      const seconds = (performance.now() - startedMs) / 1000
      const digest = toHex(run.result.digest.hash)
      if (opts.json === true) {
        printValue(ctx, { seed: opts.seed, devices, adversaryShare, adversaries, epochs, rows: run.rows, digest, seconds }, true)
        return
      }
      const command = `terrane sim coverage --devices ${devices} --seed ${opts.seed} --adversary-share ${opts.adversaryShare} --adversaries ${adversaries.join(',')}`
      ctx.io.stdout([command, ...formatSimTable(run), `Digest ${digest}; ${seconds.toFixed(1)} s.`].join('\n') + '\n')
    })
}
