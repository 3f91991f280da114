import type { ChainModule, EmissionSink } from '@terrane/chain'
import { devicesModule } from '@terrane/devices'
import { coverage } from '@terrane/coverage'
import { channelsModule } from '@terrane/channels'
import { agreementsModule } from '@terrane/agreements'

/**
 * The DePIN chain modules every node runs: devices, coverage (module and emission sink), channels
 * and agreements. The devices module needs its genesis section (its admin), so a genesis without
 * one runs without it; the choice is a function of the genesis, the same on every node.
 */
export function depinChainModules(genesisModules: Record<string, unknown> | undefined): {
  modules: ChainModule[]
  emissionSinks: EmissionSink[]
} {
  const { module, sink } = coverage()
  const modules: ChainModule[] = []
  if (genesisModules?.devices !== undefined) modules.push(devicesModule())
  modules.push(module, channelsModule(), agreementsModule())
  return { modules, emissionSinks: [sink] }
}
