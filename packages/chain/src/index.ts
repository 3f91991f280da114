export type {
  Application,
  AppEvent,
  CheckTxResponse,
  LastCommitVote,
  FinalizeBlockRequest,
  FinalizeBlockResponse,
  Misbehavior,
  TxResult,
  Validator,
  ValidatorUpdate,
} from './abci.ts'
export {
  createChainApp,
  mempoolNonceAheadMax,
  signatureCacheEntriesMax,
  type AccountView,
  type BatchVerifier,
  type ChainApp,
  type ChainAppInit,
  type DelegationView,
  type InvariantReport,
} from './app.ts'
export { ChainError, chainErrorCodes, chainErrorCodeOf, type ChainErrorCode } from './errors.ts'
export { parseGenesis, type Genesis } from './genesis.ts'
export { keys, prefixes } from './keys.ts'
export { buildTransfer, coreMessageRegistry, coreMessages, coreTxBodySchema, messageRegistry, type TransferInit } from './messages.ts'
export type { BlockContext, ChainModule, EmissionSink, ModuleBank, ModuleStore, TxContext } from './module.ts'
export { defaultParams, paramsSchema, type ChainParams } from './params.ts'
export {
  messagesPerTxMax,
  multisigKeysMax,
  rewardScale,
  txBytesMax,
  type Account,
  type MultisigConfig,
  type Pools,
  type Supply,
  type ValidatorRecord,
} from './schemas.ts'
export { readCacheEntriesMax } from './state.ts'
export { capPowers } from './modules/staking.ts'
export { MemoryChainStore, memoryStoreBucketCount, type ChainStore, type StoreWrite } from './store.ts'
export {
  checkMultisigConfig,
  decodeTx,
  multisigAddress,
  multisigConfig,
  signTx,
  txBodySchema,
  txEnvelopeSchema,
  type DecodedTx,
  type Msg,
  type SignTxInit,
  type TxBody,
  type TxEnvelope,
} from './tx.ts'
export { stateStoreAdapter, type StateStoreLike } from './state-store.ts'
export { committedModuleStore } from './committed-store.ts'
