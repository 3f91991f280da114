import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '@terrane/codec'
import { ApiError, MemoryBackend, populateMemoryBackend, verifyMemoryStateProof, snapshotOf, proveMemoryState } from '../src/index.ts'
import { runBackendCompliance } from './compliance.ts'

runBackendCompliance('MemoryBackend', async () => {
  const backend = new MemoryBackend()
  const population = populateMemoryBackend(backend, { seed: 7 })
  let n = 0
  return {
    backend,
    advance: async () => {
      backend.commitBlock({ txs: [{ bytes: Uint8Array.of(0xaa, n++), accounts: [population.accounts[1]?.address ?? ''] }] })
    },
    presentStateKey: population.stateKeys[0] as Uint8Array,
    verifyStateProof: (p) =>
      verifyMemoryStateProof(fromHex(p.root), fromHex(p.key), p.value === null ? null : fromHex(p.value), fromHex(p.proof)),
  }
})

describe('MemoryBackend', () => {
  it('proves presence and absence for random key sets', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 4 }), { maxLength: 12, selector: (k) => toHex(k) }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        (keys, probe) => {
          const snapshot = snapshotOf(keys.map((k) => [k, Uint8Array.of(k.length)] as [Uint8Array, Uint8Array]))
          const { value, proof } = proveMemoryState(snapshot, probe)
          const isPresent = keys.some((k) => toHex(k) === toHex(probe))
          assert.equal(value !== null, isPresent)
          assert.ok(verifyMemoryStateProof(snapshot.root, probe, value, proof))
          // Claiming the opposite must fail.
          assert.ok(!verifyMemoryStateProof(snapshot.root, probe, value === null ? Uint8Array.of(1) : null, proof))
        },
      ),
      { seed: 42, numRuns: 300 },
    )
  })

  it('refuses garbage proofs without throwing', () => {
    const snapshot = snapshotOf([[Uint8Array.of(1), Uint8Array.of(2)]])
    for (const junk of [new Uint8Array(0), Uint8Array.of(0xa0), Uint8Array.of(0xff, 0xff), Uint8Array.of(0x82, 0x01, 0x02)])
      assert.equal(verifyMemoryStateProof(snapshot.root, Uint8Array.of(1), Uint8Array.of(2), junk), false)
  })

  it('keeps state and event history bounded and reports pruned heights', async () => {
    const backend = new MemoryBackend({ stateHistoryHeightsMax: 2, eventHistoryHeightsMax: 2 })
    for (let i = 0; i < 5; i++) backend.commitBlock()
    await assert.rejects(
      () => backend.getStateProof(Uint8Array.of(1), 1),
      (e: unknown) => e instanceof ApiError && e.code === 'API_HEIGHT_PRUNED',
    )
    assert.equal((await backend.getStateProof(Uint8Array.of(1), 5)).height, 5)
    assert.throws(
      () => backend.subscribe({ topics: ['newBlock'] }, () => {}, { fromHeight: 1 }),
      (e: unknown) => e instanceof ApiError && e.code === 'API_HEIGHT_PRUNED',
    )
  })

  it('moves a device between owner and cell indexes', async () => {
    const backend = new MemoryBackend()
    const { devices, accounts } = populateMemoryBackend(backend, { devices: 3, blocks: 0 })
    const d = devices[0]!
    const newOwner = accounts.find((a) => a.address !== d.owner && a.kind === 'user')!.address
    backend.commitBlock({ devices: [{ ...d, owner: newOwner, h3Cell: '8a2a1072b5b7fff' }] })
    assert.ok(!(await backend.listDevices({ owner: d.owner }, { limit: 100 })).items.some((x) => x.id === d.id))
    assert.ok((await backend.listDevices({ owner: newOwner }, { limit: 100 })).items.some((x) => x.id === d.id))
    assert.ok((await backend.listDevices({ h3Cell: '8a2a1072b5b7fff' }, { limit: 100 })).items.some((x) => x.id === d.id))
  })

  it('mempool: submit, duplicate, refusal and commit', async () => {
    const backend = new MemoryBackend({ checkTx: (b) => (b[0] === 0 ? 'bad_signature' : null) })
    const { hash } = await backend.submitTx(Uint8Array.of(1, 2))
    await assert.rejects(
      () => backend.submitTx(Uint8Array.of(0, 2)),
      (e: unknown) => e instanceof ApiError && e.code === 'API_TX_REJECTED',
    )
    assert.equal(backend.mempoolSize, 1)
    const block = backend.commitBlock({ includeMempool: true })
    assert.deepEqual(block.txHashes, [hash])
    assert.equal(backend.mempoolSize, 0)
    await assert.rejects(
      () => backend.submitTx(Uint8Array.of(1, 2)),
      (e: unknown) => e instanceof ApiError && e.code === 'API_TX_REJECTED',
    )
  })
})
