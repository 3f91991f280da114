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
  remoteEntropyOnly?: boolean
  forgerRelay?: boolean
}

/** Devices one run may place: the verifier README's largest measured run is 10,000; 1,000,000 is its benchmark. */
export const simDevicesMax = 1_000_000

/**
 * Epochs one run may simulate. Each epoch costs about as much as the first (a run is devices x epochs),
 * and the verifier's evidence window (evidenceEpochs) is a few epochs: 100 is far past where detection settles.
 */
export const simEpochsMax = 100

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
    .option(
      '--epochs <n>',
      `epochs simulated in a row (1..${simEpochsMax}): fresh challenge entropy and fast fading each, the verifier's history ` +
        'and evidence carried from one to the next; detection is printed per epoch, shares over all epochs',
      '1',
    )
    .option(
      '--remote-entropy-only',
      "beacon payloads from the chain's public entropy only, without the beaconer's signed local entropy (and the verifier " +
        'does not require it): a payload anyone can compute, so RSSI forgers can claim beacons they never heard',
    )
    .option(
      '--forger-relay',
      'RSSI forgers have an accomplice near each beaconer they claim that passes the payload on in time, ' +
        'so they claim unheard beacons even when payloads carry local entropy',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ terrane sim coverage --devices 10000 --seed 1\n' +
        '  $ terrane sim coverage --devices 2000 --seed 7 --adversaries spoofer,witness_ring --adversary-share 0.05 --json\n' +
        '  $ terrane sim coverage --devices 2000 --seed 1 --epochs 4 --forger-relay',
    )
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<CoverageOptions>()
      const devices = parseNonNegativeInteger(opts.devices, '--devices')
      if (devices < 1 || devices > simDevicesMax)
        throw new CliError('CLI_USAGE', `--devices must be in 1..${simDevicesMax}, got ${devices}`)
      const adversaryShare = parseAdversaryShare(opts.adversaryShare)
      const adversaries = parseAdversaries(opts.adversaries)
      const epochs = parseNonNegativeInteger(opts.epochs, '--epochs')
      if (epochs < 1 || epochs > simEpochsMax) throw new CliError('CLI_USAGE', `--epochs must be in 1..${simEpochsMax}, got ${epochs}`)
      const isRemoteEntropyOnly = opts.remoteEntropyOnly === true
      const hasForgerRelay = opts.forgerRelay === true
      const startedMs = performance.now()
      const run = runCoverageSim({
        devices,
        seed: opts.seed,
        adversaryShare,
        adversaries,
        epochs,
        localEntropy: !isRemoteEntropyOnly,
        forgerRelay: hasForgerRelay,
      })
      const seconds = (performance.now() - startedMs) / 1000
      const digest = toHex(run.result.digest.hash)
      if (opts.json === true) {
        printValue(
          ctx,
          {
            seed: opts.seed,
            devices,
            adversaryShare,
            adversaries,
            localEntropy: !isRemoteEntropyOnly,
            forgerRelay: hasForgerRelay,
            rows: run.rows,
            reports: run.reports,
            witnessReports: run.witnessReports,
            epochs: run.epochs.map((e) => ({ epoch: e.epoch, rows: e.rows, digest: toHex(e.digestHash) })),
            digest,
            seconds,
          },
          true,
        )
        return
      }
      const command =
        `terrane sim coverage --devices ${devices} --seed ${opts.seed} --adversary-share ${opts.adversaryShare} ` +
        `--adversaries ${adversaries.join(',')} --epochs ${epochs}` +
        (isRemoteEntropyOnly ? ' --remote-entropy-only' : '') +
        (hasForgerRelay ? ' --forger-relay' : '')
      // formatSimTable adds the per-epoch detection table when there is more than one epoch.
      ctx.io.stdout([command, ...formatSimTable(run), `Digest ${digest}; ${seconds.toFixed(1)} s.`].join('\n') + '\n')
    })
}
