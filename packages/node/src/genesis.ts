import { readFile } from 'node:fs/promises'
import { parseGenesis, type Genesis as ChainGenesis } from '@terrane/chain'

/**
 * The node's genesis file: the chain's genesis (chain id, parameters, accounts,
 * validators, module sections) plus what consensus needs that the state machine
 * does not: the time of the first block.
 */
export interface NodeGenesis {
  /** Block 1's time is at least this (ms since the Unix epoch). */
  genesisTimeMs: number
  chain: ChainGenesis
  /** The JSON as read, to hand to peers and tools unchanged. */
  json: unknown
}

export class GenesisFileError extends Error {
  static override name = 'GenesisFileError'
  override name = 'GenesisFileError'
  readonly code = 'NODE_BAD_GENESIS'
}

export function parseNodeGenesis(json: unknown): NodeGenesis {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GenesisFileError('genesis: expected a JSON object')
  const { genesisTimeMs, chain, ...rest } = json as Record<string, unknown>
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw new GenesisFileError(`genesis: unknown field ${unknown[0]}`)
  if (typeof genesisTimeMs !== 'number' || !Number.isSafeInteger(genesisTimeMs) || genesisTimeMs < 0) {
    throw new GenesisFileError('genesis.genesisTimeMs: expected milliseconds since the Unix epoch')
  }
  return { genesisTimeMs, chain: parseGenesis(chain), json }
}

export async function readNodeGenesis(path: string): Promise<NodeGenesis> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new GenesisFileError(`cannot read ${path}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new GenesisFileError(`${path} is not JSON: ${(err as Error).message}`)
  }
  return parseNodeGenesis(json)
}
