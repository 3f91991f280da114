import type { Command } from 'commander'
import { coreTxBodySchema, signTx, type Msg } from '@terrane/chain'
import { toHex, sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, addressOfPublicKey } from '@terrane/crypto'
import type { TerraneClient, TxDropReasonDto } from '@terrane/sdk'
import { printValue, resolveHome, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError, errorCodeOf } from '../../errors.ts'
import { addressArgument, clientOf, parseAmountMicro, parseNonNegativeInteger } from '../../client.ts'
import { Keyring, scryptCostOf } from '../../keyring.ts'
import { readPassword } from '../../password.ts'

interface TxOptions extends GlobalOptions {
  from: string
  fee: string
  nonce?: string
  chainId?: string
  passwordFile?: string
  wait: boolean
  timeout: string
}

/** How often `--wait` asks whether the transaction committed. */
const waitPollMs = 200

/** What each reason the node gives for dropping a transaction means to its submitter. */
const txDropReasonText: Record<TxDropReasonDto, string> = {
  replaced: 'replaced by a higher-fee transaction with the same nonce',
  evicted: 'evicted by a higher-fee transaction while the mempool was full',
  stale: 'its nonce was used by another committed transaction',
  invalid_on_recheck: 'it no longer passed the checks against the latest state (e.g. the balance cannot pay its fee)',
  flushed: "the node's operator flushed the mempool",
}

/** Common options of every `tx` subcommand. */
function txOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--from <key>', 'name of the signing key in <home>/keystore')
    .option('--fee <amount>', 'fee (2.5trn, 2500utrn or micro-TRN)', '1000')
    .option('--nonce <n>', "sender's nonce (default: the account's next nonce from the node)")
    .option('--chain-id <id>', 'chain id to sign for (default: from the node)')
    .option('--password-file <file>', 'read the key password from the first line of this file')
    .option('--no-wait', 'return once the node accepted the transaction, without waiting for the commit')
    .option('--timeout <ms>', 'how long --wait waits for the commit', '30000')
}

async function sendTx(ctx: CliContext, opts: TxOptions, messages: Msg[]): Promise<void> {
  const client = await clientOf(ctx, opts)
  const keyring = new Keyring(resolveHome(ctx, opts.home), scryptCostOf(ctx.env))
  await keyring.read(opts.from) // CLI_NOT_FOUND before asking for a password
  const password = await readPassword(ctx, { passwordFile: opts.passwordFile, purpose: `key "${opts.from}"` })
  const signer = await keyring.signer(opts.from, password)
  const sender = accountIdOfPublicKey(signer.publicKey)
  const chainId = opts.chainId ?? (await client.status()).chainId
  const nonce =
    opts.nonce === undefined
      ? ((await client.account(addressOfPublicKey(signer.publicKey)))?.nonce ?? 0)
      : parseNonNegativeInteger(opts.nonce, '--nonce')
  const bytes = signTx(coreTxBodySchema, { chainId, sender, nonce, feeMicro: parseAmountMicro(opts.fee), expiryHeight: 0, messages }, [
    signer,
  ])
  const hash = await client.submitTx(bytes)
  if (hash !== toHex(sha256(bytes)))
    throw new CliError('CLI_TX_REJECTED', `the node answered with hash ${hash} for transaction ${toHex(sha256(bytes))}`)
  if (!opts.wait) {
    printValue(ctx, { hash, status: 'accepted' }, opts.json)
    return
  }
  const tx = await waitForTx(client, hash, parseNonNegativeInteger(opts.timeout, '--timeout'))
  if (tx.code !== 0)
    throw new CliError('CLI_TX_FAILED', `transaction ${hash} committed at height ${tx.height} but failed: ${tx.reason} (code ${tx.code})`)
  printValue(ctx, { hash, status: 'committed', height: tx.height, index: tx.index }, opts.json)
}

/**
 * Polls the node's transaction status until the commit. Stops at once when the node says the
 * transaction was dropped from its mempool (the reason in the message) instead of waiting out
 * the timeout. A node without `GET /v1/txs/:hash/status` (older than the route) is polled on
 * `GET /v1/txs/:hash` as before.
 */
async function waitForTx(
  client: TerraneClient,
  hash: string,
  timeoutMs: number,
): Promise<{ height: number; index: number; code: number; reason: string }> {
  const deadline = Date.now() + timeoutMs
  let hasStatusRoute = true
  let lastStatus = 'pending'
  for (;;) {
    let status: Awaited<ReturnType<TerraneClient['txStatus']>> | undefined
    if (hasStatusRoute) {
      try {
        status = await client.txStatus(hash)
      } catch (err) {
        if (errorCodeOf(err) !== 'API_ROUTE_NOT_FOUND') throw err
        hasStatusRoute = false
      }
    }
    if (status?.status === 'dropped') {
      // A reason newer than this CLI is shown as the node named it.
      const why =
        status.reason === undefined
          ? 'no reason given'
          : ((txDropReasonText as Partial<Record<string, string>>)[status.reason] ?? status.reason)
      // Not CLI_TX_REJECTED: the node admitted it; a script may resubmit (with a new nonce or a higher fee).
      throw new CliError('CLI_TX_DROPPED', `transaction ${hash} was dropped from the mempool: ${why}`)
    }
    if (status !== undefined) lastStatus = status.status
    if (status === undefined || status.status === 'committed') {
      // Committed (the result reason of a failure is on the tx), or a node without the status route.
      if (status?.code === 0 && status.height !== undefined && status.index !== undefined)
        return { height: status.height, index: status.index, code: 0, reason: '' }
      const tx = await client.tx(hash)
      if (tx !== null) return tx
    }
    if (Date.now() > deadline) {
      const note = lastStatus === 'unknown' ? ' (the node no longer knows it: restarted, or its record of drops moved on)' : ''
      throw new CliError('CLI_TIMEOUT', `transaction ${hash} was accepted but not committed within ${timeoutMs} ms${note}`)
    }
    await new Promise((resolve) => setTimeout(resolve, waitPollMs))
  }
}

/** `terrane tx send|delegate|undelegate|redelegate`: signed with a keystore key, submitted through the SDK. */
export function registerTx(program: Command, ctx: CliContext): void {
  const tx = program
    .command('tx')
    .description("sign a transaction with a keystore key and submit it to a node's API")
    .option('--node <url>', 'API base URL of the node (default: from <home>/config.json, else http://127.0.0.1:26657)')

  txOptions(
    tx
      .command('send')
      .description('transfer tokens (bank/send)')
      .argument('<to>', 'recipient: a trn1... address or a key name')
      .argument('<amount>', 'amount: 2.5trn, 2500000utrn or micro-TRN'),
  )
    .addHelpText('after', '\nExample:\n  $ terrane tx send trn1qy... 2.5trn --from alice')
    .action(async (to: string, amount: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<TxOptions>()
      const recipient = await addressArgument(ctx, opts, to)
      await sendTx(ctx, opts, [{ type: 'bank/send', to: recipient.id, amountMicro: parseAmountMicro(amount) }])
    })

  txOptions(
    tx
      .command('delegate')
      .description('bond tokens to a validator (staking/delegate)')
      .argument('<validator>', "validator operator address (see 'terrane query validators')")
      .argument('<amount>', 'amount to bond'),
  )
    .addHelpText('after', '\nExample:\n  $ terrane tx delegate trn1val... 100trn --from alice')
    .action(async (validator: string, amount: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<TxOptions>()
      const v = await addressArgument(ctx, opts, validator)
      await sendTx(ctx, opts, [{ type: 'staking/delegate', validator: v.id, amountMicro: parseAmountMicro(amount) }])
    })

  txOptions(
    tx
      .command('undelegate')
      .description('start unbonding tokens from a validator (staking/undelegate)')
      .argument('<validator>', 'validator operator address')
      .argument('<amount>', 'amount to unbond'),
  )
    .addHelpText('after', '\nExample:\n  $ terrane tx undelegate trn1val... 40trn --from alice')
    .action(async (validator: string, amount: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<TxOptions>()
      const v = await addressArgument(ctx, opts, validator)
      await sendTx(ctx, opts, [{ type: 'staking/undelegate', validator: v.id, amountMicro: parseAmountMicro(amount) }])
    })

  txOptions(
    tx
      .command('redelegate')
      .description('move bonded tokens from one validator to another (staking/redelegate)')
      .argument('<source>', 'validator the tokens leave')
      .argument('<destination>', 'validator the tokens go to')
      .argument('<amount>', 'amount to move'),
  )
    .addHelpText('after', '\nExample:\n  $ terrane tx redelegate trn1valA... trn1valB... 10trn --from alice')
    .action(async (source: string, destination: string, amount: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<TxOptions>()
      const s = await addressArgument(ctx, opts, source)
      const d = await addressArgument(ctx, opts, destination)
      await sendTx(ctx, opts, [{ type: 'staking/redelegate', source: s.id, destination: d.id, amountMicro: parseAmountMicro(amount) }])
    })
}
