// Certificates, keys and a chain driver made by the test itself (no fixtures on disk).
import '@terrane/attestation' // loads the Reflect metadata polyfill @peculiar/x509 needs
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { latLngToCell } from 'h3-js'
import { encode } from '@terrane/codec'
import { accountIdOfPublicKey, domainMessage, encodeAddress, seedSigner, type Signer } from '@terrane/crypto'
import { deviceIdFromPublicKey, encodeChallenge } from '@terrane/attestation'
import {
  createChainApp,
  MemoryChainStore,
  multisigAddress,
  multisigConfig,
  parseGenesis,
  signTx,
  type ChainApp,
  type ChainModule,
  type FinalizeBlockResponse,
  type Msg,
  type MultisigConfig,
} from '@terrane/chain'
import {
  onboardingBodySchema,
  onboardingNonce,
  onboardingSignatureKind,
  type Capabilities,
  type OnboardingBody,
  type OnboardingRequest,
} from '../src/index.ts'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKeyPair = webcrypto.CryptoKeyPair
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
export const dayMs = 86_400_000
/** Block time of the first block. */
export const t0 = Date.UTC(2026, 0, 1)
export const chainId = 'terrane-test-1'
export const TRN = 1_000_000n

export interface Party {
  name: string
  keys: CryptoKeyPair
  der: Uint8Array
}

let serialCounter = 0x100

export async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair
}

export async function issue(init: {
  name: string
  issuer?: Party
  isCa?: boolean
  pathLength?: number
  notBeforeMs?: number
  notAfterMs?: number
  keys?: CryptoKeyPair
}): Promise<Party> {
  const keys = init.keys ?? (await newKeys())
  const isCa = init.isCa ?? false
  const usage = isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serialCounter++).toString(16).padStart(4, '0'),
    subject: `CN=${init.name}`,
    issuer: `CN=${(init.issuer ?? init).name}`,
    notBefore: new Date(init.notBeforeMs ?? t0 - 30 * dayMs),
    notAfter: new Date(init.notAfterMs ?? t0 + 365 * dayMs),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: (init.issuer ?? { keys }).keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(isCa, init.pathLength, true), new x509.KeyUsagesExtension(usage, true)],
  })
  return { name: init.name, keys, der: new Uint8Array(cert.rawData) }
}

/** A manufacturer root and intermediate, as a factory line has them. */
export async function makePki(prefix = 'Acme') {
  const root = await issue({ name: `${prefix} Root`, isCa: true, pathLength: 1 })
  const intermediate = await issue({ name: `${prefix} Intermediate`, issuer: root, isCa: true, pathLength: 0 })
  return { root, intermediate }
}

export type Pki = Awaited<ReturnType<typeof makePki>>

/** A device with its certificate chain (leaf first). */
export interface TestDevice {
  party: Party
  chain: Uint8Array[]
  publicKey: Uint8Array
  deviceId: string
}

export async function makeDevice(pki: Pki, init: { name?: string; notAfterMs?: number; isCa?: boolean } = {}): Promise<TestDevice> {
  const party = await issue({ name: init.name ?? `device ${serialCounter}`, issuer: pki.intermediate, ...init })
  return deviceOf(party, [party.der, pki.intermediate.der])
}

export async function deviceOf(party: Party, chain: Uint8Array[]): Promise<TestDevice> {
  const publicKey = new Uint8Array(await webcrypto.subtle.exportKey('raw', party.keys.publicKey))
  return { party, chain, publicKey, deviceId: deviceIdFromPublicKey(publicKey) }
}

export async function signP1363(party: Party, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.sign(alg, party.keys.privateKey, message))
}

export const capabilities: Capabilities = { radioBands: ['eu868'], storageBytes: 1 << 30, bandwidthKbps: 10_000 }

export function cellAt(lat: number, lng: number): string {
  return latLngToCell(lat, lng, 12)
}

/** Builds an onboarding request as @terrane/device's buildOnboardingRequest does. */
export async function onboardingRequest(
  device: TestDevice,
  owner: Signer,
  init: { location?: string; anchorTimeMs: number; feeMaxMicroTrn?: bigint; chainId?: string; signer?: Party },
): Promise<OnboardingRequest> {
  const location = init.location ?? cellAt(48.8566, 2.3522)
  const fields = {
    chainId: init.chainId ?? chainId,
    deviceId: device.deviceId,
    owner: encodeAddress(accountIdOfPublicKey(owner.publicKey)),
    location,
    anchorBlockHash: new Uint8Array(32).fill(7),
  }
  const challenge = encodeChallenge({ issuedAtMs: init.anchorTimeMs, nonce: onboardingNonce(fields) })
  const body: OnboardingBody = {
    ...fields,
    ownerPublicKey: owner.publicKey,
    capabilities,
    feeMaxMicroTrn: init.feeMaxMicroTrn ?? 100n * TRN,
    anchorTimeMs: init.anchorTimeMs,
    attestation: {
      kind: 'x509',
      certificateChainDer: device.chain,
      publicKey: device.publicKey,
      challenge,
      challengeSignature: await signP1363(init.signer ?? device.party, challenge),
    },
  }
  const ownerSignature = owner.sign(
    domainMessage({ chainId: body.chainId, kind: onboardingSignatureKind }, encode(onboardingBodySchema, body)),
  )
  return { body, ownerSignature }
}

export function signerOf(i: number, tag = 1): Signer {
  const seed = new Uint8Array(32)
  seed[0] = tag
  seed[1] = i
  return seedSigner(seed)
}

export function addressOf(s: Signer): Uint8Array {
  return accountIdOfPublicKey(s.publicKey)
}

/** Drives a real chain app block by block, as the consensus driver does. */
export class Harness {
  readonly app: ChainApp
  readonly store = new MemoryChainStore()
  readonly users = [0, 1, 2, 3].map((i) => signerOf(i, 1))
  readonly adminKeys = [0, 1, 2].map((i) => signerOf(i, 9))
  readonly adminConfig: MultisigConfig = multisigConfig(
    2,
    this.adminKeys.map((s) => ({ publicKey: s.publicKey, weight: 1 })),
  )
  readonly admin = multisigAddress(this.adminConfig)
  height = 0
  timeMs = t0 - 1000
  private readonly nonces = new Map<string, number>()
  private isAdminRevealed = false

  constructor(module: ChainModule, moduleGenesis: (admin: string) => unknown, params: Record<string, unknown> = {}) {
    const operator = signerOf(0, 2)
    const genesis = parseGenesis({
      chainId,
      params: { epochBlocks: 10, ...params },
      accounts: [
        ...this.users.map((u) => ({ address: encodeAddress(addressOf(u)), balance: String(1000n * TRN) })),
        { address: encodeAddress(addressOf(operator)), balance: String(200n * TRN) },
      ],
      multisigAccounts: [
        {
          threshold: 2,
          keys: this.adminConfig.keys.map((key) => ({ publicKey: Buffer.from(key.publicKey).toString('hex'), weight: 1 })),
          balance: String(10n * TRN),
        },
      ],
      validators: [
        {
          operator: encodeAddress(addressOf(operator)),
          consensusKey: Buffer.from(signerOf(0, 3).publicKey).toString('hex'),
          selfStake: String(100n * TRN),
        },
      ],
      modules: { [module.name]: moduleGenesis(encodeAddress(this.admin)) },
    })
    this.app = createChainApp({ genesis, store: this.store, modules: [module] })
    this.app.initChain()
  }

  async block(txs: Uint8Array[], timeStepMs = 1000): Promise<FinalizeBlockResponse> {
    this.height++
    this.timeMs += timeStepMs
    const res = await this.app.finalizeBlock({
      height: this.height,
      timeMs: this.timeMs,
      proposer: new Uint8Array(20),
      txs,
      lastCommitVotes: [],
      misbehavior: [],
    })
    await this.app.commit()
    return res
  }

  /** Time of the next block. */
  get nextTimeMs(): number {
    return this.timeMs + 1000
  }

  tx(signer: Signer, messages: Msg[]): Uint8Array {
    return this.txFrom(addressOf(signer), [signer], messages)
  }

  adminTx(messages: Msg[]): Uint8Array {
    const reveal = !this.isAdminRevealed
    this.isAdminRevealed = true
    return this.txFrom(this.admin, this.adminKeys.slice(0, 2), messages, reveal ? this.adminConfig : undefined)
  }

  private txFrom(sender: Uint8Array, signers: Signer[], messages: Msg[], multisig?: MultisigConfig): Uint8Array {
    const key = Buffer.from(sender).toString('hex')
    const nonce = this.nonces.get(key) ?? this.app.account(sender).nonce
    const bytes = signTx(
      this.app.txBodySchema,
      { chainId, sender, nonce, feeMicro: 1_000n, expiryHeight: 0, messages },
      signers,
      multisig === undefined ? {} : { multisig },
    )
    this.nonces.set(key, nonce + 1)
    return bytes
  }

  /** Runs one block with the txs and returns their results as [code name or 'OK', log]. */
  async run(...txs: Uint8Array[]): Promise<Array<{ code: number; log: string }>> {
    const res = await this.block(txs)
    return res.txResults.map((r) => ({ code: r.code, log: r.log }))
  }

  assertInvariants(): void {
    const report = this.app.checkInvariants()
    if (!report.isOk) throw new Error(`invariants broken: ${report.violations.join('; ')}`)
  }
}
