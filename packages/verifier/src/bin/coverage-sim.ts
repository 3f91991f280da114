// `terrane sim coverage`: node --import tsx packages/verifier/src/bin/coverage-sim.ts --devices 10000 --seed 1
// The only file of this package that reads process: the command line enters here and nowhere else.
/* eslint-disable no-restricted-globals */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { adversaryKinds, formatSimTable, runCoverageSim, type AdversaryKind } from '../sim/index.ts'

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'adversary-share': { type: 'string', default: '0.1' },
    adversaries: { type: 'string', default: adversaryKinds.join(',') },
    epochs: { type: 'string', default: '1' },
    'remote-entropy-only': { type: 'boolean', default: false },
    'forger-relay': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
})
const adversaries = (values.adversaries === '' ? [] : values.adversaries.split(',')) as AdversaryKind[]
for (const a of adversaries)
  if (!(adversaryKinds as readonly string[]).includes(a)) {
    console.error(`unknown adversary kind ${a}; known: ${adversaryKinds.join(', ')}`)
    process.exit(2)
  }
const started = performance.now()
const sim = runCoverageSim({
  devices: Number(values.devices),
  seed: values.seed,
  adversaryShare: Number(values['adversary-share']),
  adversaries,
  epochs: Number(values.epochs),
  localEntropy: !values['remote-entropy-only'],
  forgerRelay: values['forger-relay'],
})
const seconds = (performance.now() - started) / 1000
if (values.json)
  console.log(
    JSON.stringify(
      {
        seed: values.seed,
        devices: Number(values.devices),
        rows: sim.rows,
        epochs: sim.epochs.map((e) => ({ epoch: e.epoch, rows: e.rows })),
        seconds,
      },
      null,
      2,
    ),
  )
else {
  console.log(
    `terrane sim coverage --devices ${values.devices} --seed ${values.seed} --adversary-share ${values['adversary-share']} --epochs ${values.epochs}${values['remote-entropy-only'] ? ' --remote-entropy-only' : ''}${values['forger-relay'] ? ' --forger-relay' : ''}`,
  )
  for (const line of formatSimTable(sim)) console.log(line)
  console.log(`Digest ${Buffer.from(sim.result.digest.hash).toString('hex')}; ${seconds.toFixed(1)} s.`)
}
