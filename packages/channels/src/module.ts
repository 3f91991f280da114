import { decode, sha256, t, type Infer, type Schema } from '@terrane/codec'
import { accountIdOfPublicKey } from '@terrane/crypto'
import { ChainError, keys, type BlockContext, type ChainModule, type ModuleStore, type Msg, type TxContext } from '@terrane/chain'
import { ChannelError } from './errors.ts'
import { applyVoucher, channelIdBytes, checkVoucher, creditedMicro, lanesMax, signedVoucherSchema, type SignedVoucher } from './voucher.ts'

const address = t.bytes({ length: 20 })
const channelId = t.bytes({ length: channelIdBytes })

/** Module parameters (genesis `modules.channels`; fixed in each channel when it opens). */
export const channelsParamsSchema = t.struct({
  /** Blocks between close and collect, during which the payee submits its best voucher. */
  settleDelayBlocks: t.uint({ max: 10_000_000 }),
})
export type ChannelsParams = Infer<typeof channelsParamsSchema>

export const defaultChannelsParams: ChannelsParams = {
  settleDelayBlocks: 43_200, // Filecoin paych SettleDelay: 12 h (here at one block per second)
}

export const laneStateSchema = t.struct({ lane: t.uint({ max: lanesMax - 1 }), nonce: t.uint(), amountMicro: t.u64() })

export const channelStatuses = ['open', 'settling', 'collected'] as const
export type ChannelStatus = (typeof channelStatuses)[number]

export const channelRecordSchema = t.struct({
  payer: address,
  /** The payer's Ed25519 key: vouchers are verified against it. */
  payerKey: t.bytes({ length: 32 }),
  payee: address,
  depositMicro: t.u64(),
  /** Paid out to the payee so far (redeem and collect). */
  paidMicro: t.u64(),
  lanes: t.array(laneStateSchema, { lengthMax: lanesMax }),
  settleDelayBlocks: t.uint(),
  /** 0 while open; the height from which collect is allowed once settling. */
  settleHeight: t.uint(),
  status: t.enumOf(channelStatuses),
  openedHeight: t.uint(),
})
export type ChannelRecord = Infer<typeof channelRecordSchema>

/** Wire messages (`channels/<name>`). */
export const channelsMessages = {
  open: t.struct({ payee: address, payerKey: t.bytes({ length: 32 }), amountMicro: t.u64() }),
  'add-funds': t.struct({ channelId, amountMicro: t.u64() }),
  update: t.struct({ channelId, voucher: signedVoucherSchema }),
  redeem: t.struct({ channelId }),
  close: t.struct({ channelId }),
  collect: t.struct({ channelId }),
} as const

const seqSchema = t.struct({ next: t.uint() })
/** Value of an index entry (by opening order, by payer, by payee): the channel id. */
export const channelIndexEntrySchema = t.struct({ channelId })
const channelKeyPrefix = 'c/'
const paramsKey = 'params'
const seqKey = 'seq'
const idDomain = new TextEncoder().encode('terrane/channel/v1')

/** Store key of a channel (inside the module's scope). */
export function channelKey(id: Uint8Array): string {
  return channelKeyPrefix + latin1(id)
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

/** 8-byte big-endian key of a safe integer, as a latin1 string. */
function u64Key(n: number): string {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b.toString('latin1')
}

/**
 * Index keys (inside the module's scope), written at open and never removed; each holds the channel
 * id. `seq` is the channel's opening ordinal (the `n` of `channelIdOf`), so every index lists
 * channels in opening order.
 */
export const channelIndexKeys = {
  bySeq: (seq?: number): string => 'n/' + (seq === undefined ? '' : u64Key(seq)),
  byPayer: (payer: Uint8Array, seq?: number): string => 'bp/' + latin1(payer) + (seq === undefined ? '' : u64Key(seq)),
  byPayee: (payee: Uint8Array, seq?: number): string => 'bq/' + latin1(payee) + (seq === undefined ? '' : u64Key(seq)),
}

/** The opening ordinal in the last 8 bytes of an index key. */
export function seqOfIndexKey(key: string): number {
  let n = 0
  for (let i = key.length - 8; i < key.length; i++) n = n * 256 + key.charCodeAt(i)
  return n
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

/** The id of the n-th channel opened on the chain: SHA-256('terrane/channel/v1' || payer || payee || u64 n). */
export function channelIdOf(payer: Uint8Array, payee: Uint8Array, n: number): Uint8Array {
  const nb = new Uint8Array(8)
  new DataView(nb.buffer).setBigUint64(0, BigInt(n))
  return sha256(idDomain, payer, payee, nb)
}

export interface ChannelsModuleInit {
  /** Used when genesis has no `modules.channels`. @default defaultChannelsParams */
  params?: Partial<ChannelsParams>
}

/**
 * The payment-channel state machine module. Register it with `createChainApp({ modules: [channelsModule()] })`.
 * Events: `channel-open`, `channel-funds`, `channel-update`, `channel-redeem`, `channel-close`, `channel-collect`.
 */
export function channelsModule(init: ChannelsModuleInit = {}): ChainModule {
  const fallback: ChannelsParams = { ...defaultChannelsParams, ...init.params }

  function params(ctx: BlockContext): ChannelsParams {
    return ctx.store.get(channelsParamsSchema, paramsKey) ?? fallback
  }

  function load(ctx: BlockContext, id: Uint8Array): ChannelRecord {
    const c = ctx.store.get(channelRecordSchema, channelKey(id))
    if (c === undefined) throw new ChannelError('channel-not-found', hex(id))
    return c
  }

  function save(ctx: BlockContext, id: Uint8Array, c: ChannelRecord): void {
    ctx.store.set(channelRecordSchema, channelKey(id), c)
  }

  function emit(ctx: BlockContext, type: string, id: Uint8Array, attributes: Record<string, string>): void {
    ctx.emit({ type, attributes: { channelId: hex(id), ...attributes } })
  }

  function open(ctx: TxContext, m: Infer<typeof channelsMessages.open>): void {
    if (m.amountMicro === 0n) throw new ChannelError('zero-amount', 'deposit')
    if (!same(accountIdOfPublicKey(m.payerKey), ctx.sender)) throw new ChannelError('bad-payer-key', 'key is not the sender account key')
    if (same(m.payee, ctx.sender)) throw new ChannelError('self-channel')
    const seq = ctx.store.get(seqSchema, seqKey)?.next ?? 0
    const id = channelIdOf(ctx.sender, m.payee, seq)
    ctx.store.set(seqSchema, seqKey, { next: seq + 1 })
    ctx.store.set(channelIndexEntrySchema, channelIndexKeys.bySeq(seq), { channelId: id })
    ctx.store.set(channelIndexEntrySchema, channelIndexKeys.byPayer(ctx.sender, seq), { channelId: id })
    ctx.store.set(channelIndexEntrySchema, channelIndexKeys.byPayee(m.payee, seq), { channelId: id })
    ctx.bank.lock(ctx.sender, m.amountMicro)
    save(ctx, id, {
      payer: ctx.sender,
      payerKey: m.payerKey,
      payee: m.payee,
      depositMicro: m.amountMicro,
      paidMicro: 0n,
      lanes: [],
      settleDelayBlocks: params(ctx).settleDelayBlocks,
      settleHeight: 0,
      status: 'open',
      openedHeight: ctx.height,
    })
    emit(ctx, 'channel-open', id, { payer: hex(ctx.sender), payee: hex(m.payee), depositMicro: String(m.amountMicro) })
  }

  function addFunds(ctx: TxContext, m: Infer<(typeof channelsMessages)['add-funds']>): void {
    const c = load(ctx, m.channelId)
    if (c.status === 'collected') throw new ChannelError('collected')
    if (c.status === 'settling') throw new ChannelError('already-settling', 'no deposits while settling')
    if (!same(ctx.sender, c.payer)) throw new ChannelError('not-payer')
    if (m.amountMicro === 0n) throw new ChannelError('zero-amount', 'deposit')
    ctx.bank.lock(ctx.sender, m.amountMicro)
    save(ctx, m.channelId, { ...c, depositMicro: c.depositMicro + m.amountMicro })
    emit(ctx, 'channel-funds', m.channelId, { depositMicro: String(c.depositMicro + m.amountMicro) })
  }

  function update(ctx: TxContext, channel: Uint8Array, signed: SignedVoucher): void {
    const c = load(ctx, channel)
    if (c.status === 'collected') throw new ChannelError('collected')
    if (c.status === 'settling' && ctx.height >= c.settleHeight) throw new ChannelError('settled', `settle height ${c.settleHeight}`)
    if (!same(ctx.sender, c.payee)) throw new ChannelError('not-payee')
    const verdict = checkVoucher(
      ctx.chainId,
      { channelId: channel, payerKey: c.payerKey, depositMicro: c.depositMicro, lanes: c.lanes },
      signed,
    )
    if (!verdict.isAccepted) throw new ChannelError(verdict.reason, `lane ${signed.voucher.lane} nonce ${signed.voucher.nonce}`)
    save(ctx, channel, { ...c, lanes: applyVoucher(c.lanes, signed.voucher) })
    emit(ctx, 'channel-update', channel, {
      lane: String(signed.voucher.lane),
      nonce: String(signed.voucher.nonce),
      amountMicro: String(signed.voucher.amountMicro),
      creditedMicro: String(verdict.totalMicro),
    })
  }

  function redeem(ctx: TxContext, channel: Uint8Array): void {
    const c = load(ctx, channel)
    if (c.status === 'collected') throw new ChannelError('collected')
    if (!same(ctx.sender, c.payee)) throw new ChannelError('not-payee')
    const owed = creditedMicro(c.lanes) - c.paidMicro
    if (owed <= 0n) throw new ChannelError('nothing-to-redeem')
    ctx.bank.unlock(c.payee, owed)
    save(ctx, channel, { ...c, paidMicro: c.paidMicro + owed })
    emit(ctx, 'channel-redeem', channel, { payee: hex(c.payee), amountMicro: String(owed) })
  }

  function close(ctx: TxContext, channel: Uint8Array): void {
    const c = load(ctx, channel)
    if (c.status === 'collected') throw new ChannelError('collected')
    if (!same(ctx.sender, c.payer) && !same(ctx.sender, c.payee)) throw new ChannelError('not-a-party')
    if (c.status === 'settling') throw new ChannelError('already-settling', `settle height ${c.settleHeight}`)
    const settleHeight = ctx.height + c.settleDelayBlocks
    save(ctx, channel, { ...c, status: 'settling', settleHeight })
    emit(ctx, 'channel-close', channel, { by: hex(ctx.sender), settleHeight: String(settleHeight) })
  }

  function collect(ctx: TxContext, channel: Uint8Array): void {
    const c = load(ctx, channel)
    if (c.status === 'collected') throw new ChannelError('collected')
    if (!same(ctx.sender, c.payer) && !same(ctx.sender, c.payee)) throw new ChannelError('not-a-party')
    if (c.status !== 'settling') throw new ChannelError('not-settling')
    if (ctx.height < c.settleHeight) throw new ChannelError('settle-delay-running', `collect from height ${c.settleHeight}`)
    const credited = creditedMicro(c.lanes)
    const toPayee = credited - c.paidMicro
    const toPayer = c.depositMicro - credited
    if (toPayee < 0n || toPayer < 0n) throw new Error('channel accounting broken: credited outside [paid, deposit]')
    ctx.bank.unlock(c.payee, toPayee)
    ctx.bank.unlock(c.payer, toPayer)
    save(ctx, channel, { ...c, paidMicro: credited, status: 'collected' })
    emit(ctx, 'channel-collect', channel, { toPayeeMicro: String(toPayee), toPayerMicro: String(toPayer) })
  }

  return {
    name: 'channels',
    messages: channelsMessages,
    initGenesis(ctx, genesis) {
      let p: ChannelsParams
      try {
        p = channelsParamsSchema.parse({ ...fallback, ...(genesis as object | undefined) }, 'modules.channels')
      } catch (err) {
        throw new ChainError('CHAIN_BAD_GENESIS', (err as Error).message, 'modules.channels')
      }
      ctx.store.set(channelsParamsSchema, paramsKey, p)
    },
    deliver(ctx: TxContext, msg: Msg): void {
      // The registry's schemas parsed every field before deliver is called.
      const m = msg as unknown as { channelId: Uint8Array; voucher: SignedVoucher }
      switch (msg.type) {
        case 'channels/open':
          return open(ctx, msg as unknown as Infer<typeof channelsMessages.open>)
        case 'channels/add-funds':
          return addFunds(ctx, msg as unknown as Infer<(typeof channelsMessages)['add-funds']>)
        case 'channels/update':
          return update(ctx, m.channelId, m.voucher)
        case 'channels/redeem':
          return redeem(ctx, m.channelId)
        case 'channels/close':
          return close(ctx, m.channelId)
        case 'channels/collect':
          return collect(ctx, m.channelId)
      }
    },
  }
}

/** Reads a committed channel from a chain store (`get` of the ChainStore, a node's state, ...). */
export function readChannel(get: (key: Uint8Array) => Uint8Array | undefined, id: Uint8Array): ChannelRecord | undefined {
  return readModuleValue(get, 'channels', channelKey(id), channelRecordSchema)
}

/** A module value from a raw chain store, through the chain's key layout (`keys.module`). */
export function readModuleValue<T>(
  get: (key: Uint8Array) => Uint8Array | undefined,
  module: string,
  key: string,
  schema: Schema<T>,
): T | undefined {
  const k = keys.module(module, key)
  const bytes = get(Uint8Array.from(Buffer.from(k, 'latin1')))
  return bytes === undefined ? undefined : decode(schema, bytes)
}

export interface ChannelIdQuery {
  /** Only channels where this account is the payer or the payee. */
  party?: Uint8Array
  /** Channels opened after this ordinal (a page cursor; the first channel is 0). @default -1 */
  afterSeq?: number
  limit: number
}

/**
 * Channel ids in opening order, paged, with their ordinals (the cursor). Without a party it reads the
 * opening-order index entry by entry (no scan); with one it reads the party's two index prefixes.
 */
export function channelIds(
  store: ModuleStore,
  query: ChannelIdQuery,
): { items: Array<{ seq: number; channelId: Uint8Array }>; hasMore: boolean } {
  const after = query.afterSeq ?? -1
  if (query.party === undefined) {
    const next = store.get(seqSchema, seqKey)?.next ?? 0
    const items: Array<{ seq: number; channelId: Uint8Array }> = []
    for (let seq = after + 1; seq < next && items.length < query.limit; seq++) {
      const entry = store.get(channelIndexEntrySchema, channelIndexKeys.bySeq(seq))
      if (entry !== undefined) items.push({ seq, channelId: entry.channelId })
    }
    return { items, hasMore: after + 1 + query.limit < next }
  }
  const bySeq = new Map<number, Uint8Array>()
  for (const prefix of [channelIndexKeys.byPayer(query.party), channelIndexKeys.byPayee(query.party)])
    for (const [key, entry] of store.scan(channelIndexEntrySchema, prefix)) bySeq.set(seqOfIndexKey(key), entry.channelId)
  const later = [...bySeq].filter(([seq]) => seq > after).sort((a, b) => a[0] - b[0])
  return { items: later.slice(0, query.limit).map(([seq, channelId]) => ({ seq, channelId })), hasMore: later.length > query.limit }
}

/** A channel from a module store (`committedModuleStore(chainStore, 'channels')` outside blocks). */
export function channelOf(store: ModuleStore, id: Uint8Array): ChannelRecord | undefined {
  return store.get(channelRecordSchema, channelKey(id))
}
