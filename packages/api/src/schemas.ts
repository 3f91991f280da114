/**
 * Every JSON shape the API serves, declared once as TypeBox schemas. The same
 * objects drive request validation (fastify/ajv), the OpenAPI 3.1 document, the
 * GraphQL types (see graphql-types.ts) and, through `Static<>`, the SDK's types.
 *
 * JSON-safe by construction: bigints travel as decimal strings, bytes as
 * lower-case hex, times as integer milliseconds since the Unix epoch.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** Items per page when a request gives no `limit`. */
export const pageItemsDefault = 50
/** Largest `limit` a page request may ask for. */
export const pageItemsMax = 100
/** Largest canonical transaction accepted by the submit route (the chain may be stricter). */
export const txBytesMax = 64 * 1024
/** Longest state key a proof request may name. */
export const stateKeyBytesMax = 256
/** Longest cursor string (cursors are opaque and short). */
export const cursorCharsMax = 256

// ---------- scalars ----------

export const Hex32 = Type.String({
  title: 'Hex32',
  pattern: '^[0-9a-f]{64}$',
  description: '32 bytes as 64 lower-case hex characters (hashes, roots).',
  examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
})
export const HexBytes = Type.String({
  title: 'HexBytes',
  pattern: '^([0-9a-f]{2})*$',
  description: 'Bytes as lower-case hex.',
})
export const Decimal = Type.String({
  title: 'Decimal',
  pattern: '^(0|[1-9][0-9]{0,77})$',
  description: 'A non-negative integer (a bigint) as a decimal string, in micro-TRN where it is an amount.',
  examples: ['1000000'],
})
export const Address = Type.String({
  title: 'Address',
  pattern: '^trn1[02-9ac-hj-np-z]{38}$',
  description: 'A bech32m account address (20-byte account id).',
})
export const Height = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'A block height.' })
export const Epoch = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'A reward epoch.' })
export const DeviceId = Type.String({
  title: 'DeviceId',
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  description: 'A device identifier as registered on chain.',
})
export const H3Cell = Type.String({
  title: 'H3Cell',
  pattern: '^[0-9a-f]{15}$',
  description: 'An H3 cell index as 15 hex characters.',
})
export const Cursor = Type.String({
  maxLength: cursorCharsMax,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'Opaque cursor from a previous page (`nextCursor`).',
})
export const ObjectId = Type.String({
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  description: 'An identifier (agreement, channel, proof).',
})

// ---------- shared shapes ----------

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageItemsMax, default: pageItemsDefault })),
  },
  { additionalProperties: false },
)

function page<T extends TSchema>(name: string, item: T) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` to get the next page; null at the end.' }),
    },
    { title: name, additionalProperties: false },
  )
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable error code (see the README error table).' }),
        message: Type.String(),
        details: Type.Optional(Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  },
  { title: 'ErrorBody', additionalProperties: false },
)

// ---------- node ----------

export const Status = Type.Object(
  {
    chainId: Type.String(),
    height: Height,
    latestBlockHash: Hex32,
    latestBlockTimeMs: Type.Integer({ minimum: 0 }),
    isSyncing: Type.Boolean(),
    peerCount: Type.Integer({ minimum: 0 }),
    version: Type.String(),
  },
  { title: 'Status', additionalProperties: false },
)

export const Readiness = Type.Object(
  {
    isReady: Type.Boolean(),
    isSynced: Type.Boolean(),
    isConnected: Type.Boolean(),
    height: Height,
  },
  { title: 'Readiness', additionalProperties: false },
)

export const Health = Type.Object({ status: Type.Literal('ok') }, { title: 'Health', additionalProperties: false })

// ---------- blocks and transactions ----------

export const BlockHeader = Type.Object(
  {
    height: Height,
    hash: Hex32,
    parentHash: Hex32,
    timeMs: Type.Integer({ minimum: 0 }),
    proposer: Address,
    txRoot: Hex32,
    stateRoot: Hex32,
    txCount: Type.Integer({ minimum: 0 }),
  },
  { title: 'BlockHeader', additionalProperties: false },
)

export const Block = Type.Object(
  {
    header: BlockHeader,
    txHashes: Type.Array(Hex32),
  },
  { title: 'Block', additionalProperties: false },
)

export const InclusionProof = Type.Object(
  {
    txRoot: Hex32,
    index: Type.Integer({ minimum: 0 }),
    count: Type.Integer({ minimum: 1 }),
    siblings: Type.Array(Hex32),
  },
  {
    title: 'InclusionProof',
    additionalProperties: false,
    description: "RFC 6962 inclusion proof of the transaction's canonical bytes in the block header's txRoot.",
  },
)

export const Tx = Type.Object(
  {
    hash: Hex32,
    bytes: HexBytes,
    height: Height,
    index: Type.Integer({ minimum: 0 }),
    code: Type.Integer({ minimum: 0, description: '0 when the transaction succeeded; otherwise the chain result code.' }),
    reason: Type.String({ description: 'The result reason name (empty on success).' }),
    accounts: Type.Array(Address, { description: 'Accounts the transaction touched (sender first).' }),
    proof: InclusionProof,
  },
  { title: 'Tx', additionalProperties: false },
)

export const TxStatusKind = Type.Union(
  [Type.Literal('committed'), Type.Literal('pending'), Type.Literal('dropped'), Type.Literal('unknown')],
  {
    title: 'TxStatusKind',
    description:
      "committed: in a block with its result; pending: in this node's mempool (or in a decided block not yet executed); dropped: " +
      "left this node's mempool without being committed; unknown: never seen here, or forgotten (the node keeps the latest 10,000 drops, in memory).",
  },
)
export const TxDropReason = Type.Union(
  [Type.Literal('replaced'), Type.Literal('evicted'), Type.Literal('stale'), Type.Literal('invalid_on_recheck'), Type.Literal('flushed')],
  {
    title: 'TxDropReason',
    description:
      'replaced: a transaction with the same sender and nonce paid a higher fee; evicted: the mempool was full and a higher-fee ' +
      'transaction took its room; stale: its nonce was used by another committed transaction; invalid_on_recheck: it no longer ' +
      'passes the checks against the latest state (e.g. the balance cannot pay it); flushed: an operator flushed the mempool.',
  },
)
export const TxStatus = Type.Object(
  {
    hash: Hex32,
    status: TxStatusKind,
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'committed: the block height.' })),
    index: Type.Optional(Type.Integer({ minimum: 0, description: 'committed: the position in the block.' })),
    code: Type.Optional(
      Type.Integer({ minimum: 0, description: 'committed: 0 when the transaction succeeded; otherwise the chain result code.' }),
    ),
    reason: Type.Optional(TxDropReason),
    droppedAtMs: Type.Optional(Type.Integer({ minimum: 0, description: 'dropped: when, in ms since the Unix epoch.' })),
  },
  {
    title: 'TxStatus',
    additionalProperties: false,
    description:
      "What this node knows of a transaction. A drop is this node's view: a copy gossiped to other validators before may still commit, and then the status reads committed.",
  },
)

export const SubmitTxBody = Type.Object(
  { tx: Type.String({ pattern: '^([0-9a-f]{2})+$', maxLength: txBytesMax * 2, description: 'Canonical transaction bytes as hex.' }) },
  { title: 'SubmitTxBody', additionalProperties: false },
)
export const SubmitTxResult = Type.Object({ hash: Hex32 }, { title: 'SubmitTxResult', additionalProperties: false })

/** Transactions per batch submission: a load generator's or gateway's unit, well under the body limit. */
export const submitBatchTxsMax = 1000
export const SubmitTxBatchBody = Type.Object(
  {
    txs: Type.Array(SubmitTxBody.properties.tx, { minItems: 1, maxItems: submitBatchTxsMax }),
  },
  { title: 'SubmitTxBatchBody', additionalProperties: false },
)
export const SubmitTxBatchResult = Type.Object(
  {
    results: Type.Array(
      Type.Union([
        Type.Object({ hash: Hex32 }, { additionalProperties: false }),
        Type.Object({ error: ErrorBody.properties.error }, { additionalProperties: false }),
      ]),
      { description: 'One per submitted transaction, in order: its hash once in the mempool, or why it was refused.' },
    ),
  },
  { title: 'SubmitTxBatchResult', additionalProperties: false },
)

// ---------- accounts, staking ----------

export const AccountKind = Type.Union(
  [Type.Literal('user'), Type.Literal('validator'), Type.Literal('device'), Type.Literal('module'), Type.Literal('multisig')],
  { title: 'AccountKind' },
)

export const Account = Type.Object(
  {
    address: Address,
    balance: Decimal,
    nonce: Type.Integer({ minimum: 0 }),
    kind: AccountKind,
  },
  { title: 'Account', additionalProperties: false },
)

export const ValidatorStatus = Type.Union([Type.Literal('bonded'), Type.Literal('unbonding'), Type.Literal('unbonded')], {
  title: 'ValidatorStatus',
})

export const Validator = Type.Object(
  {
    address: Address,
    publicKey: Hex32,
    tokens: Decimal,
    votingPower: Decimal,
    commissionBps: Type.Integer({ minimum: 0, maximum: 10_000 }),
    status: ValidatorStatus,
    isJailed: Type.Boolean(),
  },
  { title: 'Validator', additionalProperties: false },
)

export const Delegation = Type.Object(
  {
    delegator: Address,
    validator: Address,
    shares: Decimal,
    amount: Decimal,
  },
  { title: 'Delegation', additionalProperties: false },
)

// ---------- devices, proofs, rewards ----------

export const AttestationStatus = Type.Union(
  [Type.Literal('verified'), Type.Literal('pending'), Type.Literal('rejected'), Type.Literal('expired')],
  { title: 'AttestationStatus' },
)

export const Device = Type.Object(
  {
    id: DeviceId,
    owner: Address,
    model: Type.String(),
    h3Cell: H3Cell,
    attestation: Type.Object(
      {
        status: AttestationStatus,
        reason: Type.String({ description: 'Why the attestation has this status (empty when verified).' }),
        checkedHeight: Height,
      },
      { title: 'Attestation', additionalProperties: false },
    ),
    registeredHeight: Height,
    isActive: Type.Boolean(),
  },
  { title: 'Device', additionalProperties: false },
)

export const ProofKind = Type.Union([Type.Literal('coverage'), Type.Literal('service')], { title: 'ProofKind' })
export const Verdict = Type.Union([Type.Literal('accepted'), Type.Literal('rejected')], { title: 'Verdict' })

export const DeviceProof = Type.Object(
  {
    id: ObjectId,
    deviceId: DeviceId,
    kind: ProofKind,
    epoch: Epoch,
    height: Height,
    witnessCount: Type.Integer({ minimum: 0 }),
    verdict: Verdict,
    reason: Type.String({ description: 'Enumerated verdict reason (empty when accepted).' }),
  },
  { title: 'DeviceProof', additionalProperties: false },
)

export const RewardComponent = Type.Object(
  {
    name: Type.String({ description: 'e.g. base, coverage, service, witness, penalty.' }),
    amount: Decimal,
    detail: Type.String(),
  },
  { title: 'RewardComponent', additionalProperties: false },
)

export const Reward = Type.Object(
  {
    deviceId: DeviceId,
    epoch: Epoch,
    height: Height,
    amount: Decimal,
    explanation: Type.Array(RewardComponent, { description: 'How the amount was computed, term by term.' }),
  },
  { title: 'Reward', additionalProperties: false },
)

// ---------- agreements, channels ----------

export const AgreementStatus = Type.Union(
  [Type.Literal('proposed'), Type.Literal('active'), Type.Literal('completed'), Type.Literal('cancelled')],
  { title: 'AgreementStatus' },
)

const Bps = (description: string) => Type.Integer({ minimum: 0, maximum: 10_000, description })
/** A Decimal (micro-TRN) with its own description. */
const Amount = (description: string) => Type.String({ ...Decimal, description })
const Count = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description })

/** What the provider promises each epoch (the agreements module's terms, fixed at opening). */
export const SlaTerms = Type.Object(
  {
    uptimeBpsMin: Bps('Uptime at least this share of each epoch, in basis points (9900 = 99%).'),
    latencyP95MsMax: Count('p95 latency at most this many milliseconds.'),
    bandwidthKbpsMin: Count('Median bandwidth at least this many kbit/s (0: no bandwidth term).'),
    penaltyBps: Bps("Share of the provider's initial bond forfeited to the customer per breached epoch, in basis points."),
    breachesMax: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Consecutive breached epochs that end the agreement.',
    }),
  },
  { title: 'SlaTerms', additionalProperties: false },
)

/**
 * Where the agreement's money is, in micro-TRN. The escrow always balances:
 * escrowed = escrowHeld + paid + refunded.
 */
export const AgreementEscrow = Type.Object(
  {
    escrowed: Amount('Locked by the customer at opening: pricePerEpoch x durationEpochs.'),
    escrowHeld: Amount('Still in escrow: not yet paid or refunded (0 once the agreement has finished).'),
    paid: Amount('Paid to the provider: pricePerEpoch for each epoch that met the terms.'),
    refunded: Amount('Returned to the customer: breached epochs, epochs without figures, cancelled epochs, and what was left at the end.'),
    bond: Amount('Bond the provider locks on accepting (named at opening).'),
    bondHeld: Amount('Bond still locked: 0 while proposed (not locked yet) and once finished (the rest went back to the provider).'),
    penalised: Type.Union([Decimal, Type.Null()], {
      description:
        'Bond forfeited to the customer so far (breached epochs, a provider cancelling). Null once an accepted agreement with a bond has finished: the module keeps the bond still held, not the total forfeited, so after the rest went back the total is only in the agreement-settled and agreement-cancelled events.',
    }),
  },
  { title: 'AgreementEscrow', additionalProperties: false },
)

/** The settled epochs so far, by outcome (settlement runs at each epoch boundary). */
export const AgreementSettlement = Type.Object(
  {
    epochsMet: Count('Epochs whose verified figures met the terms (paid).'),
    epochsBreached: Count('Epochs whose figures missed a term (refunded and penalised).'),
    epochsNoData: Count('Epochs without verified figures (refunded, no penalty).'),
    consecutiveBreaches: Count('Breached epochs in a row up to the last settled one; breachesMax of them end the agreement.'),
    lastSettledEpoch: Count('The last epoch settled (0 before the first settlement).'),
  },
  { title: 'AgreementSettlement', additionalProperties: false },
)

export const Agreement = Type.Object(
  {
    id: ObjectId,
    provider: Address,
    customer: Address,
    deviceIds: Type.Array(DeviceId),
    service: Type.String({ maxLength: 64, description: 'The service bought, as named at opening (e.g. data-relay).' }),
    pricePerEpoch: Decimal,
    durationEpochs: Count('Epochs the agreement covers once accepted.'),
    startEpoch: Epoch,
    endEpoch: Epoch,
    status: AgreementStatus,
    sla: SlaTerms,
    escrow: AgreementEscrow,
    settlement: AgreementSettlement,
  },
  { title: 'Agreement', additionalProperties: false },
)

export const ChannelStatus = Type.Union([Type.Literal('open'), Type.Literal('closing'), Type.Literal('closed')], {
  title: 'ChannelStatus',
})

export const Channel = Type.Object(
  {
    id: ObjectId,
    payer: Address,
    payee: Address,
    deposit: Decimal,
    redeemed: Decimal,
    nonce: Type.Integer({ minimum: 0 }),
    expiresHeight: Height,
    status: ChannelStatus,
  },
  { title: 'Channel', additionalProperties: false },
)

// ---------- state proofs ----------

export const StateProof = Type.Object(
  {
    height: Height,
    root: Hex32,
    key: HexBytes,
    value: Type.Union([HexBytes, Type.Null()], {
      description: 'null when the key is absent (then `proof` proves absence, if the format can).',
    }),
    proofFormat: Type.String({ description: 'Names the proof encoding, e.g. `terrane-memory-v1` or the state tree format.' }),
    proof: HexBytes,
  },
  { title: 'StateProof', additionalProperties: false },
)

// ---------- events ----------

export const Topic = Type.Union(
  [Type.Literal('newBlock'), Type.Literal('tx'), Type.Literal('deviceReport'), Type.Literal('consensusRound'), Type.Literal('reward')],
  { title: 'Topic' },
)

const eventBase = {
  height: Height,
  index: Type.Integer({ minimum: 0, description: 'Position among the events of this height: (height, index) is unique and ordered.' }),
}

export const NewBlockEvent = Type.Object(
  { topic: Type.Literal('newBlock'), ...eventBase, header: BlockHeader },
  { title: 'NewBlockEvent', additionalProperties: false },
)
export const TxEvent = Type.Object(
  {
    topic: Type.Literal('tx'),
    ...eventBase,
    hash: Hex32,
    code: Type.Integer({ minimum: 0 }),
    accounts: Type.Array(Address),
  },
  { title: 'TxEvent', additionalProperties: false },
)
export const DeviceReportEvent = Type.Object(
  {
    topic: Type.Literal('deviceReport'),
    ...eventBase,
    deviceId: DeviceId,
    kind: ProofKind,
    verdict: Verdict,
    reason: Type.String(),
  },
  { title: 'DeviceReportEvent', additionalProperties: false },
)
export const ConsensusRoundEvent = Type.Object(
  {
    topic: Type.Literal('consensusRound'),
    ...eventBase,
    round: Type.Integer({ minimum: 0 }),
    step: Type.Union([Type.Literal('propose'), Type.Literal('prevote'), Type.Literal('precommit'), Type.Literal('commit')]),
  },
  { title: 'ConsensusRoundEvent', additionalProperties: false },
)
export const RewardEvent = Type.Object(
  {
    topic: Type.Literal('reward'),
    ...eventBase,
    deviceId: DeviceId,
    epoch: Epoch,
    amount: Decimal,
  },
  { title: 'RewardEvent', additionalProperties: false },
)

export const Event = Type.Union([NewBlockEvent, TxEvent, DeviceReportEvent, ConsensusRoundEvent, RewardEvent], { title: 'Event' })

export const TopicFilter = Type.Object(
  {
    topics: Type.Array(Topic, { minItems: 1, maxItems: 5, uniqueItems: true }),
    account: Type.Optional(Address),
    deviceId: Type.Optional(DeviceId),
  },
  {
    title: 'TopicFilter',
    additionalProperties: false,
    description: 'Events of any listed topic; `account` narrows tx events, `deviceId` device and reward events.',
  },
)

// ---------- admin ----------

export const Peer = Type.Object(
  {
    id: Type.String(),
    address: Type.String(),
    direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
    latencyMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  { title: 'Peer', additionalProperties: false },
)
export const AddPeerBody = Type.Object(
  { address: Type.String({ minLength: 1, maxLength: 512, description: 'A multiaddr, e.g. /ip4/10.0.0.2/tcp/26656/p2p/12D3Koo...' }) },
  { title: 'AddPeerBody', additionalProperties: false },
)
export const LogLevel = Type.Union(
  [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace')],
  { title: 'LogLevel' },
)
export const LogLevelBody = Type.Object({ level: LogLevel }, { title: 'LogLevelBody', additionalProperties: false })
export const UnsafeResult = Type.Object(
  { action: Type.String(), affected: Type.Integer({ minimum: 0 }) },
  { title: 'UnsafeResult', additionalProperties: false },
)

// ---------- pages ----------

export const BlockHeaderPage = page('BlockHeaderPage', BlockHeader)
export const TxPage = page('TxPage', Tx)
export const ValidatorPage = page('ValidatorPage', Validator)
export const DelegationPage = page('DelegationPage', Delegation)
export const DevicePage = page('DevicePage', Device)
export const DeviceProofPage = page('DeviceProofPage', DeviceProof)
export const RewardPage = page('RewardPage', Reward)
export const AgreementPage = page('AgreementPage', Agreement)
export const ChannelPage = page('ChannelPage', Channel)

// ---------- static types ----------

export type StatusDto = Static<typeof Status>
export type ReadinessDto = Static<typeof Readiness>
export type BlockHeaderDto = Static<typeof BlockHeader>
export type BlockDto = Static<typeof Block>
export type InclusionProofDto = Static<typeof InclusionProof>
export type TxDto = Static<typeof Tx>
export type TxStatusKindDto = Static<typeof TxStatusKind>
export type TxDropReasonDto = Static<typeof TxDropReason>
export type TxStatusDto = Static<typeof TxStatus>
export type AccountKindDto = Static<typeof AccountKind>
export type AccountDto = Static<typeof Account>
export type ValidatorDto = Static<typeof Validator>
export type DelegationDto = Static<typeof Delegation>
export type AttestationStatusDto = Static<typeof AttestationStatus>
export type DeviceDto = Static<typeof Device>
export type DeviceProofDto = Static<typeof DeviceProof>
export type RewardComponentDto = Static<typeof RewardComponent>
export type RewardDto = Static<typeof Reward>
export type AgreementDto = Static<typeof Agreement>
export type SlaTermsDto = Static<typeof SlaTerms>
export type AgreementEscrowDto = Static<typeof AgreementEscrow>
export type AgreementSettlementDto = Static<typeof AgreementSettlement>
export type ChannelDto = Static<typeof Channel>
export type StateProofDto = Static<typeof StateProof>
export type TopicDto = Static<typeof Topic>
export type EventDto = Static<typeof Event>
export type NewBlockEventDto = Static<typeof NewBlockEvent>
export type TxEventDto = Static<typeof TxEvent>
export type DeviceReportEventDto = Static<typeof DeviceReportEvent>
export type ConsensusRoundEventDto = Static<typeof ConsensusRoundEvent>
export type RewardEventDto = Static<typeof RewardEvent>
export type TopicFilterDto = Static<typeof TopicFilter>
export type PeerDto = Static<typeof Peer>
export type LogLevelDto = Static<typeof LogLevel>
export type UnsafeResultDto = Static<typeof UnsafeResult>
export type ErrorBodyDto = Static<typeof ErrorBody>
export interface PageDto<T> {
  items: T[]
  nextCursor: string | null
}

// ---------- WebSocket event stream protocol (/v1/ws) ----------

export const WsSubscribe = Type.Object(
  {
    op: Type.Literal('subscribe'),
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Client-chosen subscription id, echoed on every event.' }),
    filter: TopicFilter,
    fromHeight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Replay events from this height first.' }),
    ),
  },
  { title: 'WsSubscribe', additionalProperties: false },
)
export const WsUnsubscribe = Type.Object(
  { op: Type.Literal('unsubscribe'), id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
  { title: 'WsUnsubscribe', additionalProperties: false },
)
export const WsClientMessage = Type.Union([WsSubscribe, WsUnsubscribe], { title: 'WsClientMessage' })

export type WsClientMessageDto = Static<typeof WsClientMessage>
export type WsServerMessageDto =
  | { type: 'subscribed'; id: string }
  | { type: 'unsubscribed'; id: string }
  | { type: 'event'; id: string; event: EventDto }
  | { type: 'error'; id?: string; error: { code: string; message: string; details?: unknown } }
