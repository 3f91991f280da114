import { test } from 'node:test'
import assert from 'node:assert/strict'
import { verifyLightBlock, LightClientError, type Block, type Commit, type LightClientErrorCode, type Validator } from '../src/index.ts'
import { chainId, startAll, testNet, validatorsOf } from './helpers.ts'

const net = testNet([1, 1, 1, 1])
startAll(net)
net.run(() => net.nodes.every((n) => n.decided.length >= 6))
const node = net.nodes[0] as NonNullable<(typeof net.nodes)[0]>
const canonical: Validator[] = node.state.validators.validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power }))
const block = (h: number) => node.decided[h - 1] as Block
const commit = (h: number) => node.commits[h - 1] as Commit
const init = { chainId, trustingPeriodMs: 3_600_000 }
const now = () => block(6).header.timeMs + 1000
const trusted = { header: block(1).header, nextValidators: canonical }
const light = (h: number) => ({ header: block(h).header, commit: commit(h), validators: canonical })
const fails = (code: LightClientErrorCode) => (e: unknown) => e instanceof LightClientError && e.code === code

test('adjacent and skipping headers verify', () => {
  assert.equal(verifyLightBlock(trusted, light(2), now(), init), 'adjacent')
  assert.equal(verifyLightBlock(trusted, light(5), now(), init), 'skipping')
})

test('a trusted header older than the trusting period is refused', () => {
  assert.throws(() => verifyLightBlock(trusted, light(5), block(1).header.timeMs + 3_600_001, init), fails('LIGHT_TRUST_EXPIRED'))
})

test('a validator set that does not match the header is refused', () => {
  const other = validatorsOf([1, 1, 1, 1, 1]).validators
  assert.throws(() => verifyLightBlock(trusted, { ...light(3), validators: other }, now(), init), fails('LIGHT_VALIDATORS_MISMATCH'))
})

test('an adjacent header must carry the trusted next validators', () => {
  const forged = { ...trusted, header: { ...trusted.header, nextValidatorsHash: new Uint8Array(32) } }
  assert.throws(() => verifyLightBlock(forged, light(2), now(), init), fails('LIGHT_NEXT_VALIDATORS_MISMATCH'))
})

test('a commit with two thirds or less of the power is refused', () => {
  const c = commit(4)
  const thin = { ...c, signatures: c.signatures.slice(0, 2) }
  assert.throws(() => verifyLightBlock(trusted, { ...light(4), commit: thin }, now(), init), fails('LIGHT_INVALID_COMMIT'))
  const forged = { ...c, signatures: c.signatures.map((s) => ({ ...s, timeMs: s.timeMs + 1 })) }
  assert.throws(() => verifyLightBlock(trusted, { ...light(4), commit: forged }, now(), init), fails('LIGHT_INVALID_COMMIT'))
  const wrongBlock = { ...c, blockHash: new Uint8Array(32) }
  assert.throws(() => verifyLightBlock(trusted, { ...light(4), commit: wrongBlock }, now(), init), fails('LIGHT_INVALID_COMMIT'))
})

test('skipping needs more than the trust level of the trusted set', () => {
  // The trusted set is a different one, of which only validator 0 (1 of 4: below 1/3) is in the new set.
  const strangers = validatorsOf([1, 1, 1, 1, 1, 1, 1]).validators.slice(4)
  const mine = canonical.find(
    (v) => Buffer.compare(v.address, node.state.validators.validators[0]?.address as Uint8Array) === 0,
  ) as Validator
  const t = { header: block(1).header, nextValidators: [mine, ...strangers] }
  assert.throws(() => verifyLightBlock(t, light(5), now(), init), fails('LIGHT_NOT_ENOUGH_TRUST'))
  // With a trust level of 1 every trusted validator must sign: the real set does not all sign every commit.
  const partial = commit(5).signatures.length < 4
  if (partial)
    assert.throws(
      () => verifyLightBlock(trusted, light(5), now(), { ...init, trustLevel: { numerator: 1, denominator: 1 } }),
      fails('LIGHT_NOT_ENOUGH_TRUST'),
    )
  assert.throws(
    () => verifyLightBlock(trusted, light(5), now(), { ...init, trustLevel: { numerator: 1, denominator: 4 } }),
    fails('LIGHT_INVALID_ARGUMENT'),
  )
})

test('headers must move forward, stay on the chain and not come from the future', () => {
  assert.throws(
    () => verifyLightBlock({ header: block(3).header, nextValidators: canonical }, light(2), now(), init),
    fails('LIGHT_NOT_LATER'),
  )
  assert.throws(() => verifyLightBlock(trusted, light(2), now(), { ...init, chainId: 'other' }), fails('LIGHT_WRONG_CHAIN'))
  assert.throws(() => verifyLightBlock(trusted, light(5), block(5).header.timeMs - 20_000, init), fails('LIGHT_HEADER_FROM_FUTURE'))
})
