import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { cidOf, encodeCanonical, fromHex, merkleProof, merkleRoot, sha256, toHex, verifyMerkleProof } from '../src/index.ts'

test('sha256 matches the FIPS 180-2 "abc" vector', () => {
  assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

test('sha256 of parts equals sha256 of their concatenation', () => {
  const a = Uint8Array.of(1, 2)
  const b = Uint8Array.of(3)
  assert.deepEqual(sha256(a, b), sha256(Uint8Array.of(1, 2, 3)))
})

test('the CID of canonical bytes is dag-cbor + sha2-256 and is stable', () => {
  const cid = cidOf(encodeCanonical({ hello: 'world' }))
  assert.equal(cid.version, 1)
  assert.equal(cid.code, 0x71)
  assert.equal(cid.multihash.code, 0x12)
  assert.equal(cid.toString(), cidOf(encodeCanonical({ hello: 'world' })).toString())
})

test('merkle root follows RFC 6962 (two leaves)', () => {
  const a = Uint8Array.of(1)
  const b = Uint8Array.of(2)
  const leaf = (x: Uint8Array) => createHash('sha256').update(Uint8Array.of(0)).update(x).digest()
  const expected = createHash('sha256').update(Uint8Array.of(1)).update(leaf(a)).update(leaf(b)).digest()
  assert.equal(toHex(merkleRoot([a, b])), expected.toString('hex'))
})

test('merkle proofs verify for every leaf of every size, and fail for other leaves or roots', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 40 }), fc.nat(), (leaves, pick) => {
      const root = merkleRoot(leaves)
      const index = pick % leaves.length
      const proof = merkleProof(leaves, index)
      assert.equal(verifyMerkleProof(root, leaves[index] as Uint8Array, proof), true)
      assert.equal(verifyMerkleProof(root, Uint8Array.of(...(leaves[index] as Uint8Array), 0xff), proof), false)
      assert.equal(verifyMerkleProof(sha256(root), leaves[index] as Uint8Array, proof), false)
    }),
    { numRuns: 300 },
  )
})

test('malformed merkle proofs are false, not exceptions', () => {
  const leaves = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]
  const root = merkleRoot(leaves)
  const proof = merkleProof(leaves, 0)
  assert.equal(verifyMerkleProof(root, Uint8Array.of(1), { ...proof, siblings: [] }), false)
  assert.equal(verifyMerkleProof(root, Uint8Array.of(1), { ...proof, siblings: [...proof.siblings, new Uint8Array(32)] }), false)
  assert.equal(verifyMerkleProof(root, Uint8Array.of(1), { ...proof, index: -1 }), false)
  assert.equal(verifyMerkleProof(root, Uint8Array.of(1), { ...proof, siblings: [new Uint8Array(5), ...proof.siblings.slice(1)] }), false)
})

test('hex round-trips and rejects bad input', () => {
  assert.deepEqual(fromHex(toHex(Uint8Array.of(0, 255, 16))), Uint8Array.of(0, 255, 16))
  assert.throws(() => fromHex('abc'), RangeError)
  assert.throws(() => fromHex('zz'), RangeError)
})
