import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  addressOfPublicKey,
  decodeAddress,
  decryptKeystore,
  domainMessage,
  encodeAddress,
  encryptKeystore,
  seedSigner,
  signInDomain,
  verifyInDomain,
  CryptoError,
} from '../src/index.ts'

const signer = seedSigner(new Uint8Array(32).fill(1))
const payload = Uint8Array.of(1, 2, 3)

test('a signature verifies only in the domain it was made for', () => {
  const sig = signInDomain(signer, { chainId: 'terrane-1', kind: 'tx' }, payload)
  assert.equal(verifyInDomain(signer.publicKey, { chainId: 'terrane-1', kind: 'tx' }, payload, sig), true)
  assert.equal(verifyInDomain(signer.publicKey, { chainId: 'terrane-2', kind: 'tx' }, payload, sig), false)
  assert.equal(verifyInDomain(signer.publicKey, { chainId: 'terrane-1', kind: 'vote' }, payload, sig), false)
})

test('domain fields are length-prefixed, so boundaries cannot shift', () => {
  const a = domainMessage({ chainId: 'ab', kind: 'c' }, payload)
  const b = domainMessage({ chainId: 'a', kind: 'bc' }, payload)
  assert.notDeepEqual(a, b)
  assert.throws(() => domainMessage({ chainId: '', kind: 'tx' }, payload), CryptoError)
})

test('addresses round-trip and reject wrong prefix, bad checksum and wrong length', () => {
  const address = addressOfPublicKey(signer.publicKey)
  assert.match(address, /^trn1[02-9ac-hj-np-z]+$/)
  assert.equal(decodeAddress(address).length, 20)
  const flipped = address.slice(0, -1) + (address.endsWith('q') ? 'p' : 'q')
  assert.throws(() => decodeAddress(flipped), { code: 'CRYPTO_BAD_ADDRESS' })
  assert.throws(() => decodeAddress(encodeAddress(new Uint8Array(20), 'tdev')), { code: 'CRYPTO_BAD_ADDRESS' })
  assert.throws(() => decodeAddress('not an address'), { code: 'CRYPTO_BAD_ADDRESS' })
  assert.throws(() => encodeAddress(new Uint8Array(19)), { code: 'CRYPTO_BAD_ADDRESS' })
})

let counter = 0
const random = (n: number) => new Uint8Array(n).fill(++counter)

test('keystore round-trips with the right password and refuses a wrong one', () => {
  const seed = new Uint8Array(32).fill(9)
  const ks = encryptKeystore(seed, 'correct horse', random, { n: 1024 })
  assert.deepEqual(decryptKeystore(JSON.parse(JSON.stringify(ks)), 'correct horse'), seed)
  assert.throws(() => decryptKeystore(ks, 'wrong'), { code: 'CRYPTO_WRONG_PASSWORD' })
})

test('a keystore whose public key was swapped does not open', () => {
  const ks = encryptKeystore(new Uint8Array(32).fill(9), 'pw', random, { n: 1024 })
  const swapped = { ...ks, publicKey: Buffer.from(signer.publicKey).toString('hex') }
  assert.throws(() => decryptKeystore(swapped, 'pw'), { code: 'CRYPTO_WRONG_PASSWORD' })
})

test('malformed keystores get a typed error', () => {
  const ks = encryptKeystore(new Uint8Array(32).fill(9), 'pw', random, { n: 1024 })
  for (const bad of [
    null,
    42,
    {},
    { ...ks, version: 2 },
    { ...ks, kdf: { ...ks.kdf, n: 1000 } },
    { ...ks, cipher: { ...ks.cipher, iv: 'zz' } },
  ]) {
    assert.throws(() => decryptKeystore(bad, 'pw'), { code: 'CRYPTO_BAD_KEYSTORE' })
  }
})
