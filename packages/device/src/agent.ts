import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { fromHex } from '@terrane/codec'
import {
  encodeSignedReport,
  makeReport,
  reportSigningBytes,
  type ReportBodies,
  type ReportKind,
  type SignedDeviceReport,
} from '@terrane/reports'
import { commandsTopic, encodeSessionToken, reportsTopic, sessionSigningBytes } from '@terrane/ingest/protocol'
import { DeviceError } from './errors.ts'
import type { SecureElement } from './secure-element.ts'
import type { SequenceStore } from './sequence.ts'

export interface Clock {
  nowMs(): number
}

/** Timers the agent uses (injected so tests drive them). */
export interface Timers {
  setInterval(fn: () => void, intervalMs: number): unknown
  clearInterval(handle: unknown): void
}

export const systemTimers: Timers = {
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms)
    handle.unref()
    return handle
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
}

/**
 * How the device proves itself to the broker:
 * - `token`: fetch a challenge from the ingest, sign it, MQTT password = session token (plain TCP).
 * - `tls`: MQTT over TLS with the device certificate chain as client certificate.
 * - `anonymous`: username = device id only, for a broker that authenticates otherwise (dev only;
 *   reports are still signed and verified by the ingest).
 */
export type AgentAuth =
  | { mode: 'token'; challengeUrl: string }
  | { mode: 'tls'; keyPem: string; certificateChainPem: string; caPem?: string }
  | { mode: 'anonymous' }

/** Firmware update check (packages/firmware's `FirmwareUpdater` satisfies it). */
export interface FirmwareChecker {
  check(
    name: string,
  ): Promise<{ readonly name: string; readonly length: number; readonly sha256: string; readonly custom: Record<string, unknown> }>
}

export interface DeviceAgentInit {
  chainId: string
  brokerUrl: string
  auth: AgentAuth
  /** Reported in heartbeats. */
  firmwareVersion: string
  /** @default 3_600_000 (hourly: Helium Mobile requires 12 hourly heartbeats a day) */
  heartbeatIntervalMs?: number
  /** SHA-256 of the measured boot chain, reported in heartbeats when known. */
  measuredBoot?: Uint8Array
  /** Firmware target name to check for updates (with a `firmware` component). */
  firmwareTarget?: string
  /** MQTT client id suffix: the client id is `<deviceId>` or `<deviceId>-<suffix>`. */
  clientIdSuffix?: string
  /** Extra mqtt.js options. */
  mqtt?: IClientOptions
}

export interface DeviceAgentComponents {
  secureElement: SecureElement
  sequence: SequenceStore
  clock: Clock
  timers?: Timers
  firmware?: FirmwareChecker
  /** Called with each command payload the network sends the device. */
  onCommand?: (payload: Uint8Array) => void
  /** Called when a periodic heartbeat fails (the agent keeps running). */
  onError?: (err: unknown) => void
}

export interface FirmwareStatus {
  current: string
  available: string | undefined
  isUpdateAvailable: boolean
}

/** The agent a device (or its gateway) runs: connects, heartbeats, signs and publishes reports. */
export interface DeviceAgent {
  readonly deviceId: string
  start(signal?: AbortSignal): Promise<void>
  stop(): Promise<void>
  /** Signs and publishes a report (QoS 1); resolves once the broker acknowledged it. */
  report<K extends ReportKind>(kind: K, body: ReportBodies[K]): Promise<SignedDeviceReport>
  /** Sends one heartbeat now. */
  heartbeat(): Promise<SignedDeviceReport>
  /** Asks the firmware repository (TUF) whether a newer release of firmwareTarget exists. */
  checkFirmware(): Promise<FirmwareStatus>
}

export function deviceAgent(init: DeviceAgentInit) {
  return (components: DeviceAgentComponents): DeviceAgent => new DefaultDeviceAgent(components, init)
}

class DefaultDeviceAgent implements DeviceAgent {
  readonly #c: DeviceAgentComponents
  readonly #init: DeviceAgentInit
  readonly #startedAtMs: number
  readonly #timers: Timers
  #client: MqttClient | undefined
  #heartbeatTimer: unknown

  constructor(components: DeviceAgentComponents, init: DeviceAgentInit) {
    const interval = init.heartbeatIntervalMs ?? 3_600_000
    if (!Number.isSafeInteger(interval) || interval < 1000)
      throw new DeviceError('DEVICE_CONFIG', 'heartbeatIntervalMs must be at least 1000')
    this.#c = components
    this.#init = init
    this.#timers = components.timers ?? systemTimers
    this.#startedAtMs = components.clock.nowMs()
  }

  get deviceId(): string {
    return this.#c.secureElement.deviceId
  }

  async start(signal?: AbortSignal): Promise<void> {
    const deviceId = this.deviceId
    const clientId = this.#init.clientIdSuffix === undefined ? deviceId : `${deviceId}-${this.#init.clientIdSuffix}`
    const options: IClientOptions = {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...this.#init.mqtt,
      clientId,
      username: deviceId,
    }
    const auth = this.#init.auth
    if (auth.mode === 'token') options.password = Buffer.from(await this.#sessionToken(auth.challengeUrl, signal))
    if (auth.mode === 'tls') {
      options.key = auth.keyPem
      options.cert = auth.certificateChainPem
      if (auth.caPem !== undefined) options.ca = auth.caPem
    }
    let client: MqttClient
    try {
      client = await connectAsync(this.#init.brokerUrl, options)
    } catch (err) {
      throw new DeviceError('DEVICE_CONNECT', `broker refused ${deviceId}: ${(err as Error).message}`, { cause: err })
    }
    this.#client = client
    client.on('message', (_topic, payload) => this.#c.onCommand?.(new Uint8Array(payload)))
    await client.subscribeAsync(commandsTopic(deviceId), { qos: 1 })
    this.#heartbeatTimer = this.#timers.setInterval(() => {
      this.heartbeat().catch((err: unknown) => this.#c.onError?.(err))
    }, this.#init.heartbeatIntervalMs ?? 3_600_000)
  }

  async stop(): Promise<void> {
    if (this.#heartbeatTimer !== undefined) this.#timers.clearInterval(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
    const client = this.#client
    this.#client = undefined
    if (client !== undefined) await client.endAsync()
  }

  async report<K extends ReportKind>(kind: K, body: ReportBodies[K]): Promise<SignedDeviceReport> {
    const client = this.#client
    if (client === undefined) throw new DeviceError('DEVICE_NOT_CONNECTED', 'start() the agent first')
    const seq = await this.#c.sequence.next()
    const report = makeReport({ deviceId: this.deviceId, seq, timeMs: this.#c.clock.nowMs(), kind }, body)
    const signature = await this.#c.secureElement.sign(reportSigningBytes(this.#init.chainId, report))
    const signed: SignedDeviceReport = { report, signature }
    await client.publishAsync(reportsTopic(this.deviceId), Buffer.from(encodeSignedReport(signed)), { qos: 1 })
    return signed
  }

  heartbeat(): Promise<SignedDeviceReport> {
    const uptimeSeconds = Math.floor((this.#c.clock.nowMs() - this.#startedAtMs) / 1000)
    return this.report('heartbeat', {
      uptimeSeconds,
      firmwareVersion: this.#init.firmwareVersion,
      ...(this.#init.measuredBoot === undefined ? {} : { measuredBoot: this.#init.measuredBoot }),
    })
  }

  async checkFirmware(): Promise<FirmwareStatus> {
    const firmware = this.#c.firmware
    const target = this.#init.firmwareTarget
    if (firmware === undefined || target === undefined) throw new DeviceError('DEVICE_CONFIG', 'no firmware component or firmwareTarget')
    const info = await firmware.check(target)
    const version = typeof info.custom.version === 'string' ? info.custom.version : undefined
    return {
      current: this.#init.firmwareVersion,
      available: version,
      isUpdateAvailable: version !== undefined && version !== this.#init.firmwareVersion,
    }
  }

  async #sessionToken(challengeUrl: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const deviceId = this.deviceId
    let nonceHex: string
    try {
      const res = await fetch(`${challengeUrl}/v1/devices/${deviceId}/challenge`, signal === undefined ? {} : { signal })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      const body = (await res.json()) as { nonce?: unknown }
      if (typeof body.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(body.nonce)) throw new Error('no nonce in the answer')
      nonceHex = body.nonce
    } catch (err) {
      throw new DeviceError('DEVICE_CHALLENGE', `cannot get a session challenge: ${(err as Error).message}`, { cause: err })
    }
    const nonce = fromHex(nonceHex)
    const signature = await this.#c.secureElement.sign(sessionSigningBytes(this.#init.chainId, deviceId, nonce))
    return encodeSessionToken({ nonce, signature })
  }
}
