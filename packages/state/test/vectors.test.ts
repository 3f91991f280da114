import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { createMemoryStateStore, decodeStateProof, encodeStateProof, verifyProof } from '../src/index.ts'

// Pinned vectors for light clients in other languages (README, "Hashing rules"). Keys
// and values are UTF-8; the keys are not 32 bytes long, so their paths are SHA-256(key).
const text = new TextEncoder()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

const vectors: { name: string; entries: [string, string][]; root: string; proofs: Record<string, string> }[] = [
  {
    name: 'one entry: the root is the leaf hash',
    entries: [['alice', '100']],
    root: 'e88595db6e2373140c77336108e543dd79e1c6420dff08568b120417c8af88b5',
    proofs: {
      alice:
        '010100002bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90ad57366865126e55649ecb23ae1d48887544976efea46a48eb5d85a6eeb4d306',
    },
  },
  {
    name: 'two entries',
    entries: [
      ['alice', '100'],
      ['bob', '250'],
    ],
    root: '09eae5797fe2e6d28766ac3560a937680be542850baae192e7ee5953263b4cbf',
    proofs: {
      alice:
        '010100012bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90ad57366865126e55649ecb23ae1d48887544976efea46a48eb5d85a6eeb4d30686a9d88f51490ff8bcff472ccd45652defed660ce4c69ee10b6f1bf8b055f15b',
      zed: '0101000181b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce91e472b39b105d349bcd069c4a711b44a2fffb8e274714bb07ecfff69a9a7f67be88595db6e2373140c77336108e543dd79e1c6420dff08568b120417c8af88b5',
    },
  },
  {
    name: 'five entries, one empty value and one longer than 64 bytes',
    entries: [
      ['alice', '100'],
      ['bob', '250'],
      ['carol', ''],
      ['dave', '7'],
      ['erin', 'x'.repeat(70)],
    ],
    root: '889fd9d93d8bbf559f248dc29220264bb6e97ab93d6fde29e3f50639f7f62873',
    proofs: {
      alice:
        '010100022bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90ad57366865126e55649ecb23ae1d48887544976efea46a48eb5d85a6eeb4d30686a9d88f51490ff8bcff472ccd45652defed660ce4c69ee10b6f1bf8b055f15b9bd09f72f1bff8433effe9ff82ed15040d955db42514b4a1e7e513911fe64e48',
      zed: '0101000181b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce91e472b39b105d349bcd069c4a711b44a2fffb8e274714bb07ecfff69a9a7f67bd9100d8bc96c56c3efb0f2cc7c7d06af4a5f17305626ce50d70fe658523abfdd',
    },
  },
]

describe('state hashing vectors', () => {
  it('the leaf hash is SHA-256(0x00 || path || SHA-256(value))', () => {
    const leaf = sha256(Uint8Array.of(0), sha256(text.encode('alice')), sha256(text.encode('100')))
    assert.equal(hex(leaf), (vectors[0] as { root: string }).root)
  })

  for (const v of vectors) {
    it(v.name, async () => {
      const store = createMemoryStateStore()
      const b = store.batch()
      for (const [k, value] of v.entries) b.put(text.encode(k), text.encode(value))
      await b.commit()
      assert.equal(hex(store.root), v.root)
      const values = new Map(v.entries)
      for (const [key, proofHex] of Object.entries(v.proofs)) {
        const proof = await store.prove(text.encode(key))
        assert.equal(hex(encodeStateProof(proof)), proofHex)
        const value = values.get(key)
        const pinned = decodeStateProof(Buffer.from(proofHex, 'hex'))
        assert.equal(verifyProof(store.root, text.encode(key), value === undefined ? undefined : text.encode(value), pinned), true)
      }
      await store.close()
    })
  }
})
