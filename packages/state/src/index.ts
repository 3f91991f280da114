export { StateError, type StateErrorCode } from './errors.ts'
export { emptyHash, hashBytes, pathOf, valueHashOf, leafHashOf, internalHashOf } from './hash.ts'
export {
  openStateStore,
  createMemoryStateStore,
  createStateStore,
  keyBytesMax,
  valueBytesMax,
  type StateStore,
  type StateBatch,
  type StateStoreInit,
  type LevelStateStoreInit,
  type CommitResult,
} from './store.ts'
export { memoryBackend, levelBackend, type StateBackend, type BackendOp, type LevelBackendInit } from './backend.ts'
export {
  verifyProof,
  verifyProofs,
  isWellFormedProof,
  encodeStateProof,
  decodeStateProof,
  proofSiblingsMax,
  type StateProof,
  type ProofCheck,
} from './proof.ts'
