import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net'
import { createServer as createTlsServer, TLSSocket, type TlsOptions } from 'node:tls'
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import { deviceIdFromPublicKey } from '@terrane/attestation'
import { IngestError } from './errors.ts'
import { commandsTopic, deviceIdPattern, reportsTopic, reportsTopicFilter } from './topics.ts'
import type { Clock, DeviceDirectory } from './components.ts'
import type { AuthMode, IngestMetrics } from './metrics.ts'
import type { AuthRejectReason, AuthVerdict, SessionAuthority } from './session.ts'
import type { ReportProcessor } from './processor.ts'

/**
 * Verifies a TLS client certificate chain (leaf first, DER) against the registered manufacturers.
 * `attestationCertificateVerifier` adapts @terrane/attestation's X.509 verification to it.
 */
export interface ClientCertificateVerifier {
  verify(chainDer: readonly Uint8Array[], nowMs: number): { ok: true; publicKey: Uint8Array } | { ok: false; reason: string }
}

export interface ListenInit {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
}

export interface EmbeddedBrokerInit {
  /** Plain MQTT with session-token auth (needs the `session` component). Omit to disable. */
  tcp?: ListenInit
  /**
   * MQTT over TLS with the device certificate as client certificate (needs `certificates`).
   * `key`/`cert` are the server's own; the client chain is verified by the component, not by
   * OpenSSL's trust store, so revocation and manufacturer registration apply.
   */
  tls?: ListenInit & { key: string | Uint8Array; cert: string | Uint8Array }
  /** Extra OpenSSL options for the TLS listener (ciphers, minVersion). */
  tlsOptions?: TlsOptions
  /**
   * Reports being checked at once (aedes' delivery concurrency). Beyond it aedes queues messages,
   * and a client's socket is not read again until its last read is answered: TCP backpressure
   * reaches the devices. Must exceed the signature pool's batch size for batches to fill. @default 1024
   */
  reportsInFlightMax?: number
}

export interface EmbeddedBrokerComponents {
  processor: ReportProcessor
  metrics: IngestMetrics
  clock: Clock
  directory: DeviceDirectory
  session?: SessionAuthority
  certificates?: ClientCertificateVerifier
}

/** The default ingest: an in-process aedes MQTT broker whose only consumer is the report processor. */
export interface EmbeddedBroker {
  start(): Promise<void>
  stop(): Promise<void>
  /** Bound ports once started (undefined for a disabled listener). */
  readonly tcpPort: number | undefined
  readonly tlsPort: number | undefined
  /** Publishes to a device's commands topic (the only thing a device may subscribe to). */
  sendCommand(deviceId: string, payload: Uint8Array): Promise<void>
}

export function embeddedBroker(init: EmbeddedBrokerInit) {
  return (components: EmbeddedBrokerComponents): EmbeddedBroker => new DefaultEmbeddedBroker(components, init)
}

function authError(reason: AuthRejectReason): AuthenticateError {
  // MQTT 3.1.1 CONNACK 0x04 (bad user name or password) for credentials, 0x05 (not authorised) otherwise.
  const returnCode = reason === 'token_malformed' || reason === 'username_invalid' ? 4 : 5
  return Object.assign(new Error(`Refused: ${reason}`), { returnCode }) as AuthenticateError
}

class DefaultEmbeddedBroker implements EmbeddedBroker {
  readonly #c: EmbeddedBrokerComponents
  readonly #init: EmbeddedBrokerInit
  /** Authenticated device id of each connected client. */
  readonly #deviceOf = new WeakMap<Client, string>()
  #aedes: Aedes | undefined
  #tcp: Server | undefined
  #tls: Server | undefined
  #tcpPort: number | undefined
  #tlsPort: number | undefined
  #clients = 0

  constructor(components: EmbeddedBrokerComponents, init: EmbeddedBrokerInit) {
    if (init.tcp !== undefined && components.session === undefined)
      throw new IngestError('INGEST_CONFIG', 'the tcp listener needs a session authority component')
    if (init.tls !== undefined && components.certificates === undefined)
      throw new IngestError('INGEST_CONFIG', 'the tls listener needs a certificate verifier component')
    if (init.tcp === undefined && init.tls === undefined) throw new IngestError('INGEST_CONFIG', 'enable a tcp or a tls listener')
    this.#c = components
    this.#init = init
  }

  get tcpPort(): number | undefined {
    return this.#tcpPort
  }
  get tlsPort(): number | undefined {
    return this.#tlsPort
  }

  async start(): Promise<void> {
    const { metrics } = this.#c
    const aedes = await Aedes.createBroker({
      concurrency: this.#init.reportsInFlightMax ?? 1024,
      authenticate: (client, username, password, done) => {
        const isTls = client.conn instanceof TLSSocket
        const mode: AuthMode = isTls ? 'tls' : 'token'
        const verdict = isTls ? this.#authenticateTls(client.conn as TLSSocket, username) : this.#authenticateToken(username, password)
        let result: AuthVerdict = verdict
        // A client id is the device id (or `<deviceId>-<suffix>`), so no client can take over
        // another device's session (aedes disconnects an older client with the same id).
        if (result.ok && client.id !== result.deviceId && !client.id.startsWith(`${result.deviceId}-`))
          result = { ok: false, reason: 'client_id_mismatch', deviceId: result.deviceId }
        if (!result.ok) {
          metrics.authRejected(mode, result.reason)
          done(authError(result.reason), false)
          return
        }
        metrics.authAccepted(mode)
        this.#deviceOf.set(client, result.deviceId)
        done(null, true)
      },
      authorizePublish: (client, packet, callback) => {
        if (client === null) return callback(null) // the broker itself (commands)
        const deviceId = this.#deviceOf.get(client)
        if (deviceId === undefined || packet.topic !== reportsTopic(deviceId)) {
          metrics.aclDenied('publish')
          // MQTT 3.1.1 has no negative PUBACK: the broker closes the connection.
          return callback(new Error('Refused: foreign topic'))
        }
        callback(null)
      },
      authorizeSubscribe: (client, subscription, callback) => {
        const deviceId = this.#deviceOf.get(client)
        if (deviceId === undefined || subscription.topic !== commandsTopic(deviceId)) {
          metrics.aclDenied('subscribe')
          return callback(null, null) // SUBACK 0x80 for this filter; the connection stays
        }
        callback(null, subscription)
      },
    })
    this.#aedes = aedes
    aedes.on('clientReady', () => metrics.setClients(++this.#clients))
    aedes.on('clientDisconnect', () => metrics.setClients(--this.#clients))
    await new Promise<void>((resolve) =>
      aedes.subscribe(
        reportsTopicFilter,
        (packet, done) => {
          // QoS 1: aedes sends the PUBACK once this callback runs, so the device is acknowledged
          // only after the verdict (accepted or refused). A programmer error rejects and crashes.
          void this.#c.processor.submit(packet.topic, packet.payload as Uint8Array).finally(() => done())
        },
        resolve,
      ),
    )
    if (this.#init.tcp !== undefined) {
      this.#tcp = createTcpServer(aedes.handle)
      this.#tcpPort = await listen(this.#tcp, this.#init.tcp)
    }
    if (this.#init.tls !== undefined) {
      const { key, cert } = this.#init.tls
      this.#tls = createTlsServer(
        { ...this.#init.tlsOptions, key: toPem(key), cert: toPem(cert), requestCert: true, rejectUnauthorized: false },
        aedes.handle,
      )
      this.#tlsPort = await listen(this.#tls, this.#init.tls)
    }
  }

  async stop(): Promise<void> {
    const servers = [this.#tcp, this.#tls].filter((s) => s !== undefined)
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    if (this.#aedes !== undefined) await new Promise<void>((resolve) => this.#aedes?.close(() => resolve()))
    this.#aedes = undefined
    this.#tcp = this.#tls = undefined
  }

  async sendCommand(deviceId: string, payload: Uint8Array): Promise<void> {
    const aedes = this.#aedes
    if (aedes === undefined) throw new IngestError('INGEST_NOT_STARTED', 'broker not started')
    if (!deviceIdPattern.test(deviceId)) throw new IngestError('INGEST_CONFIG', 'not a device id')
    await new Promise<void>((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic: commandsTopic(deviceId), payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    )
  }

  #authenticateToken(username: string | undefined, password: Buffer | undefined): AuthVerdict {
    const session = this.#c.session
    if (session === undefined) return { ok: false, reason: 'token_malformed' }
    return session.authenticate(username, password === undefined ? undefined : new Uint8Array(password))
  }

  #authenticateTls(socket: TLSSocket, username: string | undefined): AuthVerdict {
    const verifier = this.#c.certificates
    if (verifier === undefined) return { ok: false, reason: 'certificate_rejected' }
    const chain = peerChain(socket)
    if (chain.length === 0) return { ok: false, reason: 'certificate_missing' }
    const result = verifier.verify(chain, this.#c.clock.nowMs())
    if (!result.ok) {
      this.#c.metrics.certificateRejected(result.reason)
      return { ok: false, reason: 'certificate_rejected' }
    }
    let deviceId: string
    try {
      deviceId = deviceIdFromPublicKey(result.publicKey)
    } catch {
      return { ok: false, reason: 'certificate_rejected' }
    }
    // The username is optional in TLS mode; if given it must name the certificate's device.
    if (username !== undefined && username !== '' && username !== deviceId) return { ok: false, reason: 'username_invalid', deviceId }
    const record = this.#c.directory.get(deviceId)
    if (record === undefined) return { ok: false, reason: 'unknown_device', deviceId }
    if (record.status !== 'active') return { ok: false, reason: 'device_inactive', deviceId }
    // TLS already proved possession of the certificate's key (CertificateVerify); it must be the registered one.
    if (deviceIdFromPublicKey(record.publicKey) !== deviceId) return { ok: false, reason: 'certificate_key_mismatch', deviceId }
    return { ok: true, deviceId }
  }
}

/** Chain the client sent, leaf first, as DER (at most 8 certificates: a bound on untrusted input). */
function peerChain(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = []
  let cert = socket.getPeerCertificate(true)
  const seen = new Set<string>()
  while (cert !== undefined && cert.raw !== undefined && out.length < 8) {
    if (seen.has(cert.fingerprint256)) break // a self-signed certificate is its own issuer
    seen.add(cert.fingerprint256)
    out.push(new Uint8Array(cert.raw))
    cert = cert.issuerCertificate
  }
  return out
}

function toPem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value)
}

async function listen(server: Server, init: ListenInit): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}
