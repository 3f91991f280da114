import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { fromHex, toHex } from '@terrane/codec'
import { addressOfPublicKey, seedSigner } from '@terrane/crypto'
import { loadNodeConfig, readNodeGenesis } from '@terrane/node'
import { createProgram, exitCodes, cliErrorExitCodes, parseAmountMicro, CliError, type CliContext } from '../src/index.ts'
import { testCli } from './helpers.ts'

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  const out: string[][] = []
  for (const sub of cmd.commands) {
    if (sub.name() === 'help') continue
    const path = [...prefix, sub.name()]
    out.push(path)
    out.push(...commandPaths(sub, path))
  }
  return out
}

const quietContext: CliContext = {
  io: { stdout: () => undefined, stderr: () => undefined, isTty: false },
  env: {},
  cwd: '/',
  onShutdown: () => () => undefined,
}

test('every command has help text, and every leaf command an example', async () => {
  const cli = await testCli()
  try {
    const paths = commandPaths(createProgram(quietContext))
    assert.ok(paths.length >= 18, `expected the full command tree, got ${paths.length}`)
    for (const path of paths) {
      const run = await cli.run([...path, '--help'])
      assert.equal(run.code, 0, path.join(' '))
      assert.match(run.stdout, new RegExp(`^Usage: terrane ${path.join(' ')}`), path.join(' '))
      const description = run.stdout.split('\n')[2] ?? ''
      assert.ok(description.trim().length > 10, `${path.join(' ')} has a description`)
      const leaf = createProgramLeaf(path)
      if (leaf) assert.match(run.stdout, /Examples?:\n\s+\$ /, `${path.join(' ')} shows an example`)
    }
  } finally {
    await cli.cleanup()
  }
})

function createProgramLeaf(path: string[]): boolean {
  let cmd: Command | undefined = createProgram(quietContext)
  for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name)
  return cmd !== undefined && cmd.commands.length === 0
}

test('usage errors are one line with exit code 2; unreachable nodes exit 4; no stack without --verbose', async () => {
  const cli = await testCli()
  try {
    const unknown = await cli.run(['frobnicate'])
    assert.equal(unknown.code, exitCodes.usage)
    assert.match(unknown.stderr, /^error \[CLI_USAGE\]: unknown command 'frobnicate'/)
    assert.equal(unknown.stderr.trim().split('\n').length, 1)

    const missing = await cli.run(['tx', 'send', 'trn1xyz', '--from', 'alice'])
    assert.equal(missing.code, exitCodes.usage)
    assert.match(missing.stderr, /missing required argument 'amount'/)

    const badAmount = await cli.run(['tx', 'send', 'nobody', '1.2345678trn', '--from', 'a', '--node', 'http://127.0.0.1:9'])
    assert.equal(badAmount.code, exitCodes.usage)

    // Port 9 (discard) on loopback: nothing listens there.
    const down = await cli.run(['query', 'status', '--node', 'http://127.0.0.1:9'])
    assert.equal(down.code, exitCodes.unreachable)
    assert.match(down.stderr, /^error \[SDK_NETWORK\]: /)
    assert.equal(down.stderr.trim().split('\n').length, 1)
    assert.doesNotMatch(down.stderr, /\n\s+at /)

    const verbose = await cli.run(['query', 'status', '--node', 'http://127.0.0.1:9', '--verbose'])
    assert.equal(verbose.code, exitCodes.unreachable)
    assert.match(verbose.stderr, /\n\s+at /, '--verbose adds the stack')
  } finally {
    await cli.cleanup()
  }
})

test('amounts parse as TRN with up to 6 decimals or as micro-TRN', () => {
  assert.equal(parseAmountMicro('2.5trn'), 2_500_000n)
  assert.equal(parseAmountMicro('1TRN'), 1_000_000n)
  assert.equal(parseAmountMicro('0.000001trn'), 1n)
  assert.equal(parseAmountMicro('2500utrn'), 2500n)
  assert.equal(parseAmountMicro('42'), 42n)
  for (const bad of ['', '1.2345678trn', '-1', '1e6', '1.5', 'trn', '0x10'])
    assert.throws(
      () => parseAmountMicro(bad),
      (err: unknown) => err instanceof CliError && err.code === 'CLI_USAGE',
      bad,
    )
})

test('keys: create, list, export, import (keystore and seed), wrong passwords and duplicates', async () => {
  const cli = await testCli({ TERRANE_PASSWORD: 'correct horse battery' })
  try {
    const created = await cli.run(['keys', 'create', 'alice', '--json'])
    assert.equal(created.code, 0, created.stderr)
    const alice = JSON.parse(created.stdout) as { name: string; address: string; publicKey: string }
    assert.equal(alice.name, 'alice')
    assert.equal(alice.address, addressOfPublicKey(fromHex(alice.publicKey)))
    const file = join(cli.dir, 'home', 'keystore', 'alice.json')
    const keystoreText = await readFile(file, 'utf8')
    assert.doesNotMatch(keystoreText, /correct horse/)

    const duplicate = await cli.run(['keys', 'create', 'alice'])
    assert.equal(duplicate.code, exitCodes.error)
    assert.match(duplicate.stderr, /^error \[CLI_KEY_EXISTS\]/)

    const list = await cli.run(['keys', 'list'])
    assert.equal(list.stdout, `alice\t${alice.address}\n`)

    const exported = await cli.run(['keys', 'export', 'alice'])
    assert.deepEqual(JSON.parse(exported.stdout), JSON.parse(keystoreText))
    const out = join(cli.dir, 'alice-copy.json')
    assert.equal((await cli.run(['keys', 'export', 'alice', '--out', out])).code, 0)

    const seedRun = await cli.run(['keys', 'export', 'alice', '--unsafe-seed'])
    const seed = seedRun.stdout.trim()
    assert.equal(toHex(seedSigner(fromHex(seed)).publicKey), alice.publicKey)

    const wrong = await cli.run(['keys', 'import', 'alice2', out], { TERRANE_PASSWORD: 'not the password' })
    assert.equal(wrong.code, exitCodes.error)
    assert.match(wrong.stderr, /^error \[CRYPTO_WRONG_PASSWORD\]/)
    assert.equal(existsSync(join(cli.dir, 'home', 'keystore', 'alice2.json')), false)

    const imported = await cli.run(['keys', 'import', 'alice2', out, '--json'])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal((JSON.parse(imported.stdout) as { address: string }).address, alice.address)

    const seedFile = join(cli.dir, 'seed.hex')
    await writeFile(seedFile, seed + '\n')
    const pwFile = join(cli.dir, 'pw.txt')
    await writeFile(pwFile, 'another good password\nignored line\n')
    const fromSeed = await cli.run(['keys', 'import', 'alice3', seedFile, '--seed', '--password-file', pwFile, '--json'])
    assert.equal((JSON.parse(fromSeed.stdout) as { address: string }).address, alice.address)
    // The new keystore opens with the password file's first line only.
    const reopened = await cli.run(['keys', 'export', 'alice3', '--unsafe-seed', '--password-file', pwFile])
    assert.equal(reopened.stdout.trim(), seed)

    const short = await cli.run(['keys', 'create', 'bob'], { TERRANE_PASSWORD: 'short' })
    assert.equal(short.code, exitCodes.usage)
    const missing = await cli.run(['keys', 'export', 'nobody'])
    assert.equal(missing.code, exitCodes.notFound)
    const badName = await cli.run(['keys', 'create', '../escape'])
    assert.equal(badName.code, exitCodes.usage)
  } finally {
    await cli.cleanup()
  }
})

test('keys without a password source and without a terminal fail with CLI_NO_PASSWORD', async () => {
  const cli = await testCli()
  try {
    const run = await cli.run(['keys', 'create', 'carol'])
    assert.equal(run.code, exitCodes.error)
    assert.match(run.stderr, /^error \[CLI_NO_PASSWORD\]: .*--password-file or TERRANE_PASSWORD/)
  } finally {
    await cli.cleanup()
  }
})

test('init writes a single-validator chain the node accepts, and refuses to overwrite it', async () => {
  const cli = await testCli({ TERRANE_PASSWORD: 'operator password' })
  try {
    const home = join(cli.dir, 'home')
    const run = await cli.run(['init', '--chain-id', 'unit-chain', '--moniker', 'solo', '--api-port', '0', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const summary = JSON.parse(run.stdout) as { chainId: string; operator: string; peerId: string; p2pAddress: string }
    assert.equal(summary.chainId, 'unit-chain')
    const genesis = await readNodeGenesis(join(home, 'genesis.json'))
    assert.equal(genesis.chain.chainId, 'unit-chain')
    assert.equal(genesis.chain.validators.length, 1)
    const keys = JSON.parse((await cli.run(['keys', 'list', '--json'])).stdout) as Array<{ name: string; address: string }>
    assert.deepEqual(
      keys.map((k) => k.name),
      ['operator'],
    )
    assert.equal(summary.operator, keys[0]?.address)
    const config = await loadNodeConfig(home)
    assert.equal(config.moniker, 'solo')
    assert.equal(config.api.port, 0)
    assert.ok(existsSync(join(home, 'keys', 'validator_key.json')))
    assert.match(summary.p2pAddress, /^\/ip4\/127\.0\.0\.1\/tcp\/26656\/p2p\/12D3Koo/)

    const again = await cli.run(['init'])
    assert.equal(again.code, exitCodes.error)
    assert.match(again.stderr, /^error \[CLI_HOME_EXISTS\]/)

    // Joining: the same genesis, a bootstrap peer, no validator key unless asked.
    const joinHome = join(cli.dir, 'joiner')
    const bootstrap = summary.p2pAddress
    const joined = await cli.run(['init', '--home', joinHome, '--genesis', join(home, 'genesis.json'), '--bootstrap', bootstrap, '--json'])
    assert.equal(joined.code, 0, joined.stderr)
    assert.equal((await loadNodeConfig(joinHome)).p2p.bootstrap[0], bootstrap)
    assert.equal(existsSync(join(joinHome, 'keys', 'validator_key.json')), false)
    assert.deepEqual((await readNodeGenesis(join(joinHome, 'genesis.json'))).json, genesis.json)
  } finally {
    await cli.cleanup()
  }
})

test('node config: flags beat the environment, which beats config.json', async () => {
  const cli = await testCli({ TERRANE_PASSWORD: 'operator password' })
  try {
    assert.equal((await cli.run(['init', '--api-port', '1111'])).code, 0)
    const fromFile = JSON.parse((await cli.run(['node', 'config'])).stdout) as { api: { port: number }; moniker: string }
    assert.equal(fromFile.api.port, 1111)
    const fromEnv = JSON.parse(
      (await cli.run(['node', 'config'], { TERRANE_API_PORT: '2222', TERRANE_MONIKER: 'envy' })).stdout,
    ) as typeof fromFile
    assert.equal(fromEnv.api.port, 2222)
    assert.equal(fromEnv.moniker, 'envy')
    const fromFlag = JSON.parse(
      (await cli.run(['node', 'config', '--api-port', '3333'], { TERRANE_API_PORT: '2222' })).stdout,
    ) as typeof fromFile
    assert.equal(fromFlag.api.port, 3333)
    const bad = await cli.run(['node', 'config', '--api-port', '70000'])
    assert.equal(bad.code, exitCodes.usage)
    const badEnv = await cli.run(['node', 'config'], { TERRANE_API_PORT: 'x' })
    assert.equal(badEnv.code, exitCodes.error)
    assert.match(badEnv.stderr, /^error \[NODE_BAD_CONFIG\]: config api.port/)
  } finally {
    await cli.cleanup()
  }
})

test('the README documents every exit code and every CLI error code', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Error codes'))
  const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]))
  assert.deepEqual(
    documented.sort((a, b) => a - b),
    Object.values(exitCodes).sort((a, b) => a - b),
  )
  const errors = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## Library API'))
  for (const code of Object.keys(cliErrorExitCodes)) assert.ok(errors.includes(`\`${code}\``), `${code} is documented`)
})

test('terrane devnet refuses a log level that hides the info lines it follows (it would show height 0 forever)', async () => {
  const cli = await testCli()
  const run = await cli.run(['devnet', '--log-level', 'warn', '--dir', 'unused-devnet'])
  assert.equal(run.code, exitCodes.usage)
  assert.match(run.stderr, /^error \[CLI_USAGE\]: --log-level must be one of trace, debug, info/)
})
