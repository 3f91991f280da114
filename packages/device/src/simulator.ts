import { randomBytes } from 'node:crypto'
import { greatCircleDistance } from 'h3-js'
import { sha256 } from '@terrane/codec'
import { addressOfPublicKey, seedSigner } from '@terrane/crypto'
import { beaconPayload, beaconPayloadHash, type SignedDeviceReport } from '@terrane/reports'
import { deviceKeyFromSeed } from '@terrane/reports/testing'
import { DeviceError } from './errors.ts'
import { deviceAgent, type AgentAuth, type Clock, type DeviceAgent, type Timers } from './agent.ts'
import { createSimulatedManufacturer, type SimulatedManufacturer } from './manufacturer.ts'
import { buildOnboardingRequest, radioBands, type OnboardingRequest } from './onboarding.ts'
import { simulatePositions, type Region } from './positions.ts'
import { seededRng, type Rng } from './rng.ts'
import { SoftwareSecureElement } from './secure-element.ts'
import { MemorySequenceStore } from './sequence.ts'

/** Devices connected to the broker at once while a simulation starts. */
export const connectConcurrencyMax = 32
/** Witnesses kept per beacon (Helium selected 14). */
export const witnessesPerBeaconMax = 14
/** Beyond this a witness is not plausible (Helium: 100 km; LoRa links rarely exceed 15 km). */
export const witnessDistanceKmMax = 15

export interface SimulateDevicesInit {
  count: number
  region: Region
  /** Same seed, same positions, keys, owners and reports. */
  seed: string | number
  chainId: string
  /** Devices per owner account. @default 5 */
  devicesPerOwner?: number
  /** Anchor block of the onboarding challenges. @default SHA-256 of the seed, time = clock now */
  anchorBlockHash?: Uint8Array
  firmwareVersion?: string
  /** Reuse a manufacturer (e.g. one registered in a devnet genesis). @default a fresh simulated one */
  manufacturer?: SimulatedManufacturer
}

export interface SimulatedDevice {
  index: number
  secureElement: SoftwareSecureElement
  deviceId: string
  lat: number
  lng: number
  location: string
  owner: string
  request: OnboardingRequest
}

export interface ConnectInit {
  brokerUrl: string
  auth: { mode: 'token'; challengeUrl: string } | { mode: 'anonymous' }
}

export interface BeaconRoundResult {
  beacons: number
  witnesses: number
}

export interface Simulation {
  readonly devices: readonly SimulatedDevice[]
  readonly manufacturer: SimulatedManufacturer
  /** Connects every device's agent to the broker (bounded concurrency). */
  connect(init: ConnectInit): Promise<void>
  /** One heartbeat from every connected device; resolves when the broker acknowledged all. */
  heartbeatAll(): Promise<number>
  /**
   * One proof-of-coverage round: `beaconers` devices beacon with `entropy`, and nearby devices
   * (free-space path loss plus seeded shadowing above -130 dBm, within witnessDistanceKmMax)
   * file witness reports.
   */
  beaconRound(init: { epoch: number; entropy: Uint8Array; beaconers: number }): Promise<BeaconRoundResult>
  stop(): Promise<void>
}

export interface SimulateDevicesComponents {
  clock: Clock
  timers?: Timers
}

const frequencyHz = 868_100_000 // EU868 channel 0
const txPowerDbm = 16 // EU868 EIRP limit 16 dBm
const antennaGainDbi = 2
const speedOfLightMps = 299_792_458

/** Free-space path loss in dB: 20 log10(4 pi d f / c). */
export function freeSpacePathLossDb(distanceM: number, frequencyHzValue: number): number {
  return 20 * Math.log10((4 * Math.PI * Math.max(distanceM, 1) * frequencyHzValue) / speedOfLightMps)
}

/**
 * Creates `count` simulated devices in `region`: positions, seeded device keys, manufacturer
 * certificates, owners, and signed onboarding requests. `connect` then drives them through the
 * real MQTT ingest path.
 *
 * @example
 * const sim = await simulateDevices({ count: 100, region: { lat: 52.52, lng: 13.4, radiusKm: 20 }, seed: 1, chainId })({ clock })
 * await sim.connect({ brokerUrl: ingest.tcpUrl, auth: { mode: 'token', challengeUrl: ingest.challengeUrl } })
 * await sim.heartbeatAll()
 */
export function simulateDevices(init: SimulateDevicesInit) {
  return async (components: SimulateDevicesComponents): Promise<Simulation> => {
    const rng = seededRng(init.seed)
    const nowMs = components.clock.nowMs()
    const positions = simulatePositions(init.count, init.region, rng)
    const manufacturer = init.manufacturer ?? (await createSimulatedManufacturer({ manufacturerId: 'terrane-sim', nowMs }))
    const devicesPerOwner = init.devicesPerOwner ?? 5
    const anchorBlockHash = init.anchorBlockHash ?? sha256(new TextEncoder().encode(`anchor:${init.seed}`))
    const devices: SimulatedDevice[] = []
    for (const [index, position] of positions.entries()) {
      const key = deviceKeyFromSeed(`${init.seed}/device/${index}`)
      const chain = await manufacturer.issueDeviceCertificate(key.publicKey, index)
      const secureElement = new SoftwareSecureElement(key.privateKey, { certificateChainDer: chain })
      const owner = seedSigner(sha256(new TextEncoder().encode(`${init.seed}/owner/${Math.floor(index / devicesPerOwner)}`)))
      const ownerAddress = addressOfPublicKey(owner.publicKey)
      const request = await buildOnboardingRequest(
        {
          chainId: init.chainId,
          owner: ownerAddress,
          location: position.location,
          capabilities: { radioBands: [radioBands[0]], storageBytes: 8 * 1024 ** 3, bandwidthKbps: 10_000 + rng.int(90_000) },
          feeMaxMicroTrn: 40_000_000n,
          anchorBlockHash,
          anchorTimeMs: nowMs,
        },
        { secureElement, owner },
      )
      devices.push({
        index,
        secureElement,
        deviceId: secureElement.deviceId,
        lat: position.lat,
        lng: position.lng,
        location: position.location,
        owner: ownerAddress,
        request,
      })
    }
    return new DefaultSimulation(init, components, devices, manufacturer, rng)
  }
}

class DefaultSimulation implements Simulation {
  readonly devices: readonly SimulatedDevice[]
  readonly manufacturer: SimulatedManufacturer
  readonly #init: SimulateDevicesInit
  readonly #components: SimulateDevicesComponents
  readonly #rng: Rng
  #agents = new Map<string, DeviceAgent>()

  constructor(
    init: SimulateDevicesInit,
    components: SimulateDevicesComponents,
    devices: SimulatedDevice[],
    manufacturer: SimulatedManufacturer,
    rng: Rng,
  ) {
    this.#init = init
    this.#components = components
    this.devices = devices
    this.manufacturer = manufacturer
    this.#rng = rng
  }

  async connect(init: ConnectInit): Promise<void> {
    const auth: AgentAuth = init.auth
    let next = 0
    const worker = async () => {
      while (next < this.devices.length) {
        const device = this.devices[next++]
        if (device === undefined) break
        const agent = deviceAgent({
          chainId: this.#init.chainId,
          brokerUrl: init.brokerUrl,
          auth,
          firmwareVersion: this.#init.firmwareVersion ?? '1.0.0',
          // The simulation drives heartbeats itself (heartbeatAll); the timer is the agent's own schedule.
          heartbeatIntervalMs: 3_600_000,
          mqtt: { keepalive: 300 },
        })({
          secureElement: device.secureElement,
          sequence: new MemorySequenceStore(),
          clock: this.#components.clock,
          ...(this.#components.timers === undefined ? {} : { timers: this.#components.timers }),
        })
        await agent.start()
        this.#agents.set(device.deviceId, agent)
      }
    }
    await Promise.all(Array.from({ length: Math.min(connectConcurrencyMax, this.devices.length) }, worker))
  }

  #agent(deviceId: string): DeviceAgent {
    const agent = this.#agents.get(deviceId)
    if (agent === undefined) throw new DeviceError('DEVICE_NOT_CONNECTED', 'connect() the simulation first')
    return agent
  }

  async heartbeatAll(): Promise<number> {
    const sent: Promise<SignedDeviceReport>[] = []
    for (const device of this.devices) sent.push(this.#agent(device.deviceId).heartbeat())
    return (await Promise.all(sent)).length
  }

  async beaconRound(init: { epoch: number; entropy: Uint8Array; beaconers: number }): Promise<BeaconRoundResult> {
    const count = Math.min(init.beaconers, this.devices.length)
    const chosen = new Set<number>()
    while (chosen.size < count) chosen.add(this.#rng.int(this.devices.length))
    let witnesses = 0
    const sends: Promise<unknown>[] = []
    for (const index of chosen) {
      const beaconer = this.devices[index]
      if (beaconer === undefined) continue
      // Local entropy, drawn when the beacon goes out and published only in the signed beacon report: a
      // witness can name the payload only if it heard the beacon (Helium's remote + local entropy).
      const localEntropy = new Uint8Array(randomBytes(32))
      const payload = beaconPayload(init.entropy, beaconer.deviceId, undefined, localEntropy)
      sends.push(
        this.#agent(beaconer.deviceId).report('beacon', {
          epoch: init.epoch,
          entropy: init.entropy,
          payload,
          localEntropy,
          frequencyHz,
          txPowerDbm,
          antennaGainDbi,
        }),
      )
      const heard = this.devices
        .filter((d) => d.index !== beaconer.index)
        .map((d) => ({ d, km: greatCircleDistance([d.lat, d.lng], [beaconer.lat, beaconer.lng], 'km') }))
        .filter((x) => x.km <= witnessDistanceKmMax)
        .map((x) => {
          // Free-space bound minus seeded shadowing (0..20 dB): never above what physics allows.
          const rssiDbm =
            txPowerDbm + antennaGainDbi - freeSpacePathLossDb(x.km * 1000, frequencyHz) + antennaGainDbi - this.#rng.next() * 20
          return { ...x, rssiDbm }
        })
        .filter((x) => x.rssiDbm > -130)
        .sort((a, b) => a.km - b.km)
        .slice(0, witnessesPerBeaconMax)
      const hash = beaconPayloadHash(payload)
      for (const w of heard) {
        witnesses++
        sends.push(
          this.#agent(w.d.deviceId).report('witness', {
            beaconDeviceId: beaconer.deviceId,
            beaconPayloadHash: hash,
            epoch: init.epoch,
            rssiCentiDbm: Math.round(w.rssiDbm * 100),
            snrCentiDb: Math.round((w.rssiDbm + 120) * 100 * 0.5),
            frequencyHz,
            receivedAtMs: this.#components.clock.nowMs(),
            location: w.d.location,
          }),
        )
      }
    }
    await Promise.all(sends)
    return { beacons: count, witnesses }
  }

  async stop(): Promise<void> {
    const agents = [...this.#agents.values()]
    this.#agents.clear()
    await Promise.all(agents.map((a) => a.stop()))
  }
}
