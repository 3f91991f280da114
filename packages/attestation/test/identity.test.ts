import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign, createPrivateKey, type KeyObject } from 'node:crypto'
import {
  deviceIdFromPublicKey,
  decodeDeviceId,
  verifyDeviceSignature,
  compressPublicKey,
  isValidDevicePublicKey,
  AttestationError,
} from '../src/index.ts'

// n of P-256 (SEC 2 v2, section 2.4.2)
const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
// The generator G (private key d = 1), SEC 2 v2 section 2.4.2.
const gUncompressed = Buffer.from(
  '046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5',
  'hex',
)
const gCompressed = Buffer.from('036B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296', 'hex')

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.length - 65))
}

function toBytes32(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex')
}

describe('deviceIdFromPublicKey', () => {
  it('matches an independently computed vector (G, bech32m reference implementation in Python)', () => {
    assert.equal(deviceIdFromPublicKey(gCompressed), 'tdev1twhl3808mewp67mpjws4vl8wavuhe0dgzcaww0')
    assert.equal(deviceIdFromPublicKey(gUncompressed), 'tdev1twhl3808mewp67mpjws4vl8wavuhe0dgzcaww0')
  })

  it('gives the same id for the compressed and uncompressed forms of random keys', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const raw = rawPublicKey(publicKey)
      const compressed = compressPublicKey(raw)
      assert.equal(compressed.length, 33)
      assert.equal(deviceIdFromPublicKey(compressed), deviceIdFromPublicKey(raw))
      assert.equal(decodeDeviceId(deviceIdFromPublicKey(raw)).length, 20)
    }
  })

  it('rejects garbage, wrong lengths, bad prefixes and points off the curve with ATTESTATION_BAD_KEY', () => {
    const offCurve = Buffer.from(gUncompressed)
    offCurve[64] = (offCurve[64] ?? 0) ^ 1
    const badX = Buffer.alloc(33, 0xff)
    badX[0] = 0x02
    const bad: Uint8Array[] = [new Uint8Array(0), new Uint8Array(65), Buffer.from(gUncompressed.subarray(0, 64)), offCurve, badX]
    const wrongPrefix = Buffer.from(gCompressed)
    wrongPrefix[0] = 0x04
    bad.push(wrongPrefix)
    for (const key of bad) {
      assert.equal(isValidDevicePublicKey(key), false)
      assert.throws(
        () => deviceIdFromPublicKey(key),
        (err: unknown) => err instanceof AttestationError && err.code === 'ATTESTATION_BAD_KEY',
      )
    }
  })

  it('rejects device ids with a wrong prefix or checksum', () => {
    const id = deviceIdFromPublicKey(gCompressed)
    for (const bad of [id.replace('tdev', 'trn'), id.slice(0, -1) + (id.endsWith('q') ? 'p' : 'q'), 'garbage']) {
      assert.throws(
        () => decodeDeviceId(bad),
        (err: unknown) => err instanceof AttestationError && err.code === 'ATTESTATION_BAD_DEVICE_ID',
      )
    }
  })
})

describe('verifyDeviceSignature', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const raw = rawPublicKey(publicKey)
  const message = new TextEncoder().encode('report 42')
  const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })

  it('accepts a valid signature with either key form', () => {
    assert.equal(verifyDeviceSignature(raw, message, signature), true)
    assert.equal(verifyDeviceSignature(compressPublicKey(raw), message, signature), true)
  })

  it('rejects a different message, a different key, a flipped bit and wrong lengths', () => {
    assert.equal(verifyDeviceSignature(raw, new TextEncoder().encode('report 43'), signature), false)
    const other = rawPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)
    assert.equal(verifyDeviceSignature(other, message, signature), false)
    const flipped = Buffer.from(signature)
    flipped[10] = (flipped[10] ?? 0) ^ 0x01
    assert.equal(verifyDeviceSignature(raw, message, flipped), false)
    assert.equal(verifyDeviceSignature(raw, message, signature.subarray(0, 63)), false)
    assert.equal(verifyDeviceSignature(raw, message, Buffer.concat([signature, Buffer.alloc(1)])), false)
    assert.equal(verifyDeviceSignature(new Uint8Array(7), message, signature), false)
  })

  it('accepts the high-S twin (r, n - s): devices do not normalise s; replay checks key on the message', () => {
    const r = signature.subarray(0, 32)
    const s = BigInt('0x' + signature.subarray(32).toString('hex'))
    const twin = Buffer.concat([r, toBytes32(n - s)])
    assert.notDeepEqual(twin, signature)
    assert.equal(verifyDeviceSignature(raw, message, twin), true)
  })

  it('rejects r or s equal to 0 or n', () => {
    const r = signature.subarray(0, 32)
    const s = signature.subarray(32)
    for (const bad of [
      Buffer.concat([r, Buffer.alloc(32)]),
      Buffer.concat([Buffer.alloc(32), s]),
      Buffer.concat([r, toBytes32(n)]),
      Buffer.concat([toBytes32(n), s]),
    ])
      assert.equal(verifyDeviceSignature(raw, message, bad), false)
  })

  it('verifies a signature by the private key d = 1 under the generator G', () => {
    const d1 = createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        d: toBytes32(1n).toString('base64url'),
        x: gUncompressed.subarray(1, 33).toString('base64url'),
        y: gUncompressed.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    })
    const sig = sign('sha256', message, { key: d1, dsaEncoding: 'ieee-p1363' })
    assert.equal(verifyDeviceSignature(gCompressed, message, sig), true)
  })
})
