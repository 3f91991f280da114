// The node's DePIN service: an embedded MQTT ingest whose device directory is the devices module,
// per-epoch report collection, this validator's Proof-of-Coverage verifier (runEpoch at each epoch
// boundary, entropy = the boundary block's hash) and the coverage settlement transactions.
import type { Logger } from 'pino'
import { signTx, type ChainStore, type Msg } from '@terrane/chain'
import { toHex } from '@terrane/codec'
import { blockHash, type Block } from '@terrane/consensus'
import { accountIdOfPublicKey, addressOfPublicKey, type Signer } from '@terrane/crypto'
import { allDeviceStatuses, committedModuleStore as devicesStore, deviceById } from '@terrane/devices'
import { committedModuleStore as coverageStore, epochState, shareSchedule, verifierOf } from '@terrane/coverage'
import { createIngest, type Ingest, type VerifiedReport } from '@terrane/ingest'
import type { SimulatedManufacturer } from '@terrane/device'
import { decodeReportBody, type SignedDeviceReport } from '@terrane/reports'
import {
  coverageParams,
  diagnose,
  emptyHistory,
  runEpoch,
  type CoverageHistory,
  type CoverageParams,
  type DeviceRecord,
  type EpochResult,
} from '@terrane/verifier'
import type { TerraneNode } from '../node.ts'
import { EpochRecordStore, type EpochRecord } from './results.ts'
import { DevnetSimulation, type DevnetSimulationInit } from './simulation.ts'

/** Payouts per `coverage/submit-payouts` transaction (the coverage README's chunk size). */
export const payoutsPerChunkMax = 60
/** Reports kept per epoch; beyond it new ones are dropped (counted in the log). */
export const reportsPerEpochMax = 200_000
/** Epochs of collected reports kept in memory (the current one and a late one). */
const reportEpochsMax = 4
const txFeeMicro = 1_000n

export interface DepinServiceInit {
  /** MQTT port of the embedded ingest (0: a free port). */
  mqttPort: number
  /** @default '127.0.0.1' */
  host?: string
  /** Simulated devices run in this process (devnets). @default none */
  simulation?: DevnetSimulationInit & { manufacturer: SimulatedManufacturer; faucet: Signer }
}

export interface DepinServiceComponents {
  node: TerraneNode
  chainStore: ChainStore
  logger: Logger
  dataDir: string
  /** The validator's operator key: signs the coverage settlement. null: collect and score only. */
  operator: Signer | null
}

interface SlotRecord {
  entropy: Uint8Array
  startMs: number
}

/** What the API reads. */
export interface DepinView {
  readonly records: EpochRecordStore
  readonly chainStore: ChainStore
  readonly simulation: DevnetSimulation | undefined
}

/**
 * Protocol parameters of the off-chain verifier on a devnet: one challenge slot per chain epoch,
 * every device challenged in it, no beacon rate limit (epochs are seconds long); emission and the
 * share schedule come from the chain.
 */
export function devnetVerifierParams(chainId: string, emissionPerEpochMicro: bigint, schedule: CoverageParams['coverageSchedule']) {
  return coverageParams({
    chainId,
    slotsPerEpoch: 1,
    challengePpm: 1_000_000,
    beaconIntervalMsMin: 0,
    // The devnet's simulated devices send local entropy with every beacon.
    localEntropyRequired: true,
    emissionPerEpochMicro,
    ...(schedule.length > 0 ? { coverageSchedule: schedule } : {}),
  })
}

export class DepinService implements DepinView {
  readonly records: EpochRecordStore
  readonly chainStore: ChainStore
  simulation: DevnetSimulation | undefined
  readonly #init: DepinServiceInit
  readonly #c: DepinServiceComponents
  readonly #params: CoverageParams
  readonly #epochBlocks: number
  readonly #reports = new Map<number, SignedDeviceReport[]>()
  #slots = new Map<number, SlotRecord>()
  #history: CoverageHistory = emptyHistory()
  #ingest: Ingest | undefined
  #offBlock: (() => void) | undefined
  #work: Promise<void> = Promise.resolve()
  #nonce = 0
  readonly #uploaded = new Set<number>()
  readonly #pendingPayouts = new Map<number, EpochResult>()

  constructor(init: DepinServiceInit, components: DepinServiceComponents) {
    this.#init = init
    this.#c = components
    this.chainStore = components.chainStore
    this.records = new EpochRecordStore(components.dataDir)
    const chain = components.node.genesis.chain
    this.#epochBlocks = Number(chain.params.epochBlocks)
    const schedule = shareSchedule(coverageStore(components.chainStore))
    this.#params = devnetVerifierParams(chain.chainId, BigInt(chain.params.emissionPerEpochMicro), schedule)
  }

  get params(): CoverageParams {
    return this.#params
  }

  get ingest(): Ingest | undefined {
    return this.#ingest
  }

  async start(): Promise<void> {
    const { node, logger } = this.#c
    await this.records.open()
    const saved = (await this.records.readState('verifier')) as { history: CoverageHistory; slots: Map<number, SlotRecord> } | undefined
    if (saved !== undefined) {
      this.#history = saved.history
      this.#slots = saved.slots
    }
    const devices = devicesStore(this.chainStore)
    this.#ingest = createIngest({
      chainId: node.genesis.chain.chainId,
      broker: { tcp: { host: this.#init.host ?? '127.0.0.1', port: this.#init.mqttPort } },
      challenge: { host: this.#init.host ?? '127.0.0.1', port: 0 },
    })({
      directory: {
        get: (deviceId) => {
          const d = deviceById(devices, deviceId)
          return d === undefined ? undefined : { publicKey: d.publicKey, status: 'active' }
        },
      },
      sink: { onReport: (v) => this.#collect(v) },
    })
    await this.#ingest.start()
    logger.info({ broker: this.#ingest.tcpUrl, challenge: this.#ingest.challengeUrl }, 'Started device ingest')
    this.#offBlock = node.onBlock((block) => {
      this.#work = this.#work.then(() => this.#onBlock(block)).catch((err: unknown) => logger.error({ err }, 'DePIN epoch work failed'))
    })
    const sim = this.#init.simulation
    if (sim !== undefined && sim.count > 0) {
      const ingest = this.#ingest
      this.simulation = new DevnetSimulation(sim, {
        node,
        devices,
        manufacturer: sim.manufacturer,
        faucet: sim.faucet,
        logger: logger.child({ component: 'simulation' }),
        params: this.#params,
        dataDir: this.#c.dataDir,
        broker: () => ({ brokerUrl: ingest.tcpUrl as string, challengeUrl: ingest.challengeUrl as string }),
      })
      // In the background: onboarding takes blocks, and startNode must return.
      void this.simulation.start().catch((err: unknown) => logger.error({ err }, 'Simulated devices failed to start'))
    }
  }

  #collect(v: VerifiedReport): void {
    const kind = v.report.kind
    if (kind !== 'beacon' && kind !== 'witness') return
    let epoch: number
    try {
      epoch = decodeReportBody(v.report as typeof v.report & { kind: 'beacon' | 'witness' }).epoch
    } catch {
      return // the verifier rejects malformed bodies; nothing to collect
    }
    let list = this.#reports.get(epoch)
    if (list === undefined) {
      this.#reports.set(epoch, (list = []))
      while (this.#reports.size > reportEpochsMax) this.#reports.delete(Math.min(...this.#reports.keys()))
    }
    if (list.length < reportsPerEpochMax) list.push(v.signed)
  }

  async #onBlock(block: Block): Promise<void> {
    const height = block.header.height
    await this.#uploadAgreedPayouts()
    if (height % this.#epochBlocks !== 0) return
    const epoch = height / this.#epochBlocks
    const entropy = blockHash(block.header)
    this.#slots.set(epoch, { entropy, startMs: block.header.timeMs })
    this.simulation?.onEpoch(epoch, entropy, block.header.timeMs)
    const previous = this.#slots.get(epoch - 1)
    if (previous !== undefined) await this.#closeEpoch(epoch - 1, previous, block)
    for (const e of this.#slots.keys()) if (e < epoch - 1) this.#slots.delete(e)
    await this.records.writeState('verifier', { history: this.#history, slots: this.#slots })
  }

  async #closeEpoch(epoch: number, slot: SlotRecord, boundary: Block): Promise<void> {
    const statuses = allDeviceStatuses(devicesStore(this.chainStore))
    if (statuses.length === 0) return
    const devices: DeviceRecord[] = statuses.map(({ device }) => ({
      deviceId: device.deviceId,
      publicKey: device.publicKey,
      owner: device.owner,
      location: device.location,
      region: (device.capabilities.radioBands[0] ?? 'eu868').toUpperCase(),
      antennaGainDbi: 2,
    }))
    const result = runEpoch({
      epoch,
      params: this.#params,
      devices,
      slots: [{ slot: 0, entropy: slot.entropy, startMs: slot.startMs, endMs: boundary.header.timeMs }],
      reports: this.#reports.get(epoch) ?? [],
      attestationFailed: statuses.filter((s) => !s.status.isEarning).map((s) => s.device.deviceId),
      history: this.#history,
    })
    this.#history = result.nextHistory
    this.#reports.delete(epoch)
    const record: EpochRecord = {
      epoch,
      height: boundary.header.height,
      digestHash: toHex(result.digest.hash),
      poolMicro: result.digest.poolMicro,
      payouts: result.payouts.map((p) => ({ ...p })),
      verdicts: result.verdicts.map((v) => ({
        reportId: toHex(v.reportId),
        deviceId: v.deviceId,
        kind: v.kind,
        status: v.status,
        reason: v.reason ?? '',
        beaconReportId: v.beaconReportId === undefined ? '' : toHex(v.beaconReportId),
      })),
      diagnosis: Object.fromEntries([...result.explanations.keys()].map((id) => [id, diagnose(id, result)])),
    }
    await this.records.put(record)
    this.#c.logger.info(
      { epoch, reports: result.verdicts.length, payouts: result.payouts.length, digest: record.digestHash.slice(0, 16) },
      'Scored coverage epoch',
    )
    if (!this.#isVerifier()) return
    const { hash: _hash, ...digest } = result.digest
    this.#submit([{ type: 'coverage/submit-digest', ...digest }])
    this.#pendingPayouts.set(epoch, result)
  }

  #isVerifier(): boolean {
    const operator = this.#c.operator
    if (operator === null) return false
    const v = verifierOf(coverageStore(this.chainStore), accountIdOfPublicKey(operator.publicKey))
    return v !== undefined
  }

  /** Once an epoch's digest has its quorum, upload the payout list (if nobody completed it yet). */
  async #uploadAgreedPayouts(): Promise<void> {
    for (const [epoch, result] of this.#pendingPayouts) {
      const state = epochState(coverageStore(this.chainStore), epoch)
      if (state === undefined) continue
      this.#pendingPayouts.delete(epoch)
      if (state.status !== 'agreed' || this.#uploaded.has(epoch)) continue
      this.#uploaded.add(epoch)
      const payouts = result.payouts
      for (let i = 0; i * payoutsPerChunkMax < payouts.length || i === 0; i++) {
        const chunk = payouts.slice(i * payoutsPerChunkMax, (i + 1) * payoutsPerChunkMax)
        this.#submit([
          { type: 'coverage/submit-payouts', epoch, chunkIndex: i, payouts: chunk, isLast: (i + 1) * payoutsPerChunkMax >= payouts.length },
        ])
      }
    }
  }

  #submit(messages: Msg[]): void {
    const { node, logger } = this.#c
    const operator = this.#c.operator as Signer
    const sender = accountIdOfPublicKey(operator.publicKey)
    const nonce = Math.max(this.#nonce, node.app.account(sender).nonce)
    const tx = signTx(
      node.app.txBodySchema,
      { chainId: node.genesis.chain.chainId, sender, nonce, feeMicro: txFeeMicro, expiryHeight: 0, messages },
      [operator],
    )
    const result = node.submitTx(tx)
    if (!result.accepted) {
      logger.warn({ type: messages[0]?.type, reason: result.reason }, 'Coverage settlement tx refused by the mempool')
      return
    }
    this.#nonce = nonce + 1
    logger.info({ type: messages[0]?.type, operator: addressOfPublicKey(operator.publicKey), nonce }, 'Submitted coverage settlement tx')
  }

  async stop(): Promise<void> {
    this.#offBlock?.()
    await this.simulation?.stop()
    await this.#work
    await this.#ingest?.stop()
  }
}
