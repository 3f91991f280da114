import { test } from 'node:test'
import assert from 'node:assert/strict'
import { adversaryKinds } from '@terrane/verifier/sim'
import { exitCodes } from '../src/index.ts'
import { testCli } from './helpers.ts'

// 150 devices: a few seconds on a loaded 2-core machine.
const args = ['sim', 'coverage', '--devices', '150', '--seed', '11']

test('sim coverage prints the per-kind table, and the same run for the same seed', async () => {
  const cli = await testCli()
  try {
    const text = await cli.run(args)
    assert.equal(text.code, exitCodes.ok, text.stderr)
    const lines = text.stdout.trimEnd().split('\n')
    assert.equal(
      lines[0],
      `terrane sim coverage --devices 150 --seed 11 --adversary-share 0.1 --adversaries ${adversaryKinds.join(',')} --epochs 1`,
    )
    assert.equal(
      lines[1],
      '| kind | devices | detected | rate | without radio evidence | rate among those with evidence | paid share | earned share (incl. escrow) | fair share | paid / fair |',
    )
    const rows = lines.filter((l) => /^\| [a-z_]+ \| [0-9]+ \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()))
    const kinds = rows.map((r) => r[1])
    // Adversaries come in groups, so 15 of 150 devices cover the first kinds only, in adversaryKinds order.
    assert.equal(kinds[0], 'honest')
    assert.ok(kinds.length >= 3, `honest and at least two adversary kinds, got ${kinds.join(',')}`)
    assert.deepEqual(kinds.slice(1), adversaryKinds.slice(0, kinds.length - 1))
    assert.equal(
      rows.reduce((n, r) => n + Number(r[2]), 0),
      150,
      'the rows count every device once',
    )
    for (const r of rows) {
      assert.ok(Number(r[3]) <= Number(r[2]), `${r[1]}: detected <= devices`)
      assert.ok(Number(r[5]) <= Number(r[2]), `${r[1]}: without radio evidence <= devices`)
      assert.match(r[4] ?? '', r[1] === 'honest' ? /%\s+\(false positives\)$/ : /%\s+\(recall\)$/)
    }
    assert.match(text.stdout, /^Honest devices with a report rejected for a cheating reason: [0-9]+ of [0-9]+/m)
    assert.match(text.stdout, /^All attackers: [0-9.]+% of devices, paid [0-9.]+% of the pool: [0-9.]+x their fair share\.$/m)
    const digest = /^Digest ([0-9a-f]{64}); [0-9.]+ s\.$/m.exec(text.stdout)?.[1]
    assert.ok(digest !== undefined, 'the epoch digest is printed')
    assert.doesNotMatch(text.stdout, /Detection per epoch/, 'one epoch: no per-epoch table')

    // The same seed again, as JSON: the same epoch digest and the same numbers as the table.
    const json = await cli.run([...args, '--json'])
    assert.equal(json.code, exitCodes.ok, json.stderr)
    const out = JSON.parse(json.stdout) as {
      seed: string
      devices: number
      digest: string
      rows: Array<{ kind: string; devices: number; detected: number; withoutEvidence: number; paidShare: number }>
    }
    assert.equal(out.seed, '11')
    assert.equal(out.devices, 150)
    assert.equal(out.digest, digest)
    assert.deepEqual(
      out.rows.map((r) => [r.kind, String(r.devices), String(r.detected), String(r.withoutEvidence), `${(r.paidShare * 100).toFixed(2)}%`]),
      rows.map((r) => [r[1], r[2], r[3], r[5], r[7]]),
    )
  } finally {
    await cli.cleanup()
  }
})

test('sim coverage mixes in the adversary kinds named by flag, at the share asked', async () => {
  const cli = await testCli()
  try {
    const small = [
      'sim',
      'coverage',
      '--devices',
      '60',
      '--seed',
      '11',
      '--adversaries',
      'spoofer,witness_ring',
      '--adversary-share',
      '0.2',
      '--json',
    ]
    const run = await cli.run(small)
    assert.equal(run.code, exitCodes.ok, run.stderr)
    const out = JSON.parse(run.stdout) as { digest: string; rows: Array<{ kind: string; devices: number }> }
    assert.deepEqual(
      out.rows.map((r) => r.kind),
      ['honest', 'spoofer', 'witness_ring'],
    )
    assert.equal(out.rows[0]?.devices, 48, '20% of 60 devices are adversaries')
    const otherSeed = await cli.run(small.map((a) => (a === '11' ? '12' : a)))
    assert.notEqual((JSON.parse(otherSeed.stdout) as { digest: string }).digest, out.digest, 'another seed, another world')
  } finally {
    await cli.cleanup()
  }
})

interface SimJson {
  digest: string
  localEntropy: boolean
  forgerRelay: boolean
  witnessReports: number
  rows: Array<{ kind: string; devices: number; detected: number; detectedShare: number }>
  epochs: Array<{ epoch: number; digest: string; rows: Array<{ kind: string; detected: number; detectedShare: number }> }>
}

test('sim coverage --epochs 2 prints detection per epoch, deterministic per seed, epoch 1 as a 1-epoch run', async () => {
  const cli = await testCli()
  try {
    const base = ['sim', 'coverage', '--devices', '60', '--seed', '11']
    const text = await cli.run([...base, '--epochs', '2'])
    assert.equal(text.code, exitCodes.ok, text.stderr)
    const lines = text.stdout.trimEnd().split('\n')
    assert.match(lines[0] ?? '', / --epochs 2$/)
    const digest = /^Digest ([0-9a-f]{64}); [0-9.]+ s\.$/m.exec(text.stdout)?.[1]
    assert.ok(digest !== undefined, 'the last epoch digest is printed')
    const header = lines.findIndex((l) => l.startsWith('| epoch |'))
    assert.ok(header > 0, 'a per-epoch table follows the summary')
    assert.match(lines[header - 2] ?? '', /^Detection per epoch/)
    const perEpoch = lines
      .slice(header + 2)
      .filter((l) => /^\| [0-9]+ \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()))
    assert.deepEqual(
      perEpoch.map((r) => r[1]),
      ['1', '2'],
    )
    const kinds = (lines[header] ?? '')
      .split('|')
      .map((c) => c.trim())
      .slice(2, -2)

    // The same seed as JSON: the same last digest, per-epoch digests and the numbers of the text table.
    const json = await cli.run([...base, '--epochs', '2', '--json'])
    assert.equal(json.code, exitCodes.ok, json.stderr)
    const out = JSON.parse(json.stdout) as SimJson
    assert.equal(out.digest, digest)
    assert.deepEqual(
      out.epochs.map((e) => e.epoch),
      [1, 2],
    )
    assert.equal(out.epochs[1]?.digest, digest, "the summary digest is the last epoch's")
    assert.notEqual(out.epochs[0]?.digest, out.epochs[1]?.digest, 'each epoch has its own digest')
    assert.deepEqual(
      out.rows.map((r) => r.kind),
      kinds,
    )
    for (const [i, e] of out.epochs.entries())
      assert.deepEqual(
        perEpoch[i]?.slice(2, 2 + kinds.length),
        kinds.map((k) => `${((e.rows.find((r) => r.kind === k)?.detectedShare ?? NaN) * 100).toFixed(1)}%`),
        `epoch ${e.epoch} row`,
      )
    assert.deepEqual(
      out.rows.map((r) => r.detected),
      out.epochs[1]?.rows.map((r) => r.detected),
      "the summary detection is the last epoch's",
    )

    // Epoch 1 of two is the epoch of a one-epoch run: the second epoch only adds to the history.
    const one = await cli.run([...base, '--json'])
    assert.equal(one.code, exitCodes.ok, one.stderr)
    const oneOut = JSON.parse(one.stdout) as SimJson
    assert.equal(oneOut.digest, out.epochs[0]?.digest)
    assert.equal(oneOut.epochs.length, 1)
  } finally {
    await cli.cleanup()
  }
})

test('sim coverage passes --forger-relay and --remote-entropy-only to the simulator', async () => {
  const cli = await testCli()
  try {
    const base = [
      'sim',
      'coverage',
      '--devices',
      '60',
      '--seed',
      '11',
      '--adversaries',
      'rssi_forger',
      '--adversary-share',
      '0.2',
      '--json',
    ]
    const runs: SimJson[] = []
    for (const flags of [[], ['--forger-relay'], ['--remote-entropy-only']]) {
      const run = await cli.run([...base, ...flags])
      assert.equal(run.code, exitCodes.ok, `${flags.join(' ')}: ${run.stderr}`)
      runs.push(JSON.parse(run.stdout) as SimJson)
    }
    const [plain, relay, remote] = runs as [SimJson, SimJson, SimJson]
    assert.deepEqual(
      runs.map((r) => [r.localEntropy, r.forgerRelay]),
      [
        [true, false],
        [true, true],
        [false, false],
      ],
    )
    // With local entropy and no relay, forgers cannot claim beacons they did not hear; with a relay, or
    // with payloads computable from public entropy, they do: more witness reports, another digest.
    assert.ok(relay.witnessReports > plain.witnessReports, `relay ${relay.witnessReports} > plain ${plain.witnessReports}`)
    assert.ok(remote.witnessReports > plain.witnessReports, `remote-only ${remote.witnessReports} > plain ${plain.witnessReports}`)
    assert.notEqual(relay.digest, plain.digest)
    assert.notEqual(remote.digest, plain.digest)
  } finally {
    await cli.cleanup()
  }
})

test('sim coverage refuses bad options with one usage line', async () => {
  const cli = await testCli()
  try {
    for (const [argv, message] of [
      [['--adversaries', 'spoofer,lizard'], /unknown adversary kind "lizard"; known: spoofer,/],
      [['--adversary-share', '1.5'], /--adversary-share must be a fraction in \[0, 1\)/],
      [['--devices', '0'], /--devices must be in 1\.\.1000000/],
      [['--devices', 'many'], /--devices must be a non-negative integer/],
      [['--epochs', '0'], /--epochs must be in 1\.\.100, got 0/],
      [['--epochs', '101'], /--epochs must be in 1\.\.100, got 101/],
      [['--epochs', '2.5'], /--epochs must be a non-negative integer/],
    ] as const) {
      const run = await cli.run(['sim', 'coverage', ...argv])
      assert.equal(run.code, exitCodes.usage, argv.join(' '))
      assert.match(run.stderr, /^error \[CLI_USAGE\]: /)
      assert.match(run.stderr, message)
      assert.equal(run.stderr.trim().split('\n').length, 1)
    }
  } finally {
    await cli.cleanup()
  }
})
