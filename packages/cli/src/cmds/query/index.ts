import type { Command } from 'commander'
import { printValue, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { addressArgument, clientOf, parseNonNegativeInteger } from '../../client.ts'

interface QueryOptions extends GlobalOptions {
  node?: string
}

function found<T>(value: T | null, what: string): T {
  if (value === null) throw new CliError('CLI_NOT_FOUND', `${what} not found`)
  return value
}

/** `terrane query status|block|tx|account|validators`, through the SDK. */
export function registerQuery(program: Command, ctx: CliContext): void {
  const query = program
    .command('query')
    .alias('q')
    .description("read the chain through a node's API (--node URL, TERRANE_NODE, or the API port in <home>/config.json)")
    .option('--node <url>', 'API base URL of the node (default: from <home>/config.json, else http://127.0.0.1:26657)')

  query
    .command('status')
    .description('chain id, height, latest block and peers of the node')
    .addHelpText('after', '\nExample:\n  $ terrane query status --node http://127.0.0.1:26601')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<QueryOptions>()
      printValue(ctx, await (await clientOf(ctx, opts)).status(), opts.json)
    })

  query
    .command('block')
    .description('a block by height or hash (default: the latest)')
    .argument('[height-or-hash]', 'a height, a 64-hex-digit block hash, or "latest"', 'latest')
    .addHelpText('after', '\nExamples:\n  $ terrane query block\n  $ terrane query block 42 --json')
    .action(async (which: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<QueryOptions>()
      const client = await clientOf(ctx, opts)
      let block
      if (/^[0-9a-fA-F]{64}$/.test(which)) block = await client.blockByHash(which.toLowerCase())
      else {
        const height = which === 'latest' ? (await client.status()).height : parseNonNegativeInteger(which, 'height')
        block = await client.block(height)
      }
      printValue(ctx, found(block, `block ${which}`), opts.json)
    })

  query
    .command('tx')
    .description('a committed transaction by hash, with its result')
    .argument('<hash>', 'transaction hash (64 hex digits)')
    .addHelpText('after', '\nExample:\n  $ terrane query tx 5f2c...e1')
    .action(async (hash: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<QueryOptions>()
      if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new CliError('CLI_USAGE', 'a transaction hash is 64 hex digits')
      printValue(ctx, found(await (await clientOf(ctx, opts)).tx(hash.toLowerCase()), `transaction ${hash}`), opts.json)
    })

  query
    .command('account')
    .description('balance, nonce and kind of an account')
    .argument('<address>', 'a trn1... address or the name of a key in the keystore')
    .addHelpText('after', '\nExamples:\n  $ terrane query account trn1...\n  $ terrane query account alice')
    .action(async (value: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<QueryOptions>()
      const { address } = await addressArgument(ctx, opts, value)
      printValue(ctx, found(await (await clientOf(ctx, opts)).account(address), `account ${address}`), opts.json)
    })

  query
    .command('validators')
    .description('the validator set with voting power and status')
    .addHelpText('after', '\nExample:\n  $ terrane query validators --json')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<QueryOptions>()
      const client = await clientOf(ctx, opts)
      const validators = []
      for await (const v of client.all((page) => client.validators(page), 1000)) validators.push(v)
      if (opts.json === true) printValue(ctx, validators, true)
      else if (validators.length === 0) ctx.io.stdout('no validators\n')
      else {
        ctx.io.stdout('address\tvotingPower\ttokens\tcommissionBps\tstatus\tjailed\n')
        for (const v of validators)
          ctx.io.stdout(`${v.address}\t${v.votingPower}\t${v.tokens}\t${v.commissionBps}\t${v.status}\t${v.isJailed}\n`)
      }
    })
}
