import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ChainStore } from '@terrane/chain'
import { seedSigner } from '@terrane/crypto'
import { readKeySeed } from '../keys.ts'
import { nodePaths, type TerraneNode } from '../node.ts'
import { devnetFaucets } from '../devnet.ts'
import { manufacturerPath } from './genesis.ts'
import { devnetManufacturerIssuer, readManufacturerFile } from './manufacturer.ts'
import { DepinService } from './service.ts'

/** The faucet that funds simulated device owners (faucet 15 administers the devices module). */
export const simulationFaucetIndex = 14

/** Where a devnet validator keeps its operator key (it signs staking and coverage settlement). */
export function operatorKeyPath(home: string): string {
  return join(home, 'keys', 'operator_key.json')
}

/**
 * Starts the DePIN service of a node from its home directory: the operator key (if this is a
 * validator whose operator key is beside it, as on a devnet) signs coverage settlement; with
 * `devnet.simulatedDevices > 0` the devnet manufacturer file issues the simulated devices'
 * certificates and a devnet faucet funds their owners.
 */
export async function startDepinService(node: TerraneNode, chainStore: ChainStore, logger: Logger): Promise<DepinService> {
  const { config } = node
  const home = config.home
  const operatorPath = operatorKeyPath(home)
  const operator = existsSync(operatorPath) ? seedSigner(await readKeySeed(operatorPath, 'terrane-node-key')) : null
  const count = config.devnet?.simulatedDevices ?? 0
  let simulation: ConstructorParameters<typeof DepinService>[0]['simulation']
  if (count > 0) {
    const file = await readManufacturerFile(manufacturerPath(home))
    const faucet = devnetFaucets(file.faucetSeed)[simulationFaucetIndex]
    if (faucet === undefined) throw new RangeError('no simulation faucet')
    simulation = { count, manufacturer: await devnetManufacturerIssuer(file), faucet, seed: `${file.faucetSeed}/devices` }
  }
  const service = new DepinService(
    { mqttPort: config.mqtt.port, ...(simulation === undefined ? {} : { simulation }) },
    { node, chainStore, logger, dataDir: nodePaths(home).data, operator },
  )
  await service.start()
  return service
}
