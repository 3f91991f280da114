export { createProgram, runCli, cliVersion } from './program.ts'
export { CliError, exitCodes, cliErrorExitCodes, exitCodeOf, formatError, type CliErrorCode, type ExitCode } from './errors.ts'
export { binPath, nodeImportArgs, repoRoot, type CliContext, type CliIo, type GlobalOptions, type ShutdownSignal } from './context.ts'
export { Keyring, type KeyEntry } from './keyring.ts'
export { parseAmountMicro, nodeUrlOf, defaultNodeUrl } from './client.ts'
export { NodeProcess, type NodeProcessInit, type NodeProcessState } from './devnet/node-process.ts'
export { LocalDevnet, readDevnetInfo, type LocalDevnetInit, type LocalDevnetInfo, type LocalDevnetNodeInfo } from './devnet/local-devnet.ts'
export {
  readStoredChain,
  readApiChain,
  checkAgreement,
  heightsSignedBy,
  type StoredChain,
  type StoredHeight,
  type AgreementReport,
} from './devnet/agreement.ts'
