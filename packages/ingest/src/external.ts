import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { IngestError } from './errors.ts'
import { reportsTopicFilter, sharedReportsTopicFilter } from './topics.ts'
import type { ReportProcessor } from './processor.ts'

export interface ExternalConsumerInit {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` or `mqtts://broker:8883`. */
  url: string
  /**
   * Shared-subscription group (MQTT 5 `$share/<group>/...`): every consumer with the same group
   * gets a disjoint share of the stream. Omit to receive every report.
   */
  group?: string
  /** @default `terrane-ingest-<random>` is NOT used: give each consumer a stable id. */
  clientId: string
  username?: string
  password?: string
  /** Subscription QoS. 1 = at-least-once (the replay guard drops redeliveries). @default 1 */
  qos?: 0 | 1
  /** Extra mqtt.js options (TLS material, keepalive). */
  options?: IClientOptions
}

export interface ExternalConsumerComponents {
  processor: ReportProcessor
}

/** The same ingest as a client of an external broker (mosquitto, EMQX, ...). */
export interface ExternalConsumer {
  start(): Promise<void>
  stop(): Promise<void>
  /** The filter actually subscribed. */
  readonly topicFilter: string
}

export function externalConsumer(init: ExternalConsumerInit) {
  return (components: ExternalConsumerComponents): ExternalConsumer => new DefaultExternalConsumer(components, init)
}

class DefaultExternalConsumer implements ExternalConsumer {
  readonly #c: ExternalConsumerComponents
  readonly #init: ExternalConsumerInit
  readonly topicFilter: string
  #client: MqttClient | undefined

  constructor(components: ExternalConsumerComponents, init: ExternalConsumerInit) {
    this.#c = components
    this.#init = init
    this.topicFilter = init.group === undefined ? reportsTopicFilter : sharedReportsTopicFilter(init.group)
  }

  async start(): Promise<void> {
    const options: IClientOptions = {
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      ...this.#init.options,
      clientId: this.#init.clientId,
    }
    if (this.#init.username !== undefined) options.username = this.#init.username
    if (this.#init.password !== undefined) options.password = this.#init.password
    let client: MqttClient
    try {
      client = await connectAsync(this.#init.url, options)
    } catch (err) {
      throw new IngestError('INGEST_BROKER', `cannot connect to ${this.#init.url}: ${(err as Error).message}`, { cause: err })
    }
    // mqtt.js handles one incoming packet at a time (its handleMessage hook would hold the PUBACK
    // but serialise verification, batches of one), so the consumer acks on receipt and verifies
    // behind it: a report in the signature queue when the process dies is lost (at most once from
    // here on). The pool's queue bound refuses (counts 'overloaded') rather than buffer without end.
    client.on('message', (topic, payload) => {
      void this.#c.processor.submit(topic, payload)
    })
    try {
      const granted = await client.subscribeAsync(this.topicFilter, { qos: this.#init.qos ?? 1 })
      if (granted.some((g) => g.qos >= 128)) throw new Error('refused')
    } catch (err) {
      await client.endAsync(true)
      throw new IngestError('INGEST_BROKER', `broker refused the subscription ${this.topicFilter}`, { cause: err })
    }
    this.#client = client
  }

  async stop(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    if (client !== undefined) await client.endAsync()
  }
}
