// Device-side TPM driving (non-deterministic: child processes, files). Import from
// '@terrane/attestation/tpm'; the verifier entry point never loads these.
export {
  TpmTools,
  ekHandleDefault,
  akHandleDefault,
  signingKeyHandleDefault,
  tpmCommandTimeoutMs,
  type TpmToolsInit,
  type ProvisionedTpm,
  type TpmQuoteOutput,
  type TpmSigningKeyOutput,
  type TpmCertifyOutput,
} from './tools.ts'
export { startSwtpm, swtpmStartTimeoutMs, type Swtpm } from './swtpm.ts'
