import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex } from '@terrane/codec'
import {
  addressOfPublicKey,
  decryptKeystore,
  encryptKeystore,
  parseKeystore,
  seedSigner,
  type Keystore,
  type Signer,
} from '@terrane/crypto'
import { CliError } from './errors.ts'

/** Key names: file names in `<home>/keystore`, so a safe subset. */
const keyNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

export interface KeyEntry {
  name: string
  address: string
  publicKey: string
}

/**
 * Encrypted account keys in `<home>/keystore/<name>.json` (scrypt + AES-256-GCM,
 * from @terrane/crypto). The files are plain keystores: `keys export` hands one
 * out as it is and `keys import` takes one back.
 */
export class Keyring {
  readonly dir: string
  constructor(
    home: string,
    /** scrypt cost for new keystores; lowered only by tests (TERRANE_KEYSTORE_SCRYPT_N). */
    private readonly scryptN?: number,
  ) {
    this.dir = join(home, 'keystore')
  }

  private path(name: string): string {
    if (!keyNamePattern.test(name))
      throw new CliError('CLI_USAGE', `bad key name "${name}": use letters, digits, '.', '_' or '-' (64 at most)`)
    return join(this.dir, `${name}.json`)
  }

  async list(): Promise<KeyEntry[]> {
    let files: string[]
    try {
      files = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: KeyEntry[] = []
    for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
      const name = file.slice(0, -'.json'.length)
      const keystore = await this.read(name)
      out.push(entryOf(name, keystore))
    }
    return out
  }

  async read(name: string): Promise<Keystore> {
    const path = this.path(name)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError('CLI_NOT_FOUND', `no key named "${name}" in ${this.dir}`)
      throw err
    }
    return parseKeystoreText(text, path)
  }

  async has(name: string): Promise<boolean> {
    try {
      await this.read(name)
      return true
    } catch (err) {
      if (err instanceof CliError && err.code === 'CLI_NOT_FOUND') return false
      throw err
    }
  }

  /** Encrypts `seed` under `password` and stores it as `name`; refuses to overwrite. */
  async add(name: string, seed: Uint8Array, password: string): Promise<KeyEntry> {
    const keystore = encryptKeystore(
      seed,
      password,
      (n) => new Uint8Array(randomBytes(n)),
      this.scryptN === undefined ? {} : { n: this.scryptN },
    )
    return this.store(name, keystore)
  }

  /** Stores an already encrypted keystore as `name`; refuses to overwrite. */
  async store(name: string, keystore: Keystore): Promise<KeyEntry> {
    const path = this.path(name)
    if (await this.has(name)) throw new CliError('CLI_KEY_EXISTS', `a key named "${name}" already exists`)
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeFile(path, JSON.stringify(keystore, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
    return entryOf(name, keystore)
  }

  /** The signer of key `name` (decrypting it: CRYPTO_WRONG_PASSWORD on a bad password). */
  async signer(name: string, password: string): Promise<Signer> {
    return seedSigner(decryptKeystore(await this.read(name), password))
  }
}

export function entryOf(name: string, keystore: Keystore): KeyEntry {
  return { name, address: addressOfPublicKey(fromHex(keystore.publicKey)), publicKey: keystore.publicKey }
}

export function parseKeystoreText(text: string, path: string): Keystore {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CliError('CLI_BAD_FILE', `${path} is not JSON`)
  }
  try {
    return parseKeystore(json)
  } catch {
    throw new CliError('CLI_BAD_FILE', `${path} is not a Terrane keystore`)
  }
}

/** The scrypt cost override for tests, if set and sane. */
export function scryptCostOf(env: Record<string, string | undefined>): number | undefined {
  const text = env.TERRANE_KEYSTORE_SCRYPT_N
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1024 || (n & (n - 1)) !== 0 || n > 1 << 20)
    throw new CliError('CLI_USAGE', 'TERRANE_KEYSTORE_SCRYPT_N must be a power of two from 1024 to 2^20')
  return n
}
