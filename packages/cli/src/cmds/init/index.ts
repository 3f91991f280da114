import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { toHex } from '@terrane/codec'
import { decodeAddress, keyPairFromSeed } from '@terrane/crypto'
import { peerIdOfSeed } from '@terrane/p2p'
import { defaultNodeConfig, nodePaths, parseNodeGenesis, validateNodeConfig, writeKeyFile, type NodeConfig } from '@terrane/node'
import { printValue, resolveHome, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { Keyring, scryptCostOf } from '../../keyring.ts'
import { readPassword } from '../../password.ts'
import { nodeFlagOptions, overridesOf, type NodeFlagOptions } from '../node/flags.ts'

interface InitOptions extends GlobalOptions, NodeFlagOptions {
  chainId: string
  genesis?: string
  validator?: boolean
  operator?: string
  passwordFile?: string
}

/** 1 TRN = 10^6 micro-TRN. */
const trn = 1_000_000n
/** Balance and self-stake of the operator of a new single-node chain. */
const operatorBalanceMicro = 10_000_000n * trn
const operatorSelfStakeMicro = 1_000_000n * trn

/** `terrane init`: the home directory of a new single-node chain, or of a node joining one. */
export function registerInit(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('init')
    .description('create a node home: keys, config.json and genesis.json (a new single-validator chain, or --genesis to join one)')
    .option('--chain-id <id>', 'chain id of a new chain', 'terrane-local')
    .option('--genesis <file>', 'join an existing chain with this genesis file (instead of creating one)')
    .option('--validator', 'when joining: also create a consensus key (to register later with create-validator)')
    .option('--operator <address>', 'new chain: the validator operator\'s address (default: create key "operator" in the keystore)')
    .option('--password-file <file>', 'password for the new operator key')
  nodeFlagOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ terrane init --home ./mynode                                   # a new one-validator chain
  $ terrane init --home ./n2 --genesis genesis.json --bootstrap /ip4/10.0.0.1/tcp/26656/p2p/12D3Koo... --p2p-listen /ip4/0.0.0.0/tcp/26656`,
    )
    .action(async (_o: unknown, command: Command) => {
      const opts = command.optsWithGlobals<InitOptions>()
      const home = resolveHome(ctx, opts.home)
      const paths = nodePaths(home)
      if (existsSync(paths.genesis) || existsSync(join(home, 'config.json')))
        throw new CliError('CLI_HOME_EXISTS', `${home} already holds a node (genesis.json or config.json); choose another --home`)

      const config: NodeConfig = validateNodeConfig(mergeFlags(defaultNodeConfig(home), opts))
      let genesisJson: unknown
      const summary: Record<string, unknown> = { home }
      if (opts.genesis !== undefined) {
        let text: string
        try {
          text = await readFile(opts.genesis, 'utf8')
        } catch (err) {
          throw new CliError('CLI_BAD_FILE', `cannot read ${opts.genesis}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
        }
        try {
          genesisJson = JSON.parse(text)
        } catch {
          throw new CliError('CLI_BAD_FILE', `${opts.genesis} is not JSON`)
        }
        summary.chainId = parseNodeGenesis(genesisJson).chain.chainId
        if (opts.validator === true) {
          const key = await writeKeyFile(paths.validatorKey, 'terrane-validator-key')
          summary.consensusKey = key.publicKey
        }
      } else {
        if (!/^[a-z0-9][a-z0-9-]{0,47}$/.test(opts.chainId))
          throw new CliError('CLI_USAGE', '--chain-id: lowercase letters, digits and -, 48 at most')
        let operator: string
        if (opts.operator !== undefined) {
          try {
            decodeAddress(opts.operator)
          } catch {
            throw new CliError('CLI_USAGE', `--operator is not an address: ${opts.operator}`)
          }
          operator = opts.operator
        } else {
          const keyring = new Keyring(home, scryptCostOf(ctx.env))
          const password = await readPassword(ctx, { passwordFile: opts.passwordFile, isConfirming: true, purpose: 'the operator key' })
          operator = (await keyring.add('operator', new Uint8Array(randomBytes(32)), password)).address
          summary.operatorKey = 'operator'
        }
        const consensusSeed = new Uint8Array(randomBytes(32))
        await writeKeyFile(paths.validatorKey, 'terrane-validator-key', consensusSeed)
        genesisJson = {
          genesisTimeMs: Date.now(),
          chain: {
            chainId: opts.chainId,
            params: {},
            accounts: [{ address: operator, balance: operatorBalanceMicro.toString() }],
            validators: [
              {
                operator,
                consensusKey: toHex(keyPairFromSeed(consensusSeed).publicKey),
                selfStake: operatorSelfStakeMicro.toString(),
                commissionBps: 500,
              },
            ],
          },
        }
        parseNodeGenesis(genesisJson) // the file we write must be one the node accepts
        summary.chainId = opts.chainId
        summary.operator = operator
      }
      const nodeSeed = new Uint8Array(randomBytes(32))
      await writeKeyFile(paths.nodeKey, 'terrane-node-key', nodeSeed)
      await mkdir(home, { recursive: true })
      await writeFile(paths.genesis, JSON.stringify(genesisJson, null, 2) + '\n')
      const { home: _home, ...fileConfig } = config
      await writeFile(join(home, 'config.json'), JSON.stringify(fileConfig, null, 2) + '\n')
      const peerId = await peerIdOfSeed(nodeSeed)
      summary.peerId = peerId
      summary.p2pAddress = `${config.p2p.listen}/p2p/${peerId}`
      summary.api = `http://${config.api.host}:${config.api.port}`
      printValue(ctx, summary, opts.json)
      if (opts.json !== true) ctx.io.stdout(`\nStart it with: terrane node start --home ${home}\n`)
    })
}

function mergeFlags(base: NodeConfig, opts: NodeFlagOptions): NodeConfig {
  const over = overridesOf(opts)
  return {
    ...base,
    ...(over.moniker === undefined ? {} : { moniker: over.moniker }),
    ...(over.logLevel === undefined ? {} : { logLevel: over.logLevel }),
    p2p: { ...base.p2p, ...over.p2p },
    api: { ...base.api, ...over.api },
    mqtt: { ...base.mqtt, ...over.mqtt },
    consensus: { ...base.consensus, ...over.consensus },
    mempool: { ...base.mempool, ...over.mempool },
  }
}
