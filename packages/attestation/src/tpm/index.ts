// Device-side TPM driving (non-deterministic: child processes, files). Import from
// '@terrane/attestation/tpm'; the verifier entry point never loads these.
export {
  TpmTools,
  ekHandleDefault,
  akHandleDefault,
  tpmCommandTimeoutMs,
  type TpmToolsInit,
  type ProvisionedTpm,
  type TpmQuoteOutput,
} from './tools.ts'
export { startSwtpm, swtpmStartTimeoutMs, type Swtpm } from './swtpm.ts'
