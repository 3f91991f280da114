/**
 * Seeded sample data for a {@link MemoryBackend}: accounts, validators,
 * delegations, devices spread over cells, proofs, rewards with explanations,
 * agreements, channels, state entries and blocks with transactions. The same
 * seed gives the same chain. Used by the API and SDK tests and the benchmark.
 */
import type { MemoryBackend } from './memory-backend.ts'
import type { AccountDto, DeviceDto } from './schemas.ts'

/** SplitMix32-style PRNG (no Math.random anywhere). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32
  }
}

const bech32Chars = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'

/** A string that matches the Address pattern (not a real checksum: fixtures only). */
export function fakeAddress(random: () => number): string {
  let s = 'trn1'
  for (let i = 0; i < 38; i++) s += bech32Chars[Math.floor(random() * 32)]
  return s
}

function hex(random: () => number, bytes: number): string {
  let s = ''
  for (let i = 0; i < bytes; i++)
    s += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0')
  return s
}

export interface PopulateInit {
  /** @default 1 */
  seed?: number
  /** @default 20 */
  accounts?: number
  /** @default 100 */
  devices?: number
  /** Blocks to commit (each with 1..4 transactions). @default 5 */
  blocks?: number
  /** @default 4 */
  validators?: number
}

export interface Population {
  accounts: AccountDto[]
  devices: DeviceDto[]
  cells: string[]
  stateKeys: Uint8Array[]
  txHashes: string[]
}

/** Fills the backend through `commitBlock`: setup block first, then `blocks` blocks of activity. */
export function populateMemoryBackend(backend: MemoryBackend, init: PopulateInit = {}): Population {
  const random = seededRandom(init.seed ?? 1)
  const accounts: AccountDto[] = Array.from({ length: init.accounts ?? 20 }, (_, i) => ({
    address: fakeAddress(random),
    balance: String(Math.floor(random() * 1e9) * 1000),
    nonce: i % 7,
    kind: i === 0 ? 'module' : i % 5 === 1 ? 'multisig' : 'user',
  }))
  const validators = Array.from({ length: init.validators ?? 4 }, () => {
    const address = fakeAddress(random)
    accounts.push({ address, balance: '1000000', nonce: 0, kind: 'validator' })
    return {
      address,
      publicKey: hex(random, 32),
      tokens: '1000000000',
      votingPower: '1000',
      commissionBps: 500,
      status: 'bonded' as const,
      isJailed: false,
    }
  })
  const cells = ['8a2a1072b59ffff', '8a2a1072b597fff', '8a2a1072b5b7fff', '8a2a10728847fff']
  const owners = accounts.filter((a) => a.kind === 'user')
  const devices: DeviceDto[] = Array.from({ length: init.devices ?? 100 }, (_, i) => ({
    id: `dev-${i.toString().padStart(5, '0')}`,
    owner: (owners[i % owners.length] as AccountDto).address,
    model: i % 2 === 0 ? 'hotspot-v2' : 'sensor-air',
    h3Cell: cells[i % cells.length] as string,
    attestation:
      i % 10 === 9
        ? { status: 'rejected', reason: 'certificate_expired', checkedHeight: 1 }
        : { status: 'verified', reason: '', checkedHeight: 1 },
    registeredHeight: 1,
    isActive: i % 10 !== 9,
  }))
  const stateKeys = accounts.map((a) => new TextEncoder().encode(`bank/balance/${a.address}`))
  backend.commitBlock({
    accounts,
    validators,
    devices,
    delegations: owners.slice(0, 6).map((o, i) => ({
      delegator: o.address,
      validator: (validators[i % validators.length] as { address: string }).address,
      shares: '1000',
      amount: '1000',
    })),
    agreements: [
      {
        id: 'agr-1',
        provider: (owners[0] as AccountDto).address,
        customer: (owners[1] as AccountDto).address,
        deviceIds: devices.slice(0, 2).map((d) => d.id),
        service: 'data-relay',
        pricePerEpoch: '250000',
        durationEpochs: 29,
        startEpoch: 1,
        endEpoch: 30,
        status: 'active',
        sla: { uptimeBpsMin: 9_900, latencyP95MsMax: 200, bandwidthKbpsMin: 1_000, penaltyBps: 1_000, breachesMax: 3 },
        // Epochs 1-5 settled: 3 met (paid), 1 breached (refunded, 10% of the bond forfeited), 1 without figures (refunded).
        escrow: {
          escrowed: '7250000',
          escrowHeld: '6000000',
          paid: '750000',
          refunded: '500000',
          bond: '2000000',
          bondHeld: '1800000',
          penalised: '200000',
        },
        settlement: { epochsMet: 3, epochsBreached: 1, epochsNoData: 1, consecutiveBreaches: 0, lastSettledEpoch: 5 },
      },
    ],
    channels: [
      {
        id: 'ch-1',
        payer: (owners[1] as AccountDto).address,
        payee: (owners[0] as AccountDto).address,
        deposit: '5000000',
        redeemed: '1200000',
        nonce: 3,
        expiresHeight: 10_000,
        status: 'open',
      },
    ],
    state: stateKeys.map((k, i) => [k, new TextEncoder().encode((accounts[i] as AccountDto).balance)]),
    rounds: [{ round: 0, step: 'propose' }],
  })
  const txHashes: string[] = []
  const blockCount = init.blocks ?? 5
  for (let b = 0; b < blockCount; b++) {
    const txCount = 1 + Math.floor(random() * 4)
    const epoch = b + 1
    const block = backend.commitBlock({
      txs: Array.from({ length: txCount }, () => {
        const from = owners[Math.floor(random() * owners.length)] as AccountDto
        const to = owners[Math.floor(random() * owners.length)] as AccountDto
        const bytes = Uint8Array.from({ length: 40 + Math.floor(random() * 80) }, () => Math.floor(random() * 256))
        const isFailed = random() < 0.1
        return { bytes, accounts: [from.address, to.address], code: isFailed ? 5 : 0, reason: isFailed ? 'insufficient_funds' : '' }
      }),
      deviceProofs: devices.slice(0, 10).map((d, i) => ({
        id: `p-${epoch}-${i}`,
        deviceId: d.id,
        kind: i % 3 === 0 ? ('service' as const) : ('coverage' as const),
        epoch,
        witnessCount: 3 + i,
        verdict: d.attestation.status === 'verified' ? ('accepted' as const) : ('rejected' as const),
        reason: d.attestation.status === 'verified' ? '' : 'attestation_rejected',
      })),
      rewards: devices.slice(0, 10).map((d, i) => ({
        deviceId: d.id,
        epoch,
        amount: String(1000 * (i + 1) + 500),
        explanation: [
          { name: 'coverage', amount: String(1000 * (i + 1)), detail: `${3 + i} witnesses in cell ${d.h3Cell}` },
          { name: 'service', amount: '500', detail: 'data transferred' },
        ],
      })),
      rounds: [
        { round: 0, step: 'propose' },
        { round: 0, step: 'commit' },
      ],
    })
    txHashes.push(...block.txHashes)
  }
  return { accounts, devices, cells, stateKeys, txHashes }
}
