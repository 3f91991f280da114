import { createMemoryStateStore } from '../src/index.ts'
import { stateStoreCompliance } from './compliance.ts'

stateStoreCompliance('memory', async (init) => createMemoryStateStore(init))
