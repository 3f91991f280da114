import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keyPairFromSeed, seedSigner, verifySignature, isValidPublicKey } from '../src/index.ts'

import { createPublicKey, verify as opensslVerify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const L = (1n << 252n) + 27742317777372353535851937790883648493n

function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}
function fromLe(b: Uint8Array): bigint {
  let n = 0n
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number)
  return n
}
// An independent implementation with strict RFC 8032 rules, to cross-check the verifier.
function nobleStrictVerify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed25519.verify(sig, msg, pk, { zip215: false })
  } catch {
    return false
  }
}

test('RFC 8032 section 7.1 test 1: key derivation, signature and verification', () => {
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
  const pair = keyPairFromSeed(seed)
  assert.deepEqual(pair.publicKey, hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))
  const sig = seedSigner(seed).sign(new Uint8Array(0))
  assert.deepEqual(
    sig,
    hex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'),
  )
  assert.equal(verifySignature(pair.publicKey, new Uint8Array(0), sig), true)
})

const seed = new Uint8Array(32).fill(7)
const signer = seedSigner(seed)
const message = new TextEncoder().encode('terrane')
const signature = signer.sign(message)
const identity = hex('0100000000000000000000000000000000000000000000000000000000000000')
const identityNonCanonical = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')

// Edge cases from "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko 2020): the
// verdicts below are Terrane's rule, identical to libsodium's.
const edgeCases: Array<{ name: string; pk: Uint8Array; sig: Uint8Array; valid: boolean }> = [
  { name: 'valid signature', pk: signer.publicKey, sig: signature, valid: true },
  {
    name: 'non-canonical S (S + L)',
    pk: signer.publicKey,
    sig: Uint8Array.from([...signature.subarray(0, 32), ...le32(fromLe(signature.subarray(32)) + L)]),
    valid: false,
  },
  {
    name: 'small-order key: identity, R = identity, S = 0 (OpenSSL alone accepts)',
    pk: identity,
    sig: Uint8Array.from([...identity, ...new Uint8Array(32)]),
    valid: false,
  },
  {
    name: 'non-canonical encoding of the identity as key (y = p + 1)',
    pk: identityNonCanonical,
    sig: Uint8Array.from([...identity, ...new Uint8Array(32)]),
    valid: false,
  },
  {
    name: 'non-canonical R (y = p + 1)',
    pk: identity,
    sig: Uint8Array.from([...identityNonCanonical, ...new Uint8Array(32)]),
    valid: false,
  },
  {
    name: 'non-canonical key y = p',
    pk: hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
    sig: signature,
    valid: false,
  },
  {
    name: 'small-order key of order 8',
    pk: hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
    sig: Uint8Array.from([...identity, ...new Uint8Array(32)]),
    valid: false,
  },
  {
    name: 'small-order key with the sign bit set',
    pk: hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'),
    sig: Uint8Array.from([...identity, ...new Uint8Array(32)]),
    valid: false,
  },
  { name: 'truncated signature', pk: signer.publicKey, sig: signature.subarray(0, 63), valid: false },
  { name: 'short public key', pk: signer.publicKey.subarray(0, 31), sig: signature, valid: false },
]

for (const c of edgeCases) {
  test(`edge case: ${c.name} -> ${c.valid ? 'valid' : 'invalid'}, and noble (strict) agrees`, () => {
    assert.equal(verifySignature(c.pk, message, c.sig), c.valid)
    if (c.pk.length === 32 && c.sig.length === 64) assert.equal(nobleStrictVerify(c.pk, message, c.sig), c.valid)
  })
}

test('the verifier agrees with noble (strict) on random keys, messages and corrupted signatures', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (s, msg, at, value) => {
        const sgn = seedSigner(s)
        const sig = sgn.sign(msg).slice()
        assert.equal(verifySignature(sgn.publicKey, msg, sig), true)
        sig[at % 64] = value
        assert.equal(verifySignature(sgn.publicKey, msg, sig), nobleStrictVerify(sgn.publicKey, msg, sig))
      },
    ),
    { numRuns: 150 },
  )
})

test('a signature does not verify for another message or key', () => {
  assert.equal(verifySignature(signer.publicKey, new TextEncoder().encode('terranE'), signature), false)
  assert.equal(verifySignature(seedSigner(new Uint8Array(32).fill(8)).publicKey, message, signature), false)
})

test('isValidPublicKey refuses small-order and non-canonical keys', () => {
  assert.equal(isValidPublicKey(signer.publicKey), true)
  assert.equal(isValidPublicKey(identity), false)
  assert.equal(isValidPublicKey(identityNonCanonical), false)
})

test('a seed of the wrong length is refused with a typed error', () => {
  assert.throws(() => keyPairFromSeed(new Uint8Array(31)), { code: 'CRYPTO_BAD_KEY' })
})

test('why OpenSSL is not the verifier: it accepts a small-order key signing every message', () => {
  const spki = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
  const key = createPublicKey({ key: Buffer.from([...spki, ...identity]), format: 'der', type: 'spki' })
  const forged = Uint8Array.from([...identity, ...new Uint8Array(32)])
  assert.equal(opensslVerify(null, message, key, forged), true)
  assert.equal(verifySignature(identity, message, forged), false)
})
