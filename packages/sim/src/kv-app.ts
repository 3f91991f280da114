import { merkleRoot, sha256 } from '@terrane/codec'
import type {
  Application,
  CheckTxResponse,
  FinalizeBlockRequest,
  FinalizeBlockResponse,
  PrepareProposalRequest,
  ProcessProposalRequest,
  Validator,
} from '@terrane/consensus'

const utf8 = new TextEncoder()
const text = new TextDecoder()

/** The committed state of a key-value app, as kept on the simulated disk. */
export interface KvDurableState {
  height: number
  entries: Array<[string, string]>
}

/**
 * A small deterministic Application: transactions are `key=value` strings; misbehavior
 * from committed evidence is recorded under `slashed/<address>` so that it is part of the
 * state root. Used to isolate consensus bugs from the chain's state machine.
 */
export class KvApp implements Application {
  private committed = new Map<string, string>()
  private pending: Map<string, string> | null = null
  private height = 0
  /** Every misbehavior the app has processed (for the simulator's checks). */
  readonly slashes: Array<{ validator: Uint8Array; height: number }> = []

  constructor(
    private readonly validators: Validator[],
    private readonly disk: { kv: KvDurableState | null },
  ) {
    const saved = disk.kv
    if (saved !== null) {
      this.committed = new Map(saved.entries)
      this.height = saved.height
    }
  }

  initChain(): { validators: Validator[]; stateRoot: Uint8Array } {
    return { validators: this.validators, stateRoot: this.root(this.committed) }
  }

  info(): { height: number; stateRoot: Uint8Array } {
    return { height: this.height, stateRoot: this.root(this.committed) }
  }

  checkTx(tx: Uint8Array): CheckTxResponse {
    return this.parse(tx) === null ? { code: 1, log: 'not key=value' } : { code: 0, log: '' }
  }

  prepareProposal(req: PrepareProposalRequest): Uint8Array[] {
    const out: Uint8Array[] = []
    let bytes = 0
    for (const tx of req.txs) {
      if (bytes + tx.length > req.bytesMax) break
      if (this.parse(tx) === null) continue
      out.push(tx)
      bytes += tx.length
    }
    return out
  }

  processProposal(req: ProcessProposalRequest): boolean {
    return req.txs.every((tx) => this.parse(tx) !== null)
  }

  async finalizeBlock(req: FinalizeBlockRequest): Promise<FinalizeBlockResponse> {
    const next = new Map(this.committed)
    const txResults = req.txs.map((tx) => {
      const kv = this.parse(tx)
      if (kv === null) return { code: 1, log: 'not key=value' }
      next.set(kv[0], kv[1])
      return { code: 0, log: '' }
    })
    for (const m of req.misbehavior) {
      const key = `slashed/${Buffer.from(m.validator).toString('hex')}`
      if (!next.has(key)) next.set(key, String(m.height))
    }
    next.set('@height', String(req.height))
    this.pending = next
    this.pendingMisbehavior = req.misbehavior.map((m) => ({ validator: m.validator, height: m.height }))
    return { txResults, validatorUpdates: [], stateRoot: this.root(next), events: [] }
  }

  private pendingMisbehavior: Array<{ validator: Uint8Array; height: number }> = []

  async commit(): Promise<void> {
    if (this.pending === null) return
    this.committed = this.pending
    this.pending = null
    this.height += 1
    this.slashes.push(...this.pendingMisbehavior)
    this.pendingMisbehavior = []
    this.disk.kv = { height: this.height, entries: [...this.committed] }
  }

  /** Whether committed state records a slash of this validator. */
  isSlashed(validator: Uint8Array): boolean {
    return this.committed.has(`slashed/${Buffer.from(validator).toString('hex')}`)
  }

  private parse(tx: Uint8Array): [string, string] | null {
    const s = text.decode(tx)
    const i = s.indexOf('=')
    if (i <= 0 || i === s.length - 1) return null
    return [s.slice(0, i), s.slice(i + 1)]
  }

  private root(map: Map<string, string>): Uint8Array {
    const keys = [...map.keys()].sort()
    return merkleRoot(keys.map((k) => sha256(utf8.encode(k), Uint8Array.of(0), utf8.encode(map.get(k) as string))))
  }
}
