import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fromHex, toHex } from '@terrane/codec'
import { addressOfPublicKey, keyPairFromSeed } from '@terrane/crypto'

/**
 * A key file of the node itself (its p2p identity, its validator consensus key),
 * stored in plain JSON with mode 0600 as CometBFT's node_key.json and
 * priv_validator_key.json are: the node must start unattended. Account keys live
 * in encrypted keystores instead (`terrane keys`).
 */
export interface NodeKeyFile {
  kind: 'terrane-node-key' | 'terrane-validator-key'
  publicKey: string
  address: string
  seed: string
}

export async function writeKeyFile(
  path: string,
  kind: NodeKeyFile['kind'],
  seed: Uint8Array = new Uint8Array(randomBytes(32)),
): Promise<NodeKeyFile> {
  const { publicKey } = keyPairFromSeed(seed)
  const file: NodeKeyFile = { kind, publicKey: toHex(publicKey), address: addressOfPublicKey(publicKey), seed: toHex(seed) }
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
  return file
}

export class KeyFileError extends Error {
  static override name = 'KeyFileError'
  override name = 'KeyFileError'
  readonly code = 'NODE_BAD_KEY_FILE'
}

export async function readKeySeed(path: string, kind: NodeKeyFile['kind']): Promise<Uint8Array> {
  let json: Partial<NodeKeyFile>
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Partial<NodeKeyFile>
  } catch (err) {
    throw new KeyFileError(`cannot read key file ${path}: ${(err as Error).message}`)
  }
  if (json.kind !== kind || typeof json.seed !== 'string' || json.seed.length !== 64)
    throw new KeyFileError(`${path} is not a ${kind} file`)
  return fromHex(json.seed)
}
