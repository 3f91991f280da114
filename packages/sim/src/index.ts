export {
  runSimulation,
  drawScenario,
  replayCommand,
  kvAppDriver,
  simChainId,
  type SimAppDriver,
  type SimApp,
  type SimOptions,
  type SimInit,
  type SimResult,
  type Scenario,
  type ByzantineBehaviour,
} from './sim.ts'
export { runSeeds, describeFailure, type SeedRunSummary } from './run.ts'
export { KvApp, type KvDurableState } from './kv-app.ts'
export { Rng } from './rng.ts'
export { EventQueue } from './queue.ts'
export { runForkAttack, type ForkAttackResult } from './fork.ts'
export { chainAppDriver } from './chain-app.ts'
