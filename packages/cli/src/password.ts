import { readFile } from 'node:fs/promises'
import { CliError } from './errors.ts'
import type { CliContext } from './context.ts'

export interface PasswordInit {
  /** --password-file: the first line of the file is the password. */
  passwordFile?: string | undefined
  /** Ask twice when prompting (new keys). */
  isConfirming?: boolean
  /** What the prompt names. */
  purpose: string
}

/** Keystore passwords shorter than this are refused for new keys. */
export const passwordCharsMin = 8

/**
 * The keystore password, from (in order) --password-file, TERRANE_PASSWORD, or a
 * prompt on the terminal. Never from a flag value: it would land in shell history.
 */
export async function readPassword(ctx: CliContext, init: PasswordInit): Promise<string> {
  if (init.passwordFile !== undefined) {
    let text: string
    try {
      text = await readFile(init.passwordFile, 'utf8')
    } catch (err) {
      throw new CliError(
        'CLI_BAD_FILE',
        `cannot read password file ${init.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      )
    }
    const line = text.split(/\r?\n/)[0] ?? ''
    return checkNew(line, init)
  }
  const fromEnv = ctx.env.TERRANE_PASSWORD
  if (fromEnv !== undefined && fromEnv !== '') return checkNew(fromEnv, init)
  if (ctx.io.promptPassword === undefined)
    throw new CliError(
      'CLI_NO_PASSWORD',
      `a password is needed for ${init.purpose}: use --password-file or TERRANE_PASSWORD (no terminal to ask)`,
    )
  const first = await ctx.io.promptPassword(`Password for ${init.purpose}: `)
  if (init.isConfirming === true) {
    const second = await ctx.io.promptPassword('Repeat the password: ')
    if (first !== second) throw new CliError('CLI_PASSWORD_MISMATCH', 'the two passwords differ')
  }
  return checkNew(first, init)
}

function checkNew(password: string, init: PasswordInit): string {
  if (init.isConfirming === true && password.length < passwordCharsMin)
    throw new CliError('CLI_USAGE', `the password must have at least ${passwordCharsMin} characters`)
  if (password.length === 0) throw new CliError('CLI_NO_PASSWORD', 'the password is empty')
  return password
}
