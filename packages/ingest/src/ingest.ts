import { randomBytes } from 'node:crypto'
import type { Registry } from 'prom-client'
import { systemClock, type Clock, type DeviceDirectory } from './components.ts'
import { createIngestMetrics, type IngestMetrics } from './metrics.ts'
import { reportProcessor, type ReportProcessor, type ReportProcessorInit, type ReportSink } from './processor.ts'
import { sessionAuthority, type SessionAuthority, type SessionAuthorityInit } from './session.ts'
import { embeddedBroker, type ClientCertificateVerifier, type EmbeddedBroker, type EmbeddedBrokerInit } from './broker.ts'
import { challengeServer, type ChallengeServer, type ChallengeServerInit } from './challenge-server.ts'
import { createSignaturePool, type SignaturePoolInit, type SignatureVerifier } from './pool/signature-pool.ts'

export interface IngestInit extends ReportProcessorInit {
  /** Embedded broker listeners; `tcp` enables session tokens, `tls` client certificates. @default { tcp: {} } */
  broker?: EmbeddedBrokerInit
  /** Session-token options (the secret defaults to 32 random bytes per process). */
  session?: Partial<Omit<SessionAuthorityInit, 'chainId'>>
  /** The HTTP challenge endpoint for token mode. @default {} (on, loopback, free port) */
  challenge?: ChallengeServerInit | false
  /**
   * Signature verification off the broker thread: a worker pool verifying in batches. `false`
   * verifies on the broker's thread (one core). @default {} (one worker per core, batches of 64)
   */
  signaturePool?: SignaturePoolInit | false
}

export interface IngestComponents {
  directory: DeviceDirectory
  sink: ReportSink
  clock?: Clock
  registry?: Registry
  certificates?: ClientCertificateVerifier
}

/** The default ingest, wired: embedded broker + processor + session authority + challenge endpoint. */
export interface Ingest {
  readonly processor: ReportProcessor
  readonly metrics: IngestMetrics
  readonly session: SessionAuthority
  readonly broker: EmbeddedBroker
  /** The signature pool, unless `signaturePool: false`. */
  readonly signatures: SignatureVerifier | undefined
  /** `mqtt://127.0.0.1:<port>` of the token listener, once started. */
  readonly tcpUrl: string | undefined
  readonly tlsUrl: string | undefined
  /** Base URL of the challenge endpoint, once started. */
  readonly challengeUrl: string | undefined
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * @example
 * const ingest = createIngest({ chainId: 'terrane-devnet' })({ directory, sink: { onReport: (v) => queue.push(v) } })
 * await ingest.start()
 */
export function createIngest(init: IngestInit) {
  return (components: IngestComponents): Ingest => {
    const clock = components.clock ?? systemClock
    const metrics = createIngestMetrics(components.registry)
    const signatures = init.signaturePool === false ? undefined : createSignaturePool(init.signaturePool ?? {})
    const processor = reportProcessor(init)({
      clock,
      directory: components.directory,
      sink: components.sink,
      metrics,
      ...(signatures === undefined ? {} : { signatures }),
    })
    const session = sessionAuthority({ secret: randomBytes(32), ...init.session, chainId: init.chainId })({
      clock,
      directory: components.directory,
    })
    const brokerInit = init.broker ?? { tcp: {} }
    const broker = embeddedBroker(brokerInit)({
      processor,
      metrics,
      clock,
      directory: components.directory,
      session,
      ...(components.certificates === undefined ? {} : { certificates: components.certificates }),
    })
    const challenge: ChallengeServer | undefined = init.challenge === false ? undefined : challengeServer(init.challenge ?? {})({ session })
    const host = (listen: { host?: string } | undefined) => listen?.host ?? '127.0.0.1'
    return {
      processor,
      metrics,
      session,
      broker,
      signatures,
      get tcpUrl() {
        return broker.tcpPort === undefined ? undefined : `mqtt://${host(brokerInit.tcp)}:${broker.tcpPort}`
      },
      get tlsUrl() {
        return broker.tlsPort === undefined ? undefined : `mqtts://${host(brokerInit.tls)}:${broker.tlsPort}`
      },
      get challengeUrl() {
        return challenge?.url
      },
      async start() {
        await signatures?.ready()
        await broker.start()
        await challenge?.start()
      },
      async stop() {
        await challenge?.stop()
        await broker.stop()
        await signatures?.close()
      },
    }
  }
}
