export {
  Mempool,
  mempoolFullRetryAfterMs,
  type TxCheck,
  type TxChecker,
  type MempoolInit,
  type AddResult,
  type MempoolRejection,
  type RemovalReason,
} from './mempool.ts'
export { DroppedTxs, droppedTxsMax, type DroppedTx, type DroppedTxsInit } from './dropped-txs.ts'
