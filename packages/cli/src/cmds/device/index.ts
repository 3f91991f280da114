import type { Command } from 'commander'
import type { CliContext } from '../../context.ts'

/** `terrane device ...`: operator commands about one device (diagnose). */
export function registerDevice(program: Command, _ctx: CliContext): void {
  program
    .command('device')
    .description("a device's status, proofs and rewards, read through a node's API")
    .addHelpText('after', '\nExample:\n  $ terrane device diagnose <device-id>')
}
