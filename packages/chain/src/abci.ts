// The contract between consensus and the state machine (issue 4) is owned by
// @terrane/consensus; chain implements it. Re-exported here for chain's users.
export type {
  Application,
  AppEvent,
  CheckTxResponse,
  FinalizeBlockRequest,
  FinalizeBlockResponse,
  LastCommitVote,
  Misbehavior,
  TxResult,
  Validator,
  ValidatorUpdate,
} from '@terrane/consensus'
