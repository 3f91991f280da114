import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSessionToken, decodeSessionToken, encodeSessionToken, sessionAuthority, IngestError } from '../src/index.ts'
import { ManualClock, chainId, directoryOf, testDevice } from './fixtures.ts'

const alice = testDevice('alice')
const bob = testDevice('bob')
const secret = new Uint8Array(32).fill(7)

function fixture() {
  const clock = new ManualClock()
  const directory = directoryOf(alice, bob)
  const session = sessionAuthority({ chainId, secret, challengeTtlMs: 60_000, usedTokensMax: 3 })({ clock, directory })
  return { clock, directory, session }
}

describe('session tokens', () => {
  it('opens a session for a token signed by the registered key over a fresh challenge', () => {
    const { session } = fixture()
    const nonce = session.challenge(alice.deviceId)
    assert.deepEqual(session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, nonce, alice.sign)), {
      ok: true,
      deviceId: alice.deviceId,
    })
  })

  it('round-trips the token encoding and refuses a malformed one with a typed error', () => {
    const token = { nonce: new Uint8Array(32).fill(1), signature: new Uint8Array(64).fill(2) }
    assert.deepEqual(decodeSessionToken(encodeSessionToken(token)), token)
    assert.throws(
      () => decodeSessionToken(Uint8Array.of(1, 2, 3)),
      (err: unknown) => err instanceof IngestError && err.code === 'INGEST_BAD_TOKEN',
    )
  })

  const reasons: {
    name: string
    reason: string
    run: (f: ReturnType<typeof fixture>) => ReturnType<ReturnType<typeof fixture>['session']['authenticate']>
  }[] = [
    { name: 'no username', reason: 'username_invalid', run: (f) => f.session.authenticate(undefined, new Uint8Array(0)) },
    {
      name: 'a username that is not a device id',
      reason: 'username_invalid',
      run: (f) => f.session.authenticate('terrane/#', new Uint8Array(0)),
    },
    { name: 'no password', reason: 'token_malformed', run: (f) => f.session.authenticate(alice.deviceId, undefined) },
    {
      name: 'a nonce the server never issued',
      reason: 'challenge_forged',
      run: (f) =>
        f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, new Uint8Array(32).fill(9), alice.sign)),
    },
    {
      name: 'a nonce issued for another device',
      reason: 'challenge_forged',
      run: (f) =>
        f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, f.session.challenge(bob.deviceId), alice.sign)),
    },
    {
      name: 'an expired challenge',
      reason: 'challenge_expired',
      run: (f) => {
        const nonce = f.session.challenge(alice.deviceId)
        f.clock.ms += 60_001
        return f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, nonce, alice.sign))
      },
    },
    {
      name: 'a token signed by another key',
      reason: 'bad_signature',
      run: (f) =>
        f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), bob.sign)),
    },
    {
      name: 'a token signed for another chain',
      reason: 'bad_signature',
      run: (f) =>
        f.session.authenticate(
          alice.deviceId,
          createSessionToken('other', alice.deviceId, f.session.challenge(alice.deviceId), alice.sign),
        ),
    },
    {
      name: 'an unregistered device',
      reason: 'unknown_device',
      run: (f) => {
        const eve = testDevice('eve')
        return f.session.authenticate(eve.deviceId, createSessionToken(chainId, eve.deviceId, f.session.challenge(eve.deviceId), eve.sign))
      },
    },
    {
      name: 'a revoked device',
      reason: 'device_inactive',
      run: (f) => {
        f.directory.set(alice.deviceId, { publicKey: alice.publicKey, status: 'revoked' })
        return f.session.authenticate(
          alice.deviceId,
          createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign),
        )
      },
    },
    {
      name: 'a token used twice',
      reason: 'challenge_reused',
      run: (f) => {
        const token = createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign)
        assert.equal(f.session.authenticate(alice.deviceId, token).ok, true)
        return f.session.authenticate(alice.deviceId, token)
      },
    },
    {
      name: 'more live tokens than it can remember',
      reason: 'busy',
      run: (f) => {
        for (let i = 0; i < 3; i++) {
          f.clock.ms += 1
          assert.equal(
            f.session.authenticate(
              alice.deviceId,
              createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign),
            ).ok,
            true,
          )
        }
        f.clock.ms += 1
        return f.session.authenticate(
          alice.deviceId,
          createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign),
        )
      },
    },
  ]
  for (const c of reasons) {
    it(`refuses ${c.name} (${c.reason})`, () => {
      const verdict = c.run(fixture())
      assert.equal(verdict.ok, false)
      assert.equal(!verdict.ok && verdict.reason, c.reason)
    })
  }

  it('forgets used tokens once their challenge expired, so memory stays bounded', () => {
    const f = fixture()
    for (let i = 0; i < 3; i++) {
      f.clock.ms += 1
      assert.equal(
        f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign))
          .ok,
        true,
      )
    }
    f.clock.ms += 60_001
    assert.equal(
      f.session.authenticate(alice.deviceId, createSessionToken(chainId, alice.deviceId, f.session.challenge(alice.deviceId), alice.sign))
        .ok,
      true,
    )
  })

  it('refuses a secret shorter than 32 bytes', () => {
    assert.throws(
      () => sessionAuthority({ chainId, secret: new Uint8Array(16) })({ clock: new ManualClock(), directory: directoryOf() }),
      (err: unknown) => err instanceof IngestError && err.code === 'INGEST_CONFIG',
    )
  })
})
