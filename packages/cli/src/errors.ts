/**
 * Exit codes of the `terrane` command (documented in the README; a test keeps
 * the two in sync).
 */
export const exitCodes = {
  /** The command did what it was asked. */
  ok: 0,
  /** An operating error: bad file, wrong password, rejected transaction, node error. */
  error: 1,
  /** The command line is wrong: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** What was asked for does not exist (block, transaction, account, key). */
  notFound: 3,
  /** The node's API could not be reached. */
  unreachable: 4,
  /** Stopped by SIGINT (Ctrl-C) before finishing. */
  interrupted: 130,
} as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

export type CliErrorCode =
  | 'CLI_USAGE'
  | 'CLI_NOT_FOUND'
  | 'CLI_KEY_EXISTS'
  | 'CLI_NO_PASSWORD'
  | 'CLI_PASSWORD_MISMATCH'
  | 'CLI_BAD_FILE'
  | 'CLI_HOME_EXISTS'
  | 'CLI_TX_REJECTED'
  | 'CLI_TX_DROPPED'
  | 'CLI_TX_FAILED'
  | 'CLI_TIMEOUT'
  | 'CLI_DEVNET'

/** The exit code of each CLI error code. */
export const cliErrorExitCodes: Record<CliErrorCode, ExitCode> = {
  CLI_USAGE: exitCodes.usage,
  CLI_NOT_FOUND: exitCodes.notFound,
  CLI_KEY_EXISTS: exitCodes.error,
  CLI_NO_PASSWORD: exitCodes.error,
  CLI_PASSWORD_MISMATCH: exitCodes.error,
  CLI_BAD_FILE: exitCodes.error,
  CLI_HOME_EXISTS: exitCodes.error,
  CLI_TX_REJECTED: exitCodes.error,
  /** Admitted, then dropped from the node's mempool (replaced, evicted, stale, ...): `tx --wait` stops at once. */
  CLI_TX_DROPPED: exitCodes.error,
  CLI_TX_FAILED: exitCodes.error,
  CLI_TIMEOUT: exitCodes.error,
  CLI_DEVNET: exitCodes.error,
}

/** An error the CLI reports as one line, with a stable code and exit code. */
export class CliError extends Error {
  static override name = 'CliError'
  override name = 'CliError'
  readonly code: CliErrorCode
  readonly exitCode: ExitCode
  constructor(code: CliErrorCode, message: string, init: { cause?: unknown } = {}) {
    super(message, init.cause === undefined ? {} : { cause: init.cause })
    this.code = code
    this.exitCode = cliErrorExitCodes[code]
  }
}

/** The code of any error with a string `code` (CliError, SdkError, NodeConfigError, CryptoError, ...). */
export function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Exit code for any error: CLI errors carry theirs; SDK network errors mean the node is unreachable. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode
  const code = errorCodeOf(err)
  if (code === 'SDK_NETWORK') return exitCodes.unreachable
  if (code === 'API_NOT_FOUND') return exitCodes.notFound
  if (code?.startsWith('commander.') === true) return exitCodes.usage
  return exitCodes.error
}

/** One line: `error [CODE]: message`, the message's own newlines folded. */
export function formatError(err: unknown): string {
  const code = errorCodeOf(err)
  const message = err instanceof Error ? err.message : String(err)
  const oneLine = message.replace(/\s*\n\s*/g, ' ').trim()
  return code === undefined ? `error: ${oneLine}` : `error [${code}]: ${oneLine}`
}
