// The devnet manufacturer: @terrane/device's simulated manufacturer with its root key derived from the
// devnet seed, registered in the devnet genesis and kept in a file each node reads. Devnets only.
// The certificates themselves are made by @terrane/device (one implementation); this file owns the
// devnet file.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fromHex, toHex } from '@terrane/codec'
import { createSimulatedManufacturer, createSimulatedRootCertificate, type SimulatedManufacturer } from '@terrane/device'
import { DepinError } from './errors.ts'

/** The file a devnet node reads to run simulated devices: `<home>/keys/devnet_manufacturer.json`. */
export const manufacturerFileFormat = 'terrane-devnet-manufacturer'

export interface DevnetManufacturerFile {
  format: typeof manufacturerFileFormat
  manufacturerId: string
  /** Hex seed of the root key (deviceKeyFromSeed). */
  rootKeySeed: string
  rootCertificateDer: string
  genesisTimeMs: number
  /** The devnet seed: the simulator derives its faucets and device keys from it. */
  faucetSeed: string
}

/**
 * Creates the devnet root certificate. The key is a function of `rootKeySeed`; the certificate's
 * ECDSA signature is randomised by WebCrypto, so it is made once (at writeDevnet time) and kept.
 * Certificates are valid from 30 days before genesis to 5 years after.
 */
export async function createDevnetManufacturer(init: {
  manufacturerId: string
  rootKeySeed: Uint8Array
  genesisTimeMs: number
  devnetSeed: string
}): Promise<DevnetManufacturerFile> {
  const rootDer = await createSimulatedRootCertificate({
    manufacturerId: init.manufacturerId,
    nowMs: init.genesisTimeMs,
    rootKeySeed: init.rootKeySeed,
  })
  return {
    format: manufacturerFileFormat,
    manufacturerId: init.manufacturerId,
    rootKeySeed: toHex(init.rootKeySeed),
    rootCertificateDer: toHex(rootDer),
    genesisTimeMs: init.genesisTimeMs,
    faucetSeed: init.devnetSeed,
  }
}

export async function writeManufacturerFile(path: string, file: DevnetManufacturerFile): Promise<void> {
  // Private, as the node's key files (mode 0600).
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
}

export async function readManufacturerFile(path: string): Promise<DevnetManufacturerFile> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new DepinError('DEPIN_MANUFACTURER_FILE', `cannot read ${path}: ${(err as Error).message}`)
  }
  const f = parsed as Partial<DevnetManufacturerFile>
  if (f.format !== manufacturerFileFormat || typeof f.rootKeySeed !== 'string' || typeof f.rootCertificateDer !== 'string')
    throw new DepinError('DEPIN_MANUFACTURER_FILE', `${path} is not a ${manufacturerFileFormat} file`)
  return f as DevnetManufacturerFile
}

/**
 * The issuing side of the devnet manufacturer: an intermediate (fresh per process, signed by the
 * devnet root) that issues device certificates.
 */
export async function devnetManufacturerIssuer(file: DevnetManufacturerFile): Promise<SimulatedManufacturer> {
  return createSimulatedManufacturer({
    manufacturerId: file.manufacturerId,
    nowMs: file.genesisTimeMs,
    rootKeySeed: fromHex(file.rootKeySeed),
    rootDer: fromHex(file.rootCertificateDer),
  })
}
