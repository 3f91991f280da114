export {
  Mempool,
  type TxCheck,
  type TxChecker,
  type MempoolInit,
  type AddResult,
  type MempoolRejection,
  type RemovalReason,
} from './mempool.ts'
