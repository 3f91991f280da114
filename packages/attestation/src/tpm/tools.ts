/* NON-DETERMINISTIC FILE, by design: this file drives a real
   TPM through tpm2-tools (child processes, temp files). It is the device side of TPM
   attestation, used by @terrane/device and the swtpm tests; verifiers never import it. */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AttestationError } from '../errors.ts'

const run = promisify(execFile)

/** Persistent handles (TCG EK Credential Profile: 0x81010001 is the RSA EK). */
export const ekHandleDefault = 0x81010001
export const akHandleDefault = 0x81010002
/** Each tpm2-tools command must finish within this. */
export const tpmCommandTimeoutMs = 10_000

export interface TpmToolsInit {
  /** e.g. `swtpm:host=127.0.0.1,port=2321` or `device:/dev/tpmrm0` */
  readonly tcti: string
  /** @default 0x81010001 */
  readonly ekHandle?: number
  /** @default 0x81010002 */
  readonly akHandle?: number
}

export interface ProvisionedTpm {
  /** RSA EK public key, SPKI PEM (to be certified by the TPM vendor CA). */
  readonly ekPublicPem: string
  /** TPM2B_PUBLIC of the ECC P-256 restricted signing AK. */
  readonly akPublic: Uint8Array
  readonly akName: Uint8Array
}

export interface TpmQuoteOutput {
  /** TPMS_ATTEST */
  readonly quote: Uint8Array
  /** TPMT_SIGNATURE */
  readonly quoteSignature: Uint8Array
}

/** Drives a TPM 2.0 through tpm2-tools 5.x. One instance per TPM; calls are serialised by the caller. */
export class TpmTools {
  readonly tcti: string
  readonly ekHandle: string
  readonly akHandle: string

  constructor(init: TpmToolsInit) {
    this.tcti = init.tcti
    this.ekHandle = '0x' + (init.ekHandle ?? ekHandleDefault).toString(16)
    this.akHandle = '0x' + (init.akHandle ?? akHandleDefault).toString(16)
  }

  private async tool(name: string, args: string[], cwd: string): Promise<string> {
    try {
      const { stdout } = await run(name, args, {
        cwd,
        timeout: tpmCommandTimeoutMs,
        env: { ...process.env, TPM2TOOLS_TCTI: this.tcti },
      })
      return stdout
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? ''
      throw new AttestationError('ATTESTATION_TPM_COMMAND', `${name} failed: ${stderr.trim() || (err as Error).message}`, { cause: err })
    }
  }

  private async inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'terrane-tpm-'))
    try {
      return await fn(dir)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  /** Creates the RSA EK and an ECC P-256 restricted signing AK under it, both persistent. */
  async provision(): Promise<ProvisionedTpm> {
    return this.inTempDir(async (dir) => {
      await this.tool('tpm2_createek', ['-c', this.ekHandle, '-G', 'rsa', '-u', 'ek.pem', '-f', 'pem'], dir)
      await this.tool(
        'tpm2_createak',
        ['-C', this.ekHandle, '-c', 'ak.ctx', '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', 'ak.pub', '-n', 'ak.name'],
        dir,
      )
      await this.tool('tpm2_evictcontrol', ['-c', 'ak.ctx', this.akHandle], dir)
      await this.tool('tpm2_flushcontext', ['-t'], dir)
      return {
        ekPublicPem: await readFile(join(dir, 'ek.pem'), 'utf8'),
        akPublic: new Uint8Array(await readFile(join(dir, 'ak.pub'))),
        akName: new Uint8Array(await readFile(join(dir, 'ak.name'))),
      }
    })
  }

  /** TPM2_PCR_Extend of the SHA-256 bank. */
  async extendPcr(index: number, digest: Uint8Array): Promise<void> {
    if (digest.length !== 32) throw new AttestationError('ATTESTATION_BAD_INPUT', 'PCR digest must be 32 bytes')
    await this.inTempDir((dir) => this.tool('tpm2_pcrextend', [`${index}:sha256=${Buffer.from(digest).toString('hex')}`], dir))
  }

  /** TPM2_Quote with the AK over `nonce` and the SHA-256 PCRs listed. */
  async quote(nonce: Uint8Array, pcrIndices: readonly number[]): Promise<TpmQuoteOutput> {
    return this.inTempDir(async (dir) => {
      await this.tool(
        'tpm2_quote',
        [
          '-c',
          this.akHandle,
          '-l',
          `sha256:${pcrIndices.join(',')}`,
          '-q',
          Buffer.from(nonce).toString('hex'),
          '-m',
          'q.msg',
          '-s',
          'q.sig',
          '-g',
          'sha256',
        ],
        dir,
      )
      return {
        quote: new Uint8Array(await readFile(join(dir, 'q.msg'))),
        quoteSignature: new Uint8Array(await readFile(join(dir, 'q.sig'))),
      }
    })
  }

  /** TPM2_ActivateCredential: recovers the verifier's secret, under an EK policy session. */
  async activateCredential(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array> {
    return this.inTempDir(async (dir) => {
      // tpm2-tools credential file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET
      const header = Buffer.from([0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1])
      await writeFile(join(dir, 'cred.in'), Buffer.concat([header, credentialBlob, encryptedSecret]))
      await this.tool('tpm2_startauthsession', ['--policy-session', '-S', 'session.ctx'], dir)
      try {
        await this.tool('tpm2_policysecret', ['-S', 'session.ctx', '-c', 'e'], dir)
        await this.tool(
          'tpm2_activatecredential',
          ['-c', this.akHandle, '-C', this.ekHandle, '-i', 'cred.in', '-o', 'secret.out', '-P', 'session:session.ctx'],
          dir,
        )
      } finally {
        await this.tool('tpm2_flushcontext', ['session.ctx'], dir).catch(() => undefined)
      }
      return new Uint8Array(await readFile(join(dir, 'secret.out')))
    })
  }
}
