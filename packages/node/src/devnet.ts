import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256, toHex } from '@terrane/codec'
import { addressOfPublicKey, keyPairFromSeed, seedSigner, type Signer } from '@terrane/crypto'
import { peerIdOfSeed } from '@terrane/p2p'
import { defaultNodeConfig, type NodeConfig } from './config.ts'
import { nodePaths } from './node.ts'
import { writeKeyFile } from './keys.ts'
import { devnetDepinGenesis, manufacturerPath } from './depin/genesis.ts'
import { writeManufacturerFile } from './depin/manufacturer.ts'

export interface DevnetInit {
  /** Root directory; node i lives in `<dir>/node<i>`. */
  dir: string
  validators: number
  /** Extra non-validator (full) nodes. @default 0 */
  fullNodes?: number
  chainId?: string
  /** Seeds every key: the same seed gives the same devnet. @default 'terrane-devnet' */
  seed?: string
  /** First port; node i uses base + 10 * i (+0 p2p, +1 API, +2 MQTT). @default 26600 */
  basePort?: number
  genesisTimeMs: number
  /** Chain parameter overrides (JSON values as in the genesis file). */
  params?: Record<string, unknown>
  /** Module genesis sections (merged over the DePIN ones). */
  modules?: Record<string, unknown>
  /**
   * DePIN sections: the devnet manufacturer (root key from the seed, kept in each node's
   * `keys/devnet_manufacturer.json` for the simulator), the devices admin (faucet 15), every
   * validator's operator as a bonded coverage verifier, the share schedule and emission. @default true
   */
  isDepin?: boolean
}

export interface DevnetNode {
  index: number
  home: string
  isValidator: boolean
  config: NodeConfig
  peerId?: string
  apiUrl: string
}

export interface DevnetLayout {
  chainId: string
  nodes: DevnetNode[]
  /** Funded accounts anyone on the devnet may use (load generators, examples). */
  faucets: Signer[]
  genesis: unknown
}

/** Devnet token amounts: 1 TRN = 10^6 micro. */
const trn = 1_000_000n

/** Deterministic key seed for a devnet role. */
export function devnetSeed(seed: string, role: string): Uint8Array {
  return sha256(new TextEncoder().encode(`${seed}/${role}`))
}

/** Faucet accounts of a devnet, derived from its seed. */
export function devnetFaucets(seed = 'terrane-devnet', count = 16): Signer[] {
  return Array.from({ length: count }, (_, i) => seedSigner(devnetSeed(seed, `faucet-${i}`)))
}

/**
 * Writes the home directories of a local devnet: keys, genesis and config per node,
 * all validators in genesis, node 0 as everyone's bootstrap peer, fast devnet
 * consensus timeouts, and funded faucet accounts for load and examples.
 */
export async function writeDevnet(init: DevnetInit): Promise<DevnetLayout> {
  const seed = init.seed ?? 'terrane-devnet'
  const chainId = init.chainId ?? 'terrane-devnet'
  const basePort = init.basePort ?? 26600
  const total = init.validators + (init.fullNodes ?? 0)
  const faucets = devnetFaucets(seed)
  const nodes: DevnetNode[] = []
  const validators: unknown[] = []
  const accounts: unknown[] = faucets.map((f) => ({ address: addressOfPublicKey(f.publicKey), balance: (1_000_000_000n * trn).toString() }))
  const nodeKeys: Array<{ peerSeed: Uint8Array }> = []
  for (let i = 0; i < total; i++) {
    const home = join(init.dir, `node${i}`)
    const paths = nodePaths(home)
    const isValidator = i < init.validators
    const peerSeed = devnetSeed(seed, `node-${i}`)
    await writeKeyFile(paths.nodeKey, 'terrane-node-key', peerSeed)
    nodeKeys.push({ peerSeed })
    if (isValidator) {
      const consensusSeed = devnetSeed(seed, `validator-${i}`)
      const operator = keyPairFromSeed(devnetSeed(seed, `operator-${i}`))
      await writeKeyFile(paths.validatorKey, 'terrane-validator-key', consensusSeed)
      // The operator key signs staking transactions; keep it beside the node for the devnet.
      await writeKeyFile(join(home, 'keys', 'operator_key.json'), 'terrane-node-key', devnetSeed(seed, `operator-${i}`))
      accounts.push({ address: addressOfPublicKey(operator.publicKey), balance: (10_000_000n * trn).toString() })
      validators.push({
        operator: addressOfPublicKey(operator.publicKey),
        consensusKey: toHex(keyPairFromSeed(consensusSeed).publicKey),
        selfStake: (1_000_000n * trn).toString(),
        commissionBps: 500,
      })
    }
    const config = defaultNodeConfig(home)
    config.moniker = `${isValidator ? 'validator' : 'full'}-${i}`
    // basePort 0 means free ports everywhere (tests), not ports 1, 2, 11, ...
    const port = (offset: number) => (basePort === 0 ? 0 : basePort + 10 * i + offset)
    config.p2p.listen = `/ip4/127.0.0.1/tcp/${port(0)}`
    config.api.port = port(1)
    // Loopback only: the rate limit would only throttle the developer's own tools and load tests.
    config.api.rateLimitRequestsMax = 0
    config.mqtt.port = port(2)
    config.consensus.isDevnetTiming = true
    nodes.push({ index: i, home, isValidator, config, apiUrl: `http://127.0.0.1:${config.api.port}` })
  }
  const depin =
    init.isDepin === false
      ? undefined
      : await devnetDepinGenesis({
          rootKeySeed: devnetSeed(seed, 'manufacturer-root'),
          devnetSeed: seed,
          genesisTimeMs: init.genesisTimeMs,
          operators: validators.map((v) => (v as { operator: string }).operator),
          faucets,
        })
  const modules = { ...depin?.modules, ...init.modules }
  const genesis = {
    genesisTimeMs: init.genesisTimeMs,
    chain: {
      chainId,
      params: { epochBlocks: 20, unbondingBlocks: 200, signedBlocksWindow: 100, ...depin?.params, ...init.params },
      accounts,
      validators,
      ...(Object.keys(modules).length === 0 ? {} : { modules }),
    },
  }
  // Everyone bootstraps from node 0; the DHT finds the rest.
  const bootstrap = `${nodes[0]?.config.p2p.listen}/p2p/${await peerIdOfSeed((nodeKeys[0] as { peerSeed: Uint8Array }).peerSeed)}`
  for (const node of nodes) {
    node.peerId = await peerIdOfSeed((nodeKeys[node.index] as { peerSeed: Uint8Array }).peerSeed)
    if (node.index > 0) node.config.p2p.bootstrap = [bootstrap]
    await mkdir(node.home, { recursive: true })
    await writeFile(nodePaths(node.home).genesis, JSON.stringify(genesis, null, 2) + '\n')
    if (depin !== undefined) await writeManufacturerFile(manufacturerPath(node.home), depin.manufacturer)
    const { home: _home, ...fileConfig } = node.config
    await writeFile(join(node.home, 'config.json'), JSON.stringify(fileConfig, null, 2) + '\n')
  }
  return { chainId, nodes, faucets, genesis }
}
