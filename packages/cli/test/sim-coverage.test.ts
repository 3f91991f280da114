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
    assert.equal(lines[0], `terrane sim coverage --devices 150 --seed 11 --adversary-share 0.1 --adversaries ${adversaryKinds.join(',')}`)
    assert.equal(lines[1], '| kind | devices | detected | rate | paid share | earned share (incl. escrow) | fair share | paid / fair |')
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
      assert.match(r[4] ?? '', r[1] === 'honest' ? /%\s+\(false positives\)$/ : /%\s+\(recall\)$/)
    }
    assert.match(text.stdout, /^Honest devices with a report rejected for a cheating reason: [0-9]+ of [0-9]+/m)
    assert.match(text.stdout, /^All attackers: [0-9.]+% of devices, paid [0-9.]+% of the pool: [0-9.]+x their fair share\.$/m)
    const digest = /^Digest ([0-9a-f]{64}); [0-9.]+ s\.$/m.exec(text.stdout)?.[1]
    assert.ok(digest !== undefined, 'the epoch digest is printed')

    // The same seed again, as JSON: the same epoch digest and the same numbers as the table.
    const json = await cli.run([...args, '--json'])
    assert.equal(json.code, exitCodes.ok, json.stderr)
    const out = JSON.parse(json.stdout) as {
      seed: string
      devices: number
      digest: string
      rows: Array<{ kind: string; devices: number; detected: number; paidShare: number }>
    }
    assert.equal(out.seed, '11')
    assert.equal(out.devices, 150)
    assert.equal(out.digest, digest)
    assert.deepEqual(
      out.rows.map((r) => [r.kind, String(r.devices), String(r.detected), `${(r.paidShare * 100).toFixed(2)}%`]),
      rows.map((r) => [r[1], r[2], r[3], r[5]]),
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

test('sim coverage refuses bad options with one usage line', async () => {
  const cli = await testCli()
  try {
    for (const [argv, message] of [
      [['--adversaries', 'spoofer,lizard'], /unknown adversary kind "lizard"; known: spoofer,/],
      [['--adversary-share', '1.5'], /--adversary-share must be a fraction in \[0, 1\)/],
      [['--devices', '0'], /--devices must be in 1\.\.1000000/],
      [['--devices', 'many'], /--devices must be a non-negative integer/],
      [['--epochs', '3'], /runs exactly 1 epoch so far/],
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
