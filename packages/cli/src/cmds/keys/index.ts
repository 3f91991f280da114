import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { fromHex, toHex } from '@terrane/codec'
import { decryptKeystore, keyPairFromSeed } from '@terrane/crypto'
import { printValue, resolveHome, type CliContext, type GlobalOptions } from '../../context.ts'
import { CliError } from '../../errors.ts'
import { entryOf, Keyring, parseKeystoreText, scryptCostOf } from '../../keyring.ts'
import { readPassword } from '../../password.ts'

interface PasswordOptions {
  passwordFile?: string
}

function keyringOf(ctx: CliContext, opts: GlobalOptions): Keyring {
  return new Keyring(resolveHome(ctx, opts.home), scryptCostOf(ctx.env))
}

/** `terrane keys create|list|import|export`: encrypted account keys in <home>/keystore. */
export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('manage encrypted account keys in <home>/keystore (password: prompt, --password-file or TERRANE_PASSWORD)')

  keys
    .command('create')
    .description('create a new random key and store it encrypted')
    .argument('<name>', 'name of the key (letters, digits, . _ -)')
    .option('--password-file <file>', 'read the password from the first line of this file')
    .addHelpText('after', '\nExample:\n  $ terrane keys create alice --password-file ./pw.txt')
    .action(async (name: string, _o: PasswordOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & PasswordOptions>()
      const keyring = keyringOf(ctx, opts)
      if (await keyring.has(name)) throw new CliError('CLI_KEY_EXISTS', `a key named "${name}" already exists`)
      const password = await readPassword(ctx, { passwordFile: opts.passwordFile, isConfirming: true, purpose: `new key "${name}"` })
      const entry = await keyring.add(name, new Uint8Array(randomBytes(32)), password)
      printValue(ctx, entry, opts.json)
    })

  keys
    .command('list')
    .description('list the stored keys with their addresses')
    .addHelpText('after', '\nExample:\n  $ terrane keys list --json')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>()
      const entries = await keyringOf(ctx, opts).list()
      if (opts.json === true) printValue(ctx, entries, true)
      else if (entries.length === 0) ctx.io.stdout('no keys (create one with "terrane keys create <name>")\n')
      else for (const e of entries) ctx.io.stdout(`${e.name}\t${e.address}\n`)
    })

  keys
    .command('import')
    .description('import a keystore file (checking its password), or a raw hex seed with --seed')
    .argument('<name>', 'name to store the key under')
    .argument('<file>', 'a keystore JSON file, or with --seed a file holding a 32-byte hex seed')
    .option('--seed', 'the file holds a raw hex seed: encrypt it under a new password')
    .option('--password-file <file>', 'read the password from the first line of this file')
    .addHelpText('after', '\nExamples:\n  $ terrane keys import bob ./bob.keystore.json\n  $ terrane keys import ops ./seed.hex --seed')
    .action(async (name: string, file: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & PasswordOptions & { seed?: boolean }>()
      const keyring = keyringOf(ctx, opts)
      if (await keyring.has(name)) throw new CliError('CLI_KEY_EXISTS', `a key named "${name}" already exists`)
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        throw new CliError('CLI_BAD_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
      }
      if (opts.seed === true) {
        const hex = text.trim().replace(/^0x/, '')
        if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new CliError('CLI_BAD_FILE', `${file} does not hold a 32-byte hex seed`)
        const password = await readPassword(ctx, { passwordFile: opts.passwordFile, isConfirming: true, purpose: `imported key "${name}"` })
        printValue(ctx, await keyring.add(name, fromHex(hex.toLowerCase()), password), opts.json)
        return
      }
      const keystore = parseKeystoreText(text, file)
      const password = await readPassword(ctx, { passwordFile: opts.passwordFile, purpose: `keystore ${file}` })
      decryptKeystore(keystore, password) // CRYPTO_WRONG_PASSWORD if it does not open
      printValue(ctx, await keyring.store(name, keystore), opts.json)
    })

  keys
    .command('export')
    .description("print a key's encrypted keystore (or write it with --out); --unsafe-seed prints the raw seed")
    .argument('<name>', 'the key to export')
    .option('--out <file>', 'write the keystore to this file (mode 0600) instead of stdout')
    .option('--unsafe-seed', 'decrypt and print the raw hex seed (anyone who sees it owns the account)')
    .option('--password-file <file>', 'read the password from the first line of this file')
    .addHelpText(
      'after',
      '\nExamples:\n  $ terrane keys export alice --out alice.keystore.json\n  $ terrane keys export alice --unsafe-seed',
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & PasswordOptions & { out?: string; unsafeSeed?: boolean }>()
      const keyring = keyringOf(ctx, opts)
      const keystore = await keyring.read(name)
      if (opts.unsafeSeed === true) {
        const password = await readPassword(ctx, { passwordFile: opts.passwordFile, purpose: `key "${name}"` })
        const seed = decryptKeystore(keystore, password)
        if (toHex(keyPairFromSeed(seed).publicKey) !== keystore.publicKey)
          throw new CliError('CLI_BAD_FILE', 'keystore seed does not match its key')
        ctx.io.stdout(toHex(seed) + '\n')
        return
      }
      const text = JSON.stringify(keystore, null, 2) + '\n'
      if (opts.out !== undefined) {
        await writeFile(opts.out, text, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
          throw new CliError('CLI_BAD_FILE', `cannot write ${opts.out}: ${err.code ?? 'error'}`)
        })
        printValue(ctx, { ...entryOf(name, keystore), file: opts.out }, opts.json)
      } else ctx.io.stdout(text)
    })
}
