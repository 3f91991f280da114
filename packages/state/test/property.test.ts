import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  StateError,
  createMemoryStateStore,
  decodeStateProof,
  encodeStateProof,
  verifyProof,
  verifyProofs,
  type StateProof,
} from '../src/index.ts'
import { referenceRoot } from './reference.ts'

// Small key space so that sequences overwrite and delete keys that exist.
const keyIds = fc.integer({ min: 0, max: 40 })
const keyOf = (id: string): Uint8Array => new TextEncoder().encode(`key-${id}`)
const op = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), id: keyIds, value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('delete' as const), id: keyIds }),
)
const batches = fc.array(fc.array(op, { maxLength: 25 }), { minLength: 1, maxLength: 6 })

function tamper(proof: StateProof, choice: number, byte: number, bit: number): StateProof {
  const siblings = proof.siblings.map((s) => s.slice())
  const leaf = proof.leaf === null ? null : { path: proof.leaf.path.slice(), valueHash: proof.leaf.valueHash.slice() }
  const flip = (b: Uint8Array) => {
    b[byte % 32] = (b[byte % 32] as number) ^ (1 << bit)
  }
  switch (choice % 6) {
    case 0:
      if (siblings.length > 0) flip(siblings[byte % siblings.length] as Uint8Array)
      else siblings.push(new Uint8Array(32))
      break
    case 1:
      if (leaf !== null) flip(leaf.valueHash)
      else return { siblings, leaf: { path: new Uint8Array(32), valueHash: new Uint8Array(32) } }
      break
    case 2:
      if (leaf !== null) flip(leaf.path)
      else siblings.push(new Uint8Array(32).fill(1))
      break
    case 3:
      if (siblings.length > 0) siblings.pop()
      else siblings.push(new Uint8Array(32).fill(2))
      break
    case 4:
      siblings.push(new Uint8Array(32).fill(byte))
      break
    default:
      if (leaf !== null) return { siblings, leaf: null }
      return { siblings, leaf: { path: new Uint8Array(32).fill(byte), valueHash: new Uint8Array(32) } }
  }
  return { siblings, leaf }
}

describe('state store properties (fast-check)', () => {
  it('matches a Map model: values, roots, and proofs of present and absent keys', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (seq) => {
        const store = createMemoryStateStore({ pruneKeepVersions: Infinity })
        const model = new Map<string, Uint8Array>()
        for (const ops of seq) {
          const b = store.batch()
          for (const o of ops) {
            const id = String(o.id)
            if (o.kind === 'put') {
              b.put(keyOf(id), o.value)
              model.set(id, o.value)
            } else {
              b.delete(keyOf(id))
              model.delete(id)
            }
          }
          const r = await b.commit()
          assert.deepEqual(r.root, referenceRoot(model, keyOf))
        }
        const checks = []
        for (let i = 0; i <= 40; i++) {
          const id = String(i)
          const value = model.get(id)
          assert.deepEqual(await store.get(keyOf(id)), value)
          const proof = await store.prove(keyOf(id))
          assert.equal(verifyProof(store.root, keyOf(id), value, proof), true)
          // The same proof must not prove the opposite claim.
          assert.equal(verifyProof(store.root, keyOf(id), value === undefined ? new Uint8Array(1) : undefined, proof), false)
          checks.push({ root: store.root, key: keyOf(id), value, proof })
        }
        assert.ok(verifyProofs(checks).every((ok) => ok))
        await store.close()
      }),
      { numRuns: 60 },
    )
  })

  it('gives the same root for the same final entries however the operations are split into batches', async () => {
    // 32-byte keys (taken as paths) drawn from a few prefixes, so that pages nest several
    // levels deep and commits rewrite pages that keep most of their slots.
    const pathOf = (id: number): Uint8Array => {
      const path = new Uint8Array(32)
      path[0] = [0x00, 0x01, 0x10, 0xff][id & 3] as number
      path[1] = [0x00, 0x0f, 0x80][(id >> 2) % 3] as number
      path[2] = id >> 4
      path[31] = id
      return path
    }
    const wideOp = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), id: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 255 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(wideOp, { minLength: 1, maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), async (ops, cuts) => {
        const whole = createMemoryStateStore()
        const split = createMemoryStateStore()
        const model = new Map<string, Uint8Array>()
        const apply = (b: ReturnType<typeof whole.batch>, o: (typeof ops)[number]) =>
          o.kind === 'put' ? b.put(pathOf(o.id), o.value) : b.delete(pathOf(o.id))
        const one = whole.batch()
        for (const o of ops) {
          apply(one, o)
          if (o.kind === 'put') model.set(String(o.id), o.value)
          else model.delete(String(o.id))
        }
        const staged = one.stage()
        const { root } = await one.commit()
        assert.deepEqual(root, staged)
        assert.deepEqual(
          root,
          referenceRoot(model, (id) => pathOf(Number(id))),
        )
        const bounds = [...new Set(cuts.map((c) => c % ops.length))].sort((a, b) => a - b)
        let from = 0
        for (const to of [...bounds, ops.length]) {
          const b = split.batch()
          for (const o of ops.slice(from, to)) apply(b, o)
          await b.commit()
          from = to
        }
        assert.deepEqual(split.root, root)
        for (let id = 0; id < 256; id++) {
          const value = model.get(String(id))
          assert.deepEqual(await split.get(pathOf(id)), value)
          assert.equal(verifyProof(root, pathOf(id), value, await split.prove(pathOf(id))), true)
        }
      }),
      { numRuns: 40 },
    )
  })

  it('rejects tampered proofs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(keyIds, fc.uint8Array({ minLength: 1, maxLength: 8 })), { minLength: 1, maxLength: 30 }),
        keyIds,
        fc.nat(),
        fc.nat(255),
        fc.nat(7),
        async (entries, target, choice, byte, bit) => {
          const store = createMemoryStateStore()
          const model = new Map<string, Uint8Array>()
          const b = store.batch()
          for (const [id, value] of entries) {
            b.put(keyOf(String(id)), value)
            model.set(String(id), value)
          }
          await b.commit()
          const key = keyOf(String(target))
          const value = model.get(String(target))
          const proof = await store.prove(key)
          assert.equal(verifyProof(store.root, key, value, proof), true)
          const bad = tamper(proof, choice, byte, bit)
          assert.equal(verifyProof(store.root, key, value, bad), false)
          assert.deepEqual(verifyProofs([{ root: store.root, key, value, proof: bad }]), [false])
          await store.close()
        },
      ),
      { numRuns: 200 },
    )
  })

  it('verifyProof returns false, never throws, on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (root, key, value, proof) => {
        // Cast: the point is what happens when untyped callers pass anything.
        const verify = verifyProof as (...args: unknown[]) => boolean
        assert.equal(verify(root, key, value, proof), false)
      }),
      { numRuns: 300 },
    )
    const shaped = fc.record({
      siblings: fc.array(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.anything()), {
        maxLength: 4,
      }),
      leaf: fc.oneof(
        fc.constant(null),
        fc.anything(),
        fc.record({ path: fc.uint8Array({ maxLength: 33 }), valueHash: fc.uint8Array({ maxLength: 33 }) }),
      ),
    })
    fc.assert(
      fc.property(shaped, fc.uint8Array({ maxLength: 8 }), (proof, key) => {
        assert.equal(verifyProof(new Uint8Array(32).fill(9), key, undefined, proof as StateProof), false)
      }),
      { numRuns: 300 },
    )
  })

  it('decodes proof bytes strictly: a typed error or a proof that re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .tuple(fc.constantFrom(0, 1, 2), fc.nat(3), fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 5 }))
            .map(([flag, extra, parts]) => {
              const count = parts.length - (flag === 1 ? 2 : 0)
              const head = Uint8Array.of(1, flag, 0, Math.max(0, count))
              return Uint8Array.from([...head, ...parts.flatMap((p) => [...p]), ...new Uint8Array(extra === 3 ? 1 : 0)])
            }),
        ),
        (bytes) => {
          let proof: StateProof
          try {
            proof = decodeStateProof(bytes)
          } catch (err) {
            assert.ok(err instanceof StateError && err.code === 'STATE_PROOF_MALFORMED', String(err))
            return
          }
          assert.deepEqual(encodeStateProof(proof), bytes)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('round-trips real proofs through bytes', async () => {
    const store = createMemoryStateStore()
    const b = store.batch()
    for (let i = 0; i < 200; i++) b.put(keyOf(String(i)), Uint8Array.of(i))
    await b.commit()
    for (let i = 0; i < 260; i += 3) {
      const proof = decodeStateProof(encodeStateProof(await store.prove(keyOf(String(i)))))
      assert.equal(verifyProof(store.root, keyOf(String(i)), i < 200 ? Uint8Array.of(i) : undefined, proof), true)
    }
    await store.close()
  })
})
