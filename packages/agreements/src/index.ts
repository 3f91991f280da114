/**
 * @terrane/agreements: service agreements as the chain module 'agreements': SLA terms, escrow,
 * optional provider bond, a staked prober registry, automatic settlement at epoch boundaries,
 * disputes on signed evidence, and an end-to-end scenario for devnets.
 */
export { AgreementError, agreementRejectReasons, agreementRejectReasonOf, type AgreementRejectReason } from './errors.ts'
export {
  agreementStateSchema,
  agreementTermsSchema,
  agreementsMessages,
  agreementsParamsSchema,
  agreementStatuses,
  defaultAgreementsParams,
  figuresPerSubmissionMax,
  figuresRecordSchema,
  figuresSchema,
  proberSchema,
  settlementOutcomes,
  signedFiguresSchema,
  slaTermsSchema,
  type Agreement,
  type AgreementsParams,
  type AgreementStatus,
  type Figures,
  type FiguresRecord,
  type ProberRecord,
  type AgreementState,
  type AgreementTerms,
  type SettlementOutcome,
  type SignedFigures,
  type SlaTerms,
} from './schemas.ts'
export {
  agreementKeys,
  agreementsModule,
  epochOfHeight,
  figuresSlots,
  figuresSigningPayload,
  idOfIndexKey,
  indexBucketCount,
  medianFigures,
  meetsTerms,
  signFigures,
  type AgreementsModule,
  type AgreementsModuleInit,
  type SettleStats,
} from './module.ts'
export { agreementIds, agreementOf, readAgreement, readFigures, readProber, type AgreementIdQuery, type RawRead } from './query.ts'
export {
  runServiceScenario,
  scenarioTerms,
  settlementBetween,
  type ScenarioSettlement,
  type ScenarioActors,
  type ScenarioClient,
  type ScenarioInit,
  type ScenarioPayments,
  type ScenarioReport,
} from './scenario.ts'
