/* NON-DETERMINISTIC FILE, by design: the device-side update client fetches over HTTP and caches
   metadata and images on disk (through tuf-js). */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Updater } from 'tuf-js'
import { FirmwareError, type FirmwareErrorCode } from '../errors.ts'

export interface FirmwareUpdaterInit {
  /** e.g. `http://127.0.0.1:8080/metadata` */
  readonly metadataUrl: string
  /** e.g. `http://127.0.0.1:8080/targets` */
  readonly targetUrl: string
  /** Where trusted metadata and downloaded images are kept (created if missing). */
  readonly cacheDir: string
  /** The root.json the device was provisioned with; used only if none is cached yet. */
  readonly trustedRoot: Uint8Array
}

export interface FirmwareImage {
  readonly name: string
  readonly bytes: Uint8Array
  readonly sha256: string
  readonly custom: Record<string, unknown>
}

/** Maps tuf-js refusals (by class name; tuf-js does not export them) to stable codes. */
function codeOf(err: unknown): FirmwareErrorCode {
  const name = (err as { constructor?: { name?: string } })?.constructor?.name ?? ''
  switch (name) {
    case 'ExpiredMetadataError':
      return 'FIRMWARE_METADATA_EXPIRED'
    case 'BadVersionError':
    case 'EqualVersionError':
      return 'FIRMWARE_ROLLBACK'
    case 'UnsignedMetadataError':
      return 'FIRMWARE_BAD_SIGNATURE'
    case 'LengthOrHashMismatchError':
    case 'DownloadLengthMismatchError':
      return 'FIRMWARE_TARGET_MISMATCH'
    case 'DownloadHTTPError':
    case 'DownloadError':
      return 'FIRMWARE_FETCH'
    case 'RuntimeError':
      return codeOfTargetsLoad((err as Error).message ?? '')
    default:
      return 'FIRMWARE_UPDATE_FAILED'
  }
}

/**
 * tuf-js 5.0.1 re-throws any failure to load targets metadata as a RuntimeError carrying only
 * the original message (updater.js, loadTargets): classify by that message, narrowly.
 */
function codeOfTargetsLoad(message: string): FirmwareErrorCode {
  if (!message.startsWith('Unable to load targets')) return 'FIRMWARE_UPDATE_FAILED'
  if (/was signed by \d+\/\d+ keys/.test(message)) return 'FIRMWARE_BAD_SIGNATURE'
  if (/expired/i.test(message)) return 'FIRMWARE_METADATA_EXPIRED'
  if (/version/i.test(message)) return 'FIRMWARE_ROLLBACK'
  return 'FIRMWARE_UPDATE_FAILED'
}

function wrap(err: unknown): FirmwareError {
  if (err instanceof FirmwareError) return err
  return new FirmwareError(codeOf(err), (err as Error).message ?? String(err), { cause: err })
}

/**
 * The device-side firmware update client: tuf-js (the TUF reference client for JavaScript) does
 * the whole TUF client workflow (root rotation, timestamp, snapshot, targets, expiry, rollback,
 * thresholds, length and hash checks); this only wires directories and maps errors to codes.
 */
export class FirmwareUpdater {
  private readonly init: FirmwareUpdaterInit
  private readonly metadataDir: string
  private readonly targetDir: string

  constructor(init: FirmwareUpdaterInit) {
    this.init = init
    this.metadataDir = join(init.cacheDir, 'metadata')
    this.targetDir = join(init.cacheDir, 'targets')
  }

  private async updater(): Promise<Updater> {
    await mkdir(this.metadataDir, { recursive: true })
    await mkdir(this.targetDir, { recursive: true })
    const rootPath = join(this.metadataDir, 'root.json')
    try {
      await readFile(rootPath)
    } catch {
      await writeFile(rootPath, this.init.trustedRoot)
    }
    return new Updater({
      metadataDir: this.metadataDir,
      metadataBaseUrl: this.init.metadataUrl,
      targetDir: this.targetDir,
      targetBaseUrl: this.init.targetUrl,
    })
  }

  /** Refreshes metadata and returns the signed description of a target, or throws FIRMWARE_NOT_FOUND. */
  async check(
    name: string,
  ): Promise<{ readonly name: string; readonly length: number; readonly sha256: string; readonly custom: Record<string, unknown> }> {
    try {
      const updater = await this.updater()
      await updater.refresh()
      const info = await updater.getTargetInfo(name)
      if (info === undefined) throw new FirmwareError('FIRMWARE_NOT_FOUND', `no firmware target ${name}`)
      return { name, length: info.length, sha256: info.hashes['sha256'] ?? '', custom: info.custom }
    } catch (err) {
      throw wrap(err)
    }
  }

  /** Refreshes metadata, downloads the target and checks its length and hash against it. */
  async download(name: string): Promise<FirmwareImage> {
    try {
      const updater = await this.updater()
      await updater.refresh()
      const info = await updater.getTargetInfo(name)
      if (info === undefined) throw new FirmwareError('FIRMWARE_NOT_FOUND', `no firmware target ${name}`)
      const path = join(this.targetDir, name.replaceAll('/', '_'))
      await updater.downloadTarget(info, path)
      return { name, bytes: new Uint8Array(await readFile(path)), sha256: info.hashes['sha256'] ?? '', custom: info.custom }
    } catch (err) {
      throw wrap(err)
    }
  }
}
