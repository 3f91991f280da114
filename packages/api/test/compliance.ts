/**
 * The NodeBackend compliance suite: run it against every implementation (the
 * in-memory backend here, the node's chain-backed one in packages/node):
 *
 *   import { runBackendCompliance } from '@terrane/api/compliance'
 *   runBackendCompliance('chain backend', async () => ({ backend, advance, close }))
 *
 * It needs a backend with at least two committed blocks, one of them holding a
 * transaction, and an `advance()` that commits at least one more block. Every
 * response is checked against the API's own TypeBox schemas, so a backend cannot
 * serve what the REST layer would refuse to serialize.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import { fromHex, sha256, toHex, verifyMerkleProof } from '@terrane/codec'
import type { NodeBackend } from '../src/backend.ts'
import { ApiError } from '../src/errors.ts'
import * as S from '../src/schemas.ts'
import type { EventDto, StateProofDto } from '../src/schemas.ts'

export interface ComplianceHarness {
  backend: NodeBackend
  /** Commits at least one more block; resolves once it is visible through the backend. */
  advance(): Promise<void>
  /** A state key that holds a value at the latest height, if the harness knows one. */
  presentStateKey?: Uint8Array
  /** Verifies a state proof in the backend's format (e.g. @terrane/state verifyProof). */
  verifyStateProof?: (proof: StateProofDto) => boolean
  close?: () => Promise<void>
}

const checkers = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>()
function assertShape(schema: TSchema, value: unknown, what: string): void {
  let checker = checkers.get(schema)
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema)
    checkers.set(schema, checker)
  }
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First()
    assert.fail(`${what} does not match schema ${String(schema.title)}: ${first?.path} ${first?.message}`)
  }
}

async function rejectsWithCode(fn: () => Promise<unknown> | unknown, code: string): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (err: unknown) => err instanceof ApiError && err.code === code,
  )
}

export function runBackendCompliance(name: string, setup: () => Promise<ComplianceHarness>): void {
  describe(`NodeBackend compliance: ${name}`, () => {
    let h: ComplianceHarness
    let b: NodeBackend
    before(async () => {
      h = await setup()
      b = h.backend
    })
    after(async () => {
      await h.close?.()
    })

    it('status matches the latest block', async () => {
      const status = await b.status()
      assertShape(S.Status, status, 'status')
      assert.ok(status.height >= 2, 'the harness must provide at least two blocks')
      const latest = await b.getBlock(status.height)
      assert.ok(latest !== null)
      assertShape(S.Block, latest, 'block')
      assert.equal(latest.header.hash, status.latestBlockHash)
      assert.equal(latest.header.timeMs, status.latestBlockTimeMs)
      assertShape(S.Readiness, await b.readiness(), 'readiness')
    })

    it('blocks by height and hash agree and chain by parent hash', async () => {
      const { height } = await b.status()
      const top = await b.getBlock(height)
      const parent = await b.getBlock(height - 1)
      assert.ok(top !== null && parent !== null)
      assert.equal(top.header.parentHash, parent.header.hash)
      assert.deepEqual(await b.getBlockByHash(top.header.hash), top)
      assert.equal(top.header.txCount, top.txHashes.length)
      assert.equal(await b.getBlock(height + 1000), null)
      assert.equal(await b.getBlockByHash('ab'.repeat(32)), null)
    })

    it('block pages are newest first, complete and without duplicates', async () => {
      const { height } = await b.status()
      const seen: number[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 1000; pages++) {
        const page = await b.listBlocks(cursor === undefined ? { limit: 2 } : { limit: 2, cursor })
        assertShape(S.BlockHeaderPage, page, 'block page')
        assert.ok(page.items.length <= 2)
        seen.push(...page.items.map((i) => i.height))
        if (page.nextCursor === null) break
        cursor = page.nextCursor
      }
      assert.deepEqual(
        seen.slice(0, Math.min(height, 50)),
        Array.from({ length: Math.min(height, 50) }, (_, i) => height - i),
      )
      assert.equal(new Set(seen).size, seen.length)
    })

    it('rejects a forged cursor with API_BAD_CURSOR', async () => {
      await rejectsWithCode(() => b.listBlocks({ limit: 2, cursor: 'not-a-cursor' }), 'API_BAD_CURSOR')
      await rejectsWithCode(() => b.listDevices({}, { limit: 2, cursor: 'AAAA' }), 'API_BAD_CURSOR')
    })

    it('every committed transaction has a hash of its bytes and an inclusion proof against its header', async () => {
      const { height } = await b.status()
      let checked = 0
      for (let at = height; at >= 1 && checked < 20; at--) {
        const block = await b.getBlock(at)
        assert.ok(block !== null)
        for (const hash of block.txHashes) {
          const tx = await b.getTx(hash)
          assert.ok(tx !== null, `tx ${hash} of block ${at}`)
          assertShape(S.Tx, tx, 'tx')
          const bytes = fromHex(tx.bytes)
          assert.equal(toHex(sha256(bytes)), tx.hash)
          assert.equal(tx.height, at)
          assert.equal(tx.proof.txRoot, block.header.txRoot)
          assert.equal(tx.proof.count, block.txHashes.length)
          const proof = { index: tx.proof.index, count: tx.proof.count, siblings: tx.proof.siblings.map(fromHex) }
          assert.ok(verifyMerkleProof(fromHex(block.header.txRoot), bytes, proof))
          // The same proof must not verify other bytes.
          assert.ok(!verifyMerkleProof(fromHex(block.header.txRoot), Uint8Array.of(...bytes, 0), proof))
          checked++
        }
      }
      assert.ok(checked > 0, 'the harness must commit at least one transaction')
      assert.equal(await b.getTx('00'.repeat(32)), null)
    })

    it('transaction status: committed with the height, index and code of getTx; unknown for a hash never seen', async () => {
      const { height } = await b.status()
      let checked = 0
      for (let at = height; at >= 1 && checked < 5; at--) {
        const block = await b.getBlock(at)
        for (const hash of block?.txHashes ?? []) {
          const status = await b.getTxStatus(hash)
          assertShape(S.TxStatus, status, 'tx status')
          const tx = await b.getTx(hash)
          assert.ok(tx !== null)
          assert.deepEqual(status, { hash, status: 'committed', height: tx.height, index: tx.index, code: tx.code })
          checked++
        }
      }
      assert.ok(checked > 0, 'the harness must commit at least one transaction')
      const unknown = await b.getTxStatus('0f'.repeat(32))
      assertShape(S.TxStatus, unknown, 'tx status')
      assert.deepEqual(unknown, { hash: '0f'.repeat(32), status: 'unknown' })
    })

    it('account transactions list every transaction touching the account', async () => {
      const { height } = await b.status()
      let tx = null
      for (let at = height; at >= 1 && tx === null; at--) {
        const block = await b.getBlock(at)
        const hash = block?.txHashes[0]
        if (hash !== undefined) tx = await b.getTx(hash)
      }
      assert.ok(tx !== null)
      const account = tx.accounts[0]
      if (account === undefined) return
      const page = await b.listAccountTxs(account, { limit: 100 })
      assertShape(S.TxPage, page, 'tx page')
      assert.ok(page.items.some((t) => t.hash === tx.hash))
      for (const t of page.items) assert.ok(t.accounts.includes(account))
    })

    it('submitTx returns the SHA-256 of the bytes and refuses empty bytes', async () => {
      const bytes = Uint8Array.from({ length: 48 }, (_, i) => (i * 7 + 3) & 0xff)
      try {
        const { hash } = await b.submitTx(bytes)
        assert.equal(hash, toHex(sha256(bytes)))
      } catch (err) {
        // A real chain refuses garbage bytes: that must be a typed error.
        assert.ok(err instanceof ApiError && (err.code === 'API_BAD_TX' || err.code === 'API_TX_REJECTED'), String(err))
      }
      await assert.rejects(
        () => b.submitTx(new Uint8Array(0)),
        (err: unknown) => err instanceof ApiError && (err.code === 'API_BAD_TX' || err.code === 'API_TX_REJECTED'),
      )
    })

    it('accounts, batched and single lookups agree', async () => {
      const devices = await b.listDevices({}, { limit: 10 })
      assertShape(S.DevicePage, devices, 'device page')
      const owners = devices.items.map((d) => d.owner)
      const missing = 'trn1' + 'q'.repeat(38)
      const batch = await b.getAccounts([...owners, missing])
      assert.equal(batch.length, owners.length + 1)
      assert.equal(batch[batch.length - 1], null)
      for (const [i, owner] of owners.entries()) {
        const single = await b.getAccount(owner)
        assert.deepEqual(batch[i], single)
        if (single !== null) assertShape(S.Account, single, 'account')
      }
    })

    it('device queries by id, owner and cell are consistent', async () => {
      const all = await b.listDevices({}, { limit: 100 })
      for (const d of all.items.slice(0, 10)) {
        assertShape(S.Device, d, 'device')
        assert.deepEqual(await b.getDevice(d.id), d)
        const byOwner = await b.listDevices({ owner: d.owner }, { limit: 100 })
        assert.ok(byOwner.items.every((x) => x.owner === d.owner))
        const byCell = await b.listDevices({ h3Cell: d.h3Cell }, { limit: 100 })
        assert.ok(byCell.items.every((x) => x.h3Cell === d.h3Cell))
        assert.ok(byCell.items.some((x) => x.id === d.id) || byCell.nextCursor !== null)
      }
      const ids = all.items.slice(0, 3).map((d) => d.id)
      assert.deepEqual(await b.getDevices([...ids, 'no-such-device']), [...all.items.slice(0, 3), null])
      assert.equal(await b.getDevice('no-such-device'), null)
    })

    it('device pages walk every device exactly once', async () => {
      const ids: string[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 10_000; pages++) {
        const page = await b.listDevices({}, cursor === undefined ? { limit: 7 } : { limit: 7, cursor })
        ids.push(...page.items.map((d) => d.id))
        if (page.nextCursor === null) break
        cursor = page.nextCursor
      }
      assert.equal(new Set(ids).size, ids.length)
    })

    it('proofs, rewards, staking, agreements and channels match their schemas and filters', async () => {
      const proofs = await b.listDeviceProofs({}, { limit: 50 })
      assertShape(S.DeviceProofPage, proofs, 'proof page')
      const proof = proofs.items[0]
      if (proof !== undefined) {
        const mine = await b.listDeviceProofs({ deviceId: proof.deviceId, epoch: proof.epoch }, { limit: 50 })
        assert.ok(mine.items.every((p) => p.deviceId === proof.deviceId && p.epoch === proof.epoch))
      }
      const rewards = await b.listRewards({}, { limit: 50 })
      assertShape(S.RewardPage, rewards, 'reward page')
      for (let i = 1; i < rewards.items.length; i++)
        assert.ok((rewards.items[i - 1] as S.RewardDto).epoch >= (rewards.items[i] as S.RewardDto).epoch, 'rewards newest epoch first')
      const reward = rewards.items[0]
      if (reward !== undefined) assert.deepEqual(await b.getReward(reward.deviceId, reward.epoch), reward)
      assertShape(S.ValidatorPage, await b.listValidators({ limit: 50 }), 'validator page')
      assertShape(S.DelegationPage, await b.listDelegations({}, { limit: 50 }), 'delegation page')
      const agreements = await b.listAgreements({}, { limit: 50 })
      assertShape(S.AgreementPage, agreements, 'agreement page')
      for (const a of agreements.items) assert.deepEqual(await b.getAgreement(a.id), a)
      const channels = await b.listChannels({}, { limit: 50 })
      assertShape(S.ChannelPage, channels, 'channel page')
      for (const c of channels.items) assert.deepEqual(await b.getChannel(c.id), c)
      assert.equal(await b.getAgreement('no-such-agreement'), null)
      assert.equal(await b.getChannel('no-such-channel'), null)
    })

    it('state proofs are for the latest state root and verify', async () => {
      const { height } = await b.status()
      const block = await b.getBlock(height)
      const key = h.presentStateKey ?? Uint8Array.of(0xff, 0xfe)
      const proof = await b.getStateProof(key)
      assertShape(S.StateProof, proof, 'state proof')
      assert.equal(proof.height, height)
      assert.equal(proof.root, block?.header.stateRoot)
      assert.equal(proof.key, toHex(key))
      if (h.presentStateKey !== undefined) assert.notEqual(proof.value, null)
      if (h.verifyStateProof !== undefined) {
        assert.ok(h.verifyStateProof(proof))
        const forged = { ...proof, value: proof.value === null ? '00' : proof.value + '00' }
        assert.ok(!h.verifyStateProof(forged), 'a proof must not verify a different value')
      }
      await rejectsWithCode(() => b.getStateProof(key, height + 1000), 'API_NOT_FOUND')
    })

    it('subscribe replays from a height, then follows live blocks in order', async () => {
      const { height } = await b.status()
      const events: EventDto[] = []
      const subscription = b.subscribe({ topics: ['newBlock', 'tx'] }, (e) => events.push(e), { fromHeight: height - 1 })
      try {
        await h.advance()
        await h.advance()
        const blocks = events.filter((e) => e.topic === 'newBlock').map((e) => e.height)
        assert.deepEqual(blocks.slice(0, 4), [height - 1, height, height + 1, height + 2])
        for (const e of events) assertShape(S.Event, e, 'event')
        for (let i = 1; i < events.length; i++) {
          const a = events[i - 1] as EventDto
          const c = events[i] as EventDto
          assert.ok(a.height < c.height || (a.height === c.height && a.index < c.index), 'events in (height, index) order')
        }
      } finally {
        subscription.close()
      }
      const count = events.length
      await h.advance()
      assert.equal(events.length, count, 'no events after close')
    })

    it('subscribe filters by topic and account', async () => {
      const events: EventDto[] = []
      const missing = 'trn1' + 'q'.repeat(38)
      const s1 = b.subscribe({ topics: ['tx'], account: missing }, (e) => events.push(e), { fromHeight: 1 })
      const s2 = b.subscribe({ topics: ['consensusRound'] }, (e) => assert.equal(e.topic, 'consensusRound'), { fromHeight: 1 })
      await h.advance()
      s1.close()
      s2.close()
      assert.deepEqual(events, [])
    })

    it('admin: peers, log level and mempool flush', async () => {
      const peers = await b.admin.listPeers()
      for (const p of peers) assertShape(S.Peer, p, 'peer')
      await b.admin.setLogLevel('debug')
      assert.equal(await b.admin.getLogLevel(), 'debug')
      await b.admin.setLogLevel('info')
      const flushed = await b.admin.unsafeFlushMempool()
      assertShape(S.UnsafeResult, flushed, 'unsafe result')
      assert.equal(await b.admin.removePeer('12D3KooWNoSuchPeerNoSuchPeer'), false)
    })
  })
}
