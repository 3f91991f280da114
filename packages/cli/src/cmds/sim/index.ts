import type { Command } from 'commander'
import type { CliContext } from '../../context.ts'

/** `terrane sim ...`: the seeded simulators (coverage). */
export function registerSim(program: Command, _ctx: CliContext): void {
  program
    .command('sim')
    .description('run a seeded simulator and print its measurements')
    .addHelpText('after', '\nExample:\n  $ terrane sim coverage --devices 150 --seed 1')
}
