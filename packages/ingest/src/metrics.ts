import { Counter, Gauge, Registry } from 'prom-client'
import type { AuthRejectReason } from './session.ts'
import type { ReportRejectReason } from './processor.ts'

export type AuthMode = 'token' | 'tls'
export type AclAction = 'publish' | 'subscribe'

/** Every metric of the ingest, declared in one place (names: terrane_ingest_<thing>_<unit>). */
export interface IngestMetrics {
  readonly registry: Registry
  reportAccepted(): void
  reportRejected(reason: ReportRejectReason): void
  reportBytes(bytes: number): void
  authAccepted(mode: AuthMode): void
  authRejected(mode: AuthMode, reason: AuthRejectReason): void
  aclDenied(action: AclAction): void
  /** TLS mode: why @terrane/attestation refused a client chain (expired, revoked, unknown_root, ...). */
  certificateRejected(reason: string): void
  sinkFailed(): void
  setClients(count: number): void
  setTrackedDevices(count: number): void
  /** Signatures queued in or held by the signature pool. */
  setSignaturesPending(count: number): void
}

/** Creates the ingest's metrics in `registry` (a fresh one if omitted, so tests never collide). */
export function createIngestMetrics(registry: Registry = new Registry()): IngestMetrics {
  const reports = new Counter({
    name: 'terrane_ingest_reports_total',
    help: 'Device reports received, by outcome (accepted, rejected) and reject reason',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  })
  const bytes = new Counter({
    name: 'terrane_ingest_report_bytes_total',
    help: 'Payload bytes of report messages received',
    registers: [registry],
  })
  const auth = new Counter({
    name: 'terrane_ingest_auth_total',
    help: 'MQTT connection authentications, by mode (token, tls), outcome and reject reason',
    labelNames: ['mode', 'outcome', 'reason'] as const,
    registers: [registry],
  })
  const acl = new Counter({
    name: 'terrane_ingest_acl_denied_total',
    help: 'Publishes and subscriptions refused because the topic is not the client device’s own',
    labelNames: ['action'] as const,
    registers: [registry],
  })
  const certificates = new Counter({
    name: 'terrane_ingest_certificate_rejected_total',
    help: 'TLS client certificate chains refused, by attestation reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const sink = new Counter({
    name: 'terrane_ingest_sink_errors_total',
    help: 'Verified reports whose sink threw or rejected',
    registers: [registry],
  })
  const clients = new Gauge({
    name: 'terrane_ingest_clients',
    help: 'Connected MQTT device clients (embedded broker)',
    registers: [registry],
  })
  const tracked = new Gauge({
    name: 'terrane_ingest_replay_tracked_devices',
    help: 'Devices whose sequence window the replay guard holds',
    registers: [registry],
  })
  const signaturesPending = new Gauge({
    name: 'terrane_ingest_signatures_pending',
    help: 'Report signatures queued in or being verified by the signature pool',
    registers: [registry],
  })
  // Children are resolved once per label set: the per-report path does no label hashing.
  const accepted = reports.labels('accepted', '')
  const rejected = new Map<string, Counter.Internal>()
  return {
    registry,
    reportAccepted: () => accepted.inc(),
    reportRejected: (reason) => {
      let child = rejected.get(reason)
      if (child === undefined) rejected.set(reason, (child = reports.labels('rejected', reason)))
      child.inc()
    },
    reportBytes: (n) => bytes.inc(n),
    authAccepted: (mode) => auth.labels(mode, 'accepted', '').inc(),
    authRejected: (mode, reason) => auth.labels(mode, 'rejected', reason).inc(),
    aclDenied: (action) => acl.labels(action).inc(),
    certificateRejected: (reason) => certificates.labels(reason).inc(),
    sinkFailed: () => sink.inc(),
    setClients: (n) => clients.set(n),
    setTrackedDevices: (n) => tracked.set(n),
    setSignaturesPending: (n) => signaturesPending.set(n),
  }
}

/** Reads one counter value from a registry (tests and the CLI's status output). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return 0
  const { values } = await metric.get()
  let total = 0
  for (const v of values) {
    if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) total += v.value
  }
  return total
}
