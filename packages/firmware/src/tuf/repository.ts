import { createHash } from 'node:crypto'
import { canonicalize } from '@tufjs/canonical-json'
import { FirmwareError } from '../errors.ts'
import type { TufPublicKey, TufSigner } from './keys.ts'

/** TUF specification version written into every role. */
export const tufSpecVersion = '1.0.31'
/** Largest firmware image the publisher accepts (16 MiB). */
export const firmwareBytesMax = 16 * 1024 * 1024
/** Targets per repository. */
export const targetsCountMax = 1024

export type TufRoleName = 'root' | 'targets' | 'snapshot' | 'timestamp'
export const tufRoleNames: readonly TufRoleName[] = ['root', 'targets', 'snapshot', 'timestamp']

export interface RoleKeys {
  readonly signers: readonly TufSigner[]
  /** Signatures needed; @default 1 */
  readonly threshold?: number
}

export interface FirmwareRepositoryInit {
  readonly roles: Readonly<Record<TufRoleName, RoleKeys>>
}

export interface FirmwareTarget {
  /** Target path, e.g. `acme/sensor-v2/1.4.0.bin` */
  readonly name: string
  readonly bytes: Uint8Array
  /** Free-form signed data: version, hardware model, bootloader hash... */
  readonly custom?: Record<string, unknown>
}

export interface PublishInit {
  /** Expiry of each role, Unix ms. Typical: root 1 y, targets 3 months, snapshot 1 week, timestamp 1 day. */
  readonly expiresMs: Readonly<Record<TufRoleName, number>>
}

interface SignedEnvelope {
  signed: Record<string, unknown>
  signatures: { keyid: string; sig: string }[]
}

function isoSeconds(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new FirmwareError('FIRMWARE_BAD_INPUT', 'expiry must be an integer ms timestamp')
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * A TUF repository publisher for firmware: root, targets, snapshot and timestamp roles, Ed25519
 * keys with thresholds, expiries and monotonically increasing versions. It writes standard TUF
 * JSON (non-consistent snapshots), served as static files: `root.json`, `N.root.json`,
 * `timestamp.json`, `snapshot.json`, `targets.json` under /metadata, images under /targets.
 */
export class FirmwareRepository {
  private roles: Record<TufRoleName, RoleKeys>
  private readonly targets = new Map<string, FirmwareTarget>()
  private readonly versions: Record<TufRoleName, number> = { root: 0, targets: 0, snapshot: 0, timestamp: 0 }
  private previousRootSigners: readonly TufSigner[] = []
  private readonly files = new Map<string, Uint8Array>()

  constructor(init: FirmwareRepositoryInit) {
    for (const role of tufRoleNames) {
      const keys = init.roles[role]
      const threshold = keys.threshold ?? 1
      if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > keys.signers.length)
        throw new FirmwareError('FIRMWARE_BAD_INPUT', `${role}: threshold must be 1..${keys.signers.length}`)
    }
    this.roles = { ...init.roles }
  }

  /** Adds or replaces a firmware image; takes effect at the next `publish`. */
  addTarget(target: FirmwareTarget): void {
    if (target.bytes.length > firmwareBytesMax)
      throw new FirmwareError('FIRMWARE_BAD_INPUT', `firmware larger than ${firmwareBytesMax} bytes`)
    if (!/^[A-Za-z0-9._/-]{1,200}$/.test(target.name) || target.name.includes('..') || target.name.startsWith('/'))
      throw new FirmwareError('FIRMWARE_BAD_INPUT', `bad target name ${target.name}`)
    if (!this.targets.has(target.name) && this.targets.size >= targetsCountMax)
      throw new FirmwareError('FIRMWARE_BAD_INPUT', `more than ${targetsCountMax} targets`)
    this.targets.set(target.name, { ...target, bytes: Uint8Array.from(target.bytes) })
  }

  /** Withdraws a firmware image from targets metadata at the next `publish`. */
  removeTarget(name: string): void {
    this.targets.delete(name)
  }

  /**
   * Rotates keys of one or more roles: the new root is signed by both the old and the new root
   * keys (TUF spec section 5.3.4), so clients holding the old root can follow.
   */
  rotateKeys(roles: Partial<Record<TufRoleName, RoleKeys>>): void {
    this.previousRootSigners = this.roles.root.signers
    this.roles = { ...this.roles, ...roles }
    this.isRootDirty = true
  }

  private isRootDirty = true

  private envelope(role: TufRoleName, signed: Record<string, unknown>, extraSigners: readonly TufSigner[] = []): Uint8Array {
    const bytes = new TextEncoder().encode(canonicalize(signed))
    const signers = [...this.roles[role].signers, ...extraSigners.filter((s) => !this.roles[role].signers.some((r) => r.keyid === s.keyid))]
    const envelope: SignedEnvelope = { signed, signatures: signers.map((s) => ({ keyid: s.keyid, sig: s.sign(bytes) })) }
    return new TextEncoder().encode(JSON.stringify(envelope))
  }

  /** Signs a new version of every role that changed (timestamp always) and returns all files. */
  publish(init: PublishInit): ReadonlyMap<string, Uint8Array> {
    const expires = init.expiresMs
    if (this.isRootDirty) {
      this.versions.root++
      const keys: Record<string, TufPublicKey> = {}
      const roles: Record<string, { keyids: string[]; threshold: number }> = {}
      for (const role of tufRoleNames) {
        for (const s of this.roles[role].signers) keys[s.keyid] = s.publicKey
        roles[role] = { keyids: this.roles[role].signers.map((s) => s.keyid), threshold: this.roles[role].threshold ?? 1 }
      }
      const root = this.envelope(
        'root',
        {
          _type: 'root',
          spec_version: tufSpecVersion,
          version: this.versions.root,
          expires: isoSeconds(expires.root),
          consistent_snapshot: false,
          keys,
          roles,
        },
        this.versions.root > 1 ? this.previousRootSigners : [],
      )
      this.files.set(`metadata/${this.versions.root}.root.json`, root)
      this.files.set('metadata/root.json', root)
      this.isRootDirty = false
    }
    this.versions.targets++
    const targets: Record<string, unknown> = {}
    for (const path of [...this.files.keys()]) if (path.startsWith('targets/')) this.files.delete(path)
    for (const t of [...this.targets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      targets[t.name] = {
        length: t.bytes.length,
        hashes: { sha256: sha256Hex(t.bytes) },
        ...(t.custom === undefined ? {} : { custom: t.custom }),
      }
      this.files.set(`targets/${t.name}`, t.bytes)
    }
    this.files.set(
      'metadata/targets.json',
      this.envelope('targets', {
        _type: 'targets',
        spec_version: tufSpecVersion,
        version: this.versions.targets,
        expires: isoSeconds(expires.targets),
        targets,
      }),
    )
    this.versions.snapshot++
    this.files.set(
      'metadata/snapshot.json',
      this.envelope('snapshot', {
        _type: 'snapshot',
        spec_version: tufSpecVersion,
        version: this.versions.snapshot,
        expires: isoSeconds(expires.snapshot),
        meta: { 'targets.json': { version: this.versions.targets } },
      }),
    )
    this.versions.timestamp++
    this.files.set(
      'metadata/timestamp.json',
      this.envelope('timestamp', {
        _type: 'timestamp',
        spec_version: tufSpecVersion,
        version: this.versions.timestamp,
        expires: isoSeconds(expires.timestamp),
        meta: { 'snapshot.json': { version: this.versions.snapshot } },
      }),
    )
    return new Map(this.files)
  }

  /** Current version of each role (the rollback-protection counters). */
  get roleVersions(): Readonly<Record<TufRoleName, number>> {
    return { ...this.versions }
  }
}
