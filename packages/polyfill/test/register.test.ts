import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hasPromiseWithResolvers } from '../src/index.ts'

test('Promise.withResolvers exists after loading the polyfill', () => {
  assert.equal(hasPromiseWithResolvers(), true)
})

test('resolve settles the promise with the value', async () => {
  const { promise, resolve } = Promise.withResolvers<number>()
  resolve(42)
  assert.equal(await promise, 42)
})

test('reject settles the promise with the reason', async () => {
  const { promise, reject } = Promise.withResolvers<number>()
  const reason = new Error('no')
  reject(reason)
  await assert.rejects(promise, (err: unknown) => err === reason)
})

test('works for Promise subclasses, as the spec requires', async () => {
  class Tagged<T> extends Promise<T> {}
  const { promise, resolve } = Promise.withResolvers.call(Tagged) as { promise: Promise<string>; resolve: (v: string) => void }
  assert.ok(promise instanceof Tagged)
  resolve('ok')
  assert.equal(await promise, 'ok')
})
