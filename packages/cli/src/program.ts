import { Command, CommanderError } from 'commander'
import { exitCodes, exitCodeOf, formatError, type ExitCode } from './errors.ts'
import type { CliContext } from './context.ts'
import { registerInit } from './cmds/init/index.ts'
import { registerNode } from './cmds/node/index.ts'
import { registerDevnet } from './cmds/devnet/index.ts'
import { registerKeys } from './cmds/keys/index.ts'
import { registerTx } from './cmds/tx/index.ts'
import { registerQuery } from './cmds/query/index.ts'
import { registerDevice } from './cmds/device/index.ts'
import { registerSim } from './cmds/sim/index.ts'
import { registerService } from './cmds/service/index.ts'

export const cliVersion = '0.1.0'

/** The `terrane` program: every command, its options and help, from one set of definitions. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('terrane')
    .description('Terrane: run a node or a local devnet, manage keys, send transactions and query a chain')
    .version(cliVersion, '-V, --version', 'print the version')
    .option('--home <dir>', 'node home directory: keys, config, data (default: $TERRANE_HOME or ~/.terrane)')
    .option('-v, --verbose', 'print stack traces and more detail on errors')
    .option('--json', 'machine-readable JSON output')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 node unreachable, 130 interrupted.
Environment: TERRANE_HOME, TERRANE_NODE, TERRANE_PASSWORD, and the node options TERRANE_* (see "terrane node start --help").`,
    )
    .showSuggestionAfterError(true)
  program.exitOverride()
  program.configureOutput({
    writeOut: (text) => ctx.io.stdout(text),
    writeErr: (text) => ctx.io.stderr(text),
    // Usage errors are printed by runCli, as one line like every other error.
    outputError: () => undefined,
  })
  registerInit(program, ctx)
  registerNode(program, ctx)
  registerDevnet(program, ctx)
  registerKeys(program, ctx)
  registerTx(program, ctx)
  registerQuery(program, ctx)
  registerDevice(program, ctx)
  registerSim(program, ctx)
  registerService(program, ctx)
  return program
}

/** Runs the command line `argv` (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const program = createProgram(ctx)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exitCodes.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return exitCodes.ok // --help, --version
      if (err.code === 'commander.executeSubCommandAsync' || err.code === 'commander.help') return exitCodes.usage
      ctx.io.stderr(`error [CLI_USAGE]: ${err.message.replace(/^error: /, '')} (see --help)\n`)
      return exitCodes.usage
    }
    const isVerbose = argv.includes('--verbose') || argv.includes('-v')
    ctx.io.stderr(formatError(err) + '\n')
    if (isVerbose && err instanceof Error && err.stack !== undefined) ctx.io.stderr(err.stack + '\n')
    return exitCodeOf(err)
  }
}
