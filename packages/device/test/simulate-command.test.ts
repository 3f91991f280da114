import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DeviceError, parseSimulateArgs } from '../src/index.ts'

describe('terrane device simulate arguments', () => {
  it('parses the documented options with defaults', () => {
    assert.deepEqual(parseSimulateArgs(['--count', '1000', '--region', '40.7,-74.0,15', '--broker', 'mqtt://127.0.0.1:1883']), {
      count: 1000,
      region: { lat: 40.7, lng: -74, radiusKm: 15 },
      seed: '1',
      chainId: 'terrane-devnet',
      rounds: 1,
      beacons: 0,
      brokerUrl: 'mqtt://127.0.0.1:1883',
    })
  })
  for (const argv of [['--region', '1,2'], ['--count', '-1'], ['--count', 'many'], ['--bogus']]) {
    it(`refuses ${argv.join(' ')} with DEVICE_CONFIG and the usage`, () => {
      assert.throws(
        () => parseSimulateArgs(argv),
        (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_CONFIG' && err.message.includes('terrane device simulate'),
      )
    })
  }
})
