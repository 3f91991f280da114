/* NON-DETERMINISTIC FILE, by design: this file drives a real
   TPM through tpm2-tools (child processes, temp files). It is the device side of TPM
   attestation, used by @terrane/device and the swtpm tests; verifiers never import it. */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AttestationError } from '../errors.ts'
import { parseEccPublic, parseEcdsaSignature, tpmAlgSha256 } from './structures.ts'

const run = promisify(execFile)

/** Persistent handles (TCG EK Credential Profile: 0x81010001 is the RSA EK). */
export const ekHandleDefault = 0x81010001
export const akHandleDefault = 0x81010002
/** Persistent handle of the report-signing key (owner hierarchy range, TCG handle registry). */
export const signingKeyHandleDefault = 0x81010003
/** Each tpm2-tools command must finish within this. */
export const tpmCommandTimeoutMs = 10_000

export interface TpmToolsInit {
  /** e.g. `swtpm:host=127.0.0.1,port=2321` or `device:/dev/tpmrm0` */
  readonly tcti: string
  /** @default 0x81010001 */
  readonly ekHandle?: number
  /** @default 0x81010002 */
  readonly akHandle?: number
  /** @default 0x81010003 */
  readonly signingKeyHandle?: number
}

export interface TpmSigningKeyOutput {
  /** TPM2B_PUBLIC of the report-signing key. */
  readonly keyPublic: Uint8Array
  /** SEC1 uncompressed P-256 point. */
  readonly publicKey: Uint8Array
}

export interface TpmCertifyOutput {
  /** TPMS_ATTEST of type certify. */
  readonly certifyInfo: Uint8Array
  /** TPMT_SIGNATURE by the AK. */
  readonly certifySignature: Uint8Array
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
  readonly signingKeyHandle: string

  constructor(init: TpmToolsInit) {
    this.tcti = init.tcti
    this.signingKeyHandle = '0x' + (init.signingKeyHandle ?? signingKeyHandleDefault).toString(16)
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

  /**
   * Creates the report-signing key: ECC P-256, ECDSA/SHA-256, unrestricted sign, fixedTPM,
   * fixedParent, sensitiveDataOrigin (generated inside, never leaves), under an owner-hierarchy
   * primary, made persistent at `signingKeyHandle`. A restricted AK cannot sign report bytes
   * (it signs only what the TPM itself produced); this key can, and `certifySigningKey` lets the
   * AK vouch that it lives in the same TPM.
   */
  async createSigningKey(): Promise<TpmSigningKeyOutput> {
    return this.inTempDir(async (dir) => {
      // Without a resource manager (swtpm, /dev/tpm0) each tool leaves its objects loaded: flush
      // transient objects between steps (saved contexts are reloaded from the files).
      await this.tool('tpm2_flushcontext', ['-t'], dir)
      await this.tool('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', 'primary.ctx'], dir)
      await this.tool('tpm2_flushcontext', ['-t'], dir)
      await this.tool(
        'tpm2_create',
        [
          '-C',
          'primary.ctx',
          '-G',
          'ecc256:ecdsa-sha256',
          '-a',
          'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign',
          '-u',
          'key.pub',
          '-r',
          'key.priv',
        ],
        dir,
      )
      await this.tool('tpm2_flushcontext', ['-t'], dir)
      await this.tool('tpm2_load', ['-C', 'primary.ctx', '-u', 'key.pub', '-r', 'key.priv', '-c', 'key.ctx'], dir)
      await this.tool('tpm2_evictcontrol', ['-C', 'o', '-c', 'key.ctx', this.signingKeyHandle], dir)
      await this.tool('tpm2_flushcontext', ['-t'], dir)
      return signingKeyOutput(new Uint8Array(await readFile(join(dir, 'key.pub'))))
    })
  }

  /** Reads the persistent report-signing key's public area (a device restarting). */
  async readSigningKey(): Promise<TpmSigningKeyOutput> {
    return this.inTempDir(async (dir) => {
      await this.tool('tpm2_readpublic', ['-c', this.signingKeyHandle, '-o', 'key.pub'], dir)
      return signingKeyOutput(new Uint8Array(await readFile(join(dir, 'key.pub'))))
    })
  }

  /** TPM2_Certify: the AK signs a statement naming the report-signing key. */
  async certifySigningKey(): Promise<TpmCertifyOutput> {
    return this.inTempDir(async (dir) => {
      await this.tool(
        'tpm2_certify',
        ['-c', this.signingKeyHandle, '-C', this.akHandle, '-g', 'sha256', '-o', 'certify.out', '-s', 'certify.sig', '-f', 'tss'],
        dir,
      )
      return {
        certifyInfo: new Uint8Array(await readFile(join(dir, 'certify.out'))),
        certifySignature: new Uint8Array(await readFile(join(dir, 'certify.sig'))),
      }
    })
  }

  /**
   * ECDSA P-256 / SHA-256 over `message` with the report-signing key: the digest is computed
   * here and signed by the TPM (TPM2_Sign), and the TPMT_SIGNATURE's r, s become 64-byte P1363.
   */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest()
    return this.inTempDir(async (dir) => {
      await writeFile(join(dir, 'digest.bin'), digest)
      await this.tool(
        'tpm2_sign',
        ['-c', this.signingKeyHandle, '-g', 'sha256', '-s', 'ecdsa', '-d', '-f', 'tss', '-o', 'sig.out', 'digest.bin'],
        dir,
      )
      const signature = parseEcdsaSignature(new Uint8Array(await readFile(join(dir, 'sig.out'))))
      if (signature.hashAlg !== tpmAlgSha256) throw new AttestationError('ATTESTATION_TPM_COMMAND', 'tpm2_sign did not use SHA-256')
      return signature.p1363
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

function signingKeyOutput(keyPublic: Uint8Array): TpmSigningKeyOutput {
  const key = parseEccPublic(keyPublic)
  if (key.x.length !== 32 || key.y.length !== 32) throw new AttestationError('ATTESTATION_TPM_COMMAND', 'the TPM key is not P-256')
  return { keyPublic, publicKey: Uint8Array.from([0x04, ...key.x, ...key.y]) }
}
