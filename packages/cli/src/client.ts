import { createClient, type TerraneClient } from '@terrane/sdk'
import { loadNodeConfig } from '@terrane/node'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { decodeAddress } from '@terrane/crypto'
import { resolveHome, type CliContext, type GlobalOptions } from './context.ts'
import { CliError } from './errors.ts'
import { entryOf, Keyring } from './keyring.ts'

/** @default the API of a node started with default options */
export const defaultNodeUrl = 'http://127.0.0.1:26657'

/** The node to talk to: --node, then TERRANE_NODE, then the API port in <home>/config.json, then the default. */
export async function nodeUrlOf(ctx: CliContext, opts: GlobalOptions): Promise<string> {
  const explicit = opts.node ?? ctx.env.TERRANE_NODE
  if (explicit !== undefined && explicit !== '') {
    if (!/^https?:\/\/[^\s]+$/.test(explicit)) throw new CliError('CLI_USAGE', `--node must be an http(s) URL, got "${explicit}"`)
    return explicit
  }
  const home = resolveHome(ctx, opts.home)
  if (existsSync(join(home, 'config.json'))) {
    const config = await loadNodeConfig(home)
    const host = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host
    if (config.api.port !== 0) return `http://${host}:${config.api.port}`
  }
  return defaultNodeUrl
}

export async function clientOf(ctx: CliContext, opts: GlobalOptions): Promise<TerraneClient> {
  return createClient({ url: await nodeUrlOf(ctx, opts) })
}

/** An address argument: a bech32 address, or the name of a key in the keystore. */
export async function addressArgument(ctx: CliContext, opts: GlobalOptions, value: string): Promise<{ address: string; id: Uint8Array }> {
  try {
    return { address: value, id: decodeAddress(value) }
  } catch {
    // Not an address: try a key name.
  }
  const keyring = new Keyring(resolveHome(ctx, opts.home))
  if (!(await keyring.has(value).catch(() => false)))
    throw new CliError('CLI_USAGE', `"${value}" is neither an address nor the name of a key in ${keyring.dir}`)
  const entry = entryOf(value, await keyring.read(value))
  return { address: entry.address, id: decodeAddress(entry.address) }
}

/** 1 TRN = 10^6 micro-TRN. */
const microPerTrn = 1_000_000n

/**
 * An amount: `2.5trn` (up to 6 decimals), `2500000utrn` or a bare integer of micro-TRN.
 */
export function parseAmountMicro(text: string): bigint {
  const trn = /^([0-9]{1,15})(?:\.([0-9]{1,6}))?trn$/i.exec(text)
  if (trn !== null) return BigInt(trn[1] as string) * microPerTrn + BigInt((trn[2] ?? '').padEnd(6, '0'))
  const micro = /^([0-9]{1,21})(?:utrn)?$/i.exec(text)
  if (micro !== null) return BigInt(micro[1] as string)
  throw new CliError('CLI_USAGE', `bad amount "${text}": use e.g. 2.5trn, 2500000utrn or 2500000 (micro-TRN)`)
}

export function parseNonNegativeInteger(text: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new CliError('CLI_USAGE', `${what} must be a non-negative integer, got "${text}"`)
  return Number(text)
}
