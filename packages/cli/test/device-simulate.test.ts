import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { decode, fromHex } from '@terrane/codec'
import { addressOfPublicKey } from '@terrane/crypto'
import { onboardingRequestSchema } from '@terrane/device'
import { exitCodes } from '../src/index.ts'
import { testCli } from './helpers.ts'

// 3 devices against the embedded ingest: a few seconds (certificates, MQTT connections with session tokens).
const args = ['device', 'simulate', '--count', '3', '--seed', 'cli-sim', '--region', '-33.87,151.21,5', '--chain-id', 'terrane-test']

async function requestsIn(path: string) {
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
  return lines.map((hex) => decode(onboardingRequestSchema, fromHex(hex)))
}

test('device simulate onboards devices and reports through the embedded ingest; the same seed, the same devices', async () => {
  const cli = await testCli()
  try {
    // A negative latitude is a value, not a flag; --out is relative to the working directory.
    const text = await cli.run([...args, '--beacons', '1', '--out', 'a.hex'])
    assert.equal(text.code, exitCodes.ok, text.stderr)
    const lines = text.stdout.trimEnd().split('\n')
    assert.equal(lines[0], 'Simulated 3 devices within 5 km of -33.87,151.21 (seed cli-sim, chain terrane-test).')
    assert.equal(lines[1], 'Onboarded: 3 of 3, every onboarding request and X.509 attestation verified.')
    const sent = /^Sent to the embedded ingest: 3 heartbeats, ([0-9]+) beacons?, ([0-9]+) witness reports?\.$/.exec(lines[2] ?? '')
    assert.ok(sent !== null, lines[2])
    const [beacons, witnesses] = [Number(sent[1]), Number(sent[2])]
    assert.equal(beacons, 1, 'one beaconing device per round')
    // Everything sent was signed by an onboarded device's key and accepted: nothing refused.
    assert.equal(lines[3], `Ingest: ${3 + beacons + witnesses} accepted, none refused.`)
    assert.equal(lines[4], `Onboarding requests written to ${join(cli.dir, 'a.hex')}.`)
    assert.match(lines[5] ?? '', /^Elapsed: [0-9]+\.[0-9] s\.$/)

    const first = await requestsIn(join(cli.dir, 'a.hex'))
    assert.equal(first.length, 3)
    for (const r of first) {
      assert.equal(r.body.chainId, 'terrane-test')
      assert.equal(addressOfPublicKey(r.body.ownerPublicKey), r.body.owner)
    }
    assert.equal(new Set(first.map((r) => r.body.deviceId)).size, 3, 'three distinct devices')

    // The same seed again, as JSON: the same devices (keys, owners, locations), every heartbeat accepted.
    const json = await cli.run([...args, '--rounds', '2', '--out', 'b.hex', '--json'])
    assert.equal(json.code, exitCodes.ok, json.stderr)
    const summary = JSON.parse(json.stdout) as Record<string, unknown>
    assert.deepEqual(
      { ...summary, elapsedMs: 0 },
      { devices: 3, onboarded: 3, heartbeats: 6, beacons: 0, witnesses: 0, ingest: { accepted: 6, rejected: {} }, elapsedMs: 0 },
    )
    const again = await requestsIn(join(cli.dir, 'b.hex'))
    const identity = (r: (typeof first)[number]) => [r.body.deviceId, r.body.owner, r.body.location]
    assert.deepEqual(again.map(identity), first.map(identity))
  } finally {
    await cli.cleanup()
  }
})

test('device simulate refuses bad options with one usage line', async () => {
  const cli = await testCli()
  try {
    for (const [argv, message] of [
      [['--region', '1,2'], /--region must be lat,lng,radiusKm$/],
      [
        ['--region', '52.5,13.4,0'],
        /--region must be lat \(-90\.\.90\), lng \(-180\.\.180\), radiusKm \(0 < r <= 2000\), got "52\.5,13\.4,0"$/,
      ],
      [['--region', '95,13.4,5'], /--region must be lat \(-90\.\.90\)/],
      [['--region', '52.5,13.4,2001'], /radiusKm \(0 < r <= 2000\)/],
      [['--count', 'many'], /--count must be an integer in 0\.\.100000$/],
      [['--count', '100001'], /--count must be an integer in 0\.\.100000$/],
      [['--rounds', '-1'], /--rounds must be an integer in 0\.\.10000$/],
      [['--beacons', '1.5'], /--beacons must be an integer in 0\.\.100000$/],
      [['--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const run = await cli.run(['device', 'simulate', ...argv])
      assert.equal(run.code, exitCodes.usage, `${argv.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /^error \[CLI_USAGE\]: /)
      assert.match(run.stderr.trimEnd(), message)
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
      assert.equal(run.stdout, '')
    }
  } finally {
    await cli.cleanup()
  }
})

test('device simulate against a broker that refuses connections fails with one DEVICE_CONNECT line', async () => {
  const cli = await testCli()
  try {
    // A port that was free a moment ago: nothing listens on it.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const run = await cli.run(['device', 'simulate', '--count', '1', '--broker', `mqtt://127.0.0.1:${port}`])
    assert.equal(run.code, exitCodes.error, run.stderr)
    assert.match(run.stderr, /^error \[DEVICE_CONNECT\]: broker refused tdev1[0-9a-z]+: connect ECONNREFUSED/)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
  } finally {
    await cli.cleanup()
  }
})
