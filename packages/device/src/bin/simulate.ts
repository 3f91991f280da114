#!/usr/bin/env node
// terrane device simulate --count 1000 --region 52.52,13.405,20 [--broker mqtt://host:1883]
// Run: node --import ./packages/polyfill/register.js --import tsx packages/device/src/bin/simulate.ts --count 100
import { DeviceError } from '../errors.ts'
import { parseSimulateArgs, runSimulation } from '../simulate-command.ts'

try {
  const summary = await runSimulation(parseSimulateArgs(process.argv.slice(2)))
  console.log(JSON.stringify(summary, null, 2))
} catch (err) {
  console.error(err instanceof DeviceError ? `${err.code}: ${err.message}` : err)
  process.exitCode = 1
}
