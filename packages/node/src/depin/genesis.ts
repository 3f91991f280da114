import { join } from 'node:path'
import { addressOfPublicKey, type Signer } from '@terrane/crypto'
import { createDevnetManufacturer, type DevnetManufacturerFile } from './manufacturer.ts'

/** Where a devnet node finds the devnet manufacturer (root key seed and certificate). */
export function manufacturerPath(home: string): string {
  return join(home, 'keys', 'devnet_manufacturer.json')
}

/** The devnet manufacturer's id in the devices registry. */
export const devnetManufacturerId = 'terrane-devnet'
/** Index of the faucet that administers the devices module on a devnet. */
export const devicesAdminFaucetIndex = 15
/** DePIN emission minted per coverage epoch on a devnet: 1,000 TRN. */
export const devnetEmissionPerEpochMicro = 1_000_000_000n
/** Bond each devnet validator's operator locks as a coverage verifier: 1,000 TRN. */
export const devnetVerifierBondMicro = 1_000_000_000n

export interface DevnetDepinInit {
  /** Seed of the devnet manufacturer's root key. */
  rootKeySeed: Uint8Array
  /** The devnet seed (faucets and simulated devices derive from it). */
  devnetSeed: string
  genesisTimeMs: number
  /** Operator account of every validator (they verify coverage). */
  operators: readonly string[]
  faucets: readonly Signer[]
}

export interface DevnetDepin {
  /** Genesis sections `devices` and `coverage`. */
  modules: Record<string, unknown>
  /** Chain parameter defaults the DePIN modules need (emission). */
  params: Record<string, unknown>
  manufacturer: DevnetManufacturerFile
}

/**
 * The DePIN genesis of a devnet: the devnet manufacturer registered with the devices module (admin:
 * faucet 15), every validator's operator bonded as a coverage verifier, the default coverage share
 * schedule (30% of emission from epoch 0) and 1,000 TRN of emission per epoch.
 */
export async function devnetDepinGenesis(init: DevnetDepinInit): Promise<DevnetDepin> {
  const manufacturer = await createDevnetManufacturer({
    manufacturerId: devnetManufacturerId,
    rootKeySeed: init.rootKeySeed,
    devnetSeed: init.devnetSeed,
    genesisTimeMs: init.genesisTimeMs,
  })
  const admin = init.faucets[devicesAdminFaucetIndex]
  if (admin === undefined) throw new RangeError(`a devnet has at least ${devicesAdminFaucetIndex + 1} faucets`)
  return {
    manufacturer,
    params: { emissionPerEpochMicro: devnetEmissionPerEpochMicro.toString() },
    modules: {
      devices: {
        admin: addressOfPublicKey(admin.publicKey),
        manufacturers: [{ manufacturerId: devnetManufacturerId, rootCertificates: [manufacturer.rootCertificateDer] }],
      },
      coverage: {
        verifiers: init.operators.map((address) => ({ address, bond: devnetVerifierBondMicro.toString() })),
        schedule: [{ fromEpoch: 0, shareBps: 3_000 }],
      },
    },
  }
}
