export * from './protocol.ts'
export { systemClock, MemoryDeviceDirectory, type Clock, type DeviceDirectory, type DeviceRecord, type DeviceStatus } from './components.ts'
export { createIngestMetrics, metricValue, type IngestMetrics, type AuthMode, type AclAction } from './metrics.ts'
export { ReplayGuard, seqWindowBits, evictionScanMax, type SeqCheck, type ReplayGuardInit } from './replay.ts'
export {
  reportProcessor,
  reportRejectReasons,
  type ReportProcessor,
  type ReportProcessorInit,
  type ReportProcessorComponents,
  type ReportRejectReason,
  type ReportSink,
  type VerifiedReport,
  type IngestVerdict,
} from './processor.ts'
export {
  sessionAuthority,
  type SessionAuthority,
  type SessionAuthorityInit,
  type SessionAuthorityComponents,
  type AuthRejectReason,
  type AuthVerdict,
} from './session.ts'
export {
  embeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerInit,
  type EmbeddedBrokerComponents,
  type ClientCertificateVerifier,
  type ListenInit,
} from './broker.ts'
export { externalConsumer, type ExternalConsumer, type ExternalConsumerInit, type ExternalConsumerComponents } from './external.ts'
export { challengeServer, type ChallengeServer, type ChallengeServerInit } from './challenge-server.ts'
export { createSignaturePool, type SignatureVerifier, type SignaturePoolInit } from './pool/signature-pool.ts'
export { packBatch, unpackBatch, type SignatureItem } from './pool/packing.ts'
export { createIngest, type Ingest, type IngestInit, type IngestComponents } from './ingest.ts'
export { attestationCertificateVerifier } from './certificates.ts'
