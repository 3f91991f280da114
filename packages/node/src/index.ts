export { startNode, nodePaths, type TerraneNode, type TerraneNodeInit } from './node.ts'
export {
  loadNodeConfig,
  defaultNodeConfig,
  validateNodeConfig,
  environmentVariables,
  NodeConfigError,
  type NodeConfig,
  type NodeConfigOverrides,
} from './config.ts'
export { writeDevnet, devnetFaucets, devnetSeed, type DevnetInit, type DevnetLayout, type DevnetNode } from './devnet.ts'
export { readNodeGenesis, parseNodeGenesis, GenesisFileError, type NodeGenesis } from './genesis.ts'
export { writeKeyFile, readKeySeed, KeyFileError, type NodeKeyFile } from './keys.ts'
export {
  Mempool,
  type TxCheck,
  type TxChecker,
  type MempoolInit,
  type AddResult,
  type MempoolRejection,
  type RemovalReason,
  DroppedTxs,
  droppedTxsMax,
  type DroppedTx,
} from './mempool/index.ts'
export { BlockStore, type TxLocation } from './storage/block-store.ts'
export { WriteAheadLog, walRecordBytesMax } from './storage/wal.ts'
export { createNodeMetrics, type NodeMetrics } from './metrics.ts'
export { openChainStore, type NodeChainStore } from './chain-store.ts'
