// Simulated devices in the node process (devnets): attested onboarding through real transactions,
// then heartbeats, beacons and witness reports through the node's own MQTT ingest, each epoch
// following the challenge schedule drawn from the boundary block's hash.
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { signTx, type Msg } from '@terrane/chain'
import { sha256 } from '@terrane/codec'
import { accountIdOfPublicKey, addressOfPublicKey, seedSigner, type Signer } from '@terrane/crypto'
import {
  buildOnboardingRequest,
  deviceAgent,
  FileSequenceStore,
  SoftwareSecureElement,
  seededRng,
  simulatePositions,
  type DeviceAgent,
  type Region,
  type SimulatedManufacturer,
} from '@terrane/device'
import { deviceById, type DeviceView } from '@terrane/devices'
import type { ModuleStore } from '@terrane/chain'
import { beaconPayload, beaconPayloadHash } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import {
  cellCentre,
  distanceMeters,
  freeSpaceRssiMaxDbm,
  pathLossDb,
  scheduleChallenges,
  SeededRng,
  type CoverageParams,
} from '@terrane/verifier'
import { blockHash } from '@terrane/consensus'
import type { TerraneNode } from '../node.ts'
import { DepinError } from './errors.ts'

/** Default region of simulated devices: Berlin, 15 km. */
export const defaultSimulationRegion: Region = { lat: 52.52, lng: 13.405, radiusKm: 15 }
/** Each simulated owner account holds this many devices. */
export const devicesPerOwner = 3
/** Funds sent to each simulated owner: onboarding fees (10 TRN each) plus transaction fees. */
const ownerFundingMicro = 100_000_000n
/** Ceiling on the onboarding fee the owners accept. */
const onboardingFeeMaxMicro = 40_000_000n
const txFeeMicro = 1_000n
/** Blocks to wait for funding or onboarding before giving up (logged, not thrown). */
const waitBlocksMax = 60
// EU868 channel 0; EIRP limit 16 dBm; a 2 dBi antenna (as @terrane/device's simulator).
const frequencyHz = 868_100_000
const txPowerDbm = 16
const antennaGainDbi = 2

export interface DevnetSimulationInit {
  count: number
  region?: Region
  seed?: string
}

export interface DevnetSimulationComponents {
  node: TerraneNode
  devices: ModuleStore
  manufacturer: SimulatedManufacturer
  /** Funds the owners. */
  faucet: Signer
  logger: Logger
  params: CoverageParams
  dataDir: string
  broker: () => { brokerUrl: string; challengeUrl: string }
}

interface SimDevice {
  index: number
  key: ReturnType<typeof deviceKeyFromSeed>
  secureElement?: SoftwareSecureElement
  owner: Signer
  location: string
  agent?: DeviceAgent
}

/** What the simulation did, for logs and tests. */
export interface SimulationStatus {
  onboarded: number
  connected: number
  beacons: number
  witnesses: number
  heartbeats: number
  lastEpoch: number
}

export class DevnetSimulation {
  readonly #init: Required<DevnetSimulationInit>
  readonly #c: DevnetSimulationComponents
  readonly #devices: SimDevice[]
  readonly #rng: SeededRng
  readonly #nonces = new Map<string, number>()
  #isStopped = false
  #isReady = false
  #round: Promise<void> = Promise.resolve()
  readonly status: SimulationStatus = { onboarded: 0, connected: 0, beacons: 0, witnesses: 0, heartbeats: 0, lastEpoch: -1 }

  constructor(init: DevnetSimulationInit, components: DevnetSimulationComponents) {
    this.#init = { region: defaultSimulationRegion, seed: 'terrane-devnet-devices', ...init }
    this.#c = components
    this.#rng = new SeededRng(`${this.#init.seed}/radio`)
    const positions = simulatePositions(init.count, this.#init.region, seededRng(this.#init.seed))
    this.#devices = positions.map((p, index) => ({
      index,
      key: deviceKeyFromSeed(`${this.#init.seed}/device/${index}`),
      owner: seedSigner(sha256(new TextEncoder().encode(`${this.#init.seed}/owner/${Math.floor(index / devicesPerOwner)}`))),
      location: p.location,
    }))
  }

  get deviceIds(): string[] {
    return this.#devices.map((d) => d.key.deviceId)
  }

  get locations(): string[] {
    return this.#devices.map((d) => d.location)
  }

  get owners(): string[] {
    return [...new Set(this.#devices.map((d) => addressOfPublicKey(d.owner.publicKey)))]
  }

  get isReady(): boolean {
    return this.#isReady
  }

  /** Funds owners, onboards devices that are not registered yet, connects them all. */
  async start(): Promise<void> {
    const { node, logger } = this.#c
    for (const d of this.#devices) {
      const chain = await this.#c.manufacturer.issueDeviceCertificate(d.key.publicKey, d.index)
      d.secureElement = new SoftwareSecureElement(d.key.privateKey, { certificateChainDer: chain })
    }
    const pending = this.#devices.filter((d) => this.#view(d) === undefined)
    if (pending.length > 0) {
      const owners = [...new Map(pending.map((d) => [addressOfPublicKey(d.owner.publicKey), d.owner])).values()]
      const needFunds = owners.filter((o) => node.app.account(accountIdOfPublicKey(o.publicKey)).balanceMicro < ownerFundingMicro / 2n)
      for (const o of needFunds)
        this.#submit(this.#c.faucet, [{ type: 'bank/send', to: accountIdOfPublicKey(o.publicKey), amountMicro: ownerFundingMicro }])
      await this.#waitBlocks(() => needFunds.every((o) => node.app.account(accountIdOfPublicKey(o.publicKey)).balanceMicro > 0n), 'funding')
      const height = node.blockStore.height
      const anchor = await node.blockStore.block(height)
      if (anchor === undefined) throw new DepinError('DEPIN_SIMULATION', `no block at height ${height} to anchor onboarding`)
      for (const d of pending) {
        const request = await buildOnboardingRequest(
          {
            chainId: node.genesis.chain.chainId,
            owner: addressOfPublicKey(d.owner.publicKey),
            location: d.location,
            capabilities: { radioBands: ['eu868'], storageBytes: 8 * 1024 ** 3, bandwidthKbps: 50_000 },
            feeMaxMicroTrn: onboardingFeeMaxMicro,
            anchorBlockHash: blockHash(anchor.header),
            anchorTimeMs: anchor.header.timeMs,
          },
          { secureElement: d.secureElement as SoftwareSecureElement, owner: d.owner },
        )
        this.#submit(d.owner, [{ type: 'devices/onboard', ...request }])
      }
      await this.#waitBlocks(() => pending.every((d) => this.#view(d) !== undefined), 'onboarding')
    }
    const onboarded = this.#devices.filter((d) => this.#view(d) !== undefined)
    this.status.onboarded = onboarded.length
    logger.info({ onboarded: onboarded.length, of: this.#devices.length }, 'Onboarded simulated devices')
    const { brokerUrl, challengeUrl } = this.#c.broker()
    await mkdir(join(this.#c.dataDir, 'depin', 'sim-seq'), { recursive: true })
    for (const d of onboarded) {
      if (this.#isStopped) return
      const agent = deviceAgent({
        chainId: node.genesis.chain.chainId,
        brokerUrl,
        auth: { mode: 'token', challengeUrl },
        firmwareVersion: '1.0.0',
        // The simulation sends heartbeats at each epoch start; the agent's own timer is a fallback.
        heartbeatIntervalMs: 3_600_000,
        mqtt: { keepalive: 300 },
      })({
        secureElement: d.secureElement as SoftwareSecureElement,
        // Sequence numbers survive restarts, or the ingest's replay guard would refuse them.
        sequence: new FileSequenceStore({ path: join(this.#c.dataDir, 'depin', 'sim-seq', String(d.index)) }),
        clock: { nowMs: () => Date.now() },
      })
      await agent.start()
      d.agent = agent
    }
    this.status.connected = onboarded.length
    this.#isReady = true
    logger.info({ connected: onboarded.length }, 'Connected simulated devices to the ingest')
  }

  /** Queues one epoch's radio round: heartbeats, then every challenged device beacons and its neighbours witness. */
  onEpoch(epoch: number, entropy: Uint8Array, startMs: number): void {
    if (!this.#isReady || this.#isStopped) return
    this.#round = this.#round
      .then(() => this.#beaconRound(epoch, entropy, startMs))
      .catch((err: unknown) => this.#c.logger.warn({ err, epoch }, 'Simulated radio round failed'))
  }

  async #beaconRound(epoch: number, entropy: Uint8Array, startMs: number): Promise<void> {
    const live = this.#devices.filter((d) => d.agent !== undefined)
    await Promise.all(live.map((d) => (d.agent as DeviceAgent).heartbeat()))
    this.status.heartbeats += live.length
    const params = this.#c.params
    const schedule = scheduleChallenges({
      params,
      slots: [{ slot: 0, entropy, startMs, endMs: startMs + params.epochMs }],
      deviceIds: live.map((d) => d.key.deviceId),
      lastChallengeMs: new Map(),
    })
    const challenged = schedule.bySlot.get(0) ?? new Set<string>()
    for (const b of live) {
      if (this.#isStopped) return
      if (!challenged.has(b.key.deviceId)) continue
      // Local entropy, drawn as the beacon goes out and published only in the signed beacon report: a
      // witness can name the payload only if it heard the beacon (the verifier requires it).
      const localEntropy = new Uint8Array(randomBytes(32))
      const payload = beaconPayload(entropy, b.key.deviceId, undefined, localEntropy)
      await (b.agent as DeviceAgent).report('beacon', { epoch, entropy, payload, localEntropy, frequencyHz, txPowerDbm, antennaGainDbi })
      this.status.beacons++
      const sends: Promise<unknown>[] = []
      for (const w of live) {
        if (w === b) continue
        const distance = distanceMeters(cellCentre(b.location), cellCentre(w.location))
        // Log-distance path loss with log-normal shadowing (the verifier's own radio model), never
        // above the free-space bound.
        const predicted = txPowerDbm + antennaGainDbi + antennaGainDbi - pathLossDb(params.pathLoss, distance, frequencyHz)
        const rssiDbm = Math.min(
          predicted + params.pathLoss.shadowingDb * this.#rng.normal(),
          freeSpaceRssiMaxDbm(distance, frequencyHz, txPowerDbm + antennaGainDbi, antennaGainDbi) - 0.5,
        )
        if (rssiDbm < params.pathLoss.sensitivityDbm) continue
        this.status.witnesses++
        sends.push(
          (w.agent as DeviceAgent).report('witness', {
            beaconDeviceId: b.key.deviceId,
            beaconPayloadHash: beaconPayloadHash(payload),
            epoch,
            rssiCentiDbm: Math.round(rssiDbm * 100),
            snrCentiDb: Math.round((rssiDbm - params.pathLoss.sensitivityDbm - 10) * 100),
            frequencyHz,
            receivedAtMs: Date.now(),
            location: w.location,
          }),
        )
      }
      await Promise.all(sends)
    }
    this.status.lastEpoch = epoch
  }

  #view(d: SimDevice): DeviceView | undefined {
    return deviceById(this.#c.devices, d.key.deviceId)
  }

  #submit(signer: Signer, messages: Msg[]): void {
    const { node } = this.#c
    const sender = accountIdOfPublicKey(signer.publicKey)
    const key = addressOfPublicKey(signer.publicKey)
    const nonce = Math.max(this.#nonces.get(key) ?? 0, node.app.account(sender).nonce)
    const tx = signTx(
      node.app.txBodySchema,
      { chainId: node.genesis.chain.chainId, sender, nonce, feeMicro: txFeeMicro, expiryHeight: 0, messages },
      [signer],
    )
    const result = node.submitTx(tx)
    if (!result.accepted) {
      this.#c.logger.warn(
        { sender: key, reason: result.reason, log: 'log' in result ? result.log : undefined },
        'Simulated device tx refused',
      )
      return
    }
    this.#nonces.set(key, nonce + 1)
  }

  async #waitBlocks(predicate: () => boolean, what: string): Promise<void> {
    if (predicate()) return
    await new Promise<void>((resolve) => {
      let blocks = 0
      const off = this.#c.node.onBlock(() => {
        blocks++
        if (this.#isStopped || predicate() || blocks >= waitBlocksMax) {
          off()
          if (!predicate() && !this.#isStopped) this.#c.logger.warn({ what, blocks }, 'Gave up waiting for simulated devices')
          resolve()
        }
      })
    })
  }

  async stop(): Promise<void> {
    this.#isStopped = true
    await this.#round
    await Promise.all(this.#devices.map((d) => d.agent?.stop()))
  }
}
