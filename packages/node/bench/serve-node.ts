// A serving peer for the block-sync benchmark, in its own process (as it would be on
// another machine): starts the node at the home given as argument, prints one JSON
// line with its listen addresses, and runs until SIGINT or SIGTERM.
import { pino } from 'pino'
import { loadNodeConfig, startNode } from '../src/index.ts'

const home = process.argv[2]
if (home === undefined) throw new Error('usage: serve-node.ts <home>')
const config = await loadNodeConfig(home, {
  logLevel: 'warn',
  p2p: { listen: '/ip4/127.0.0.1/tcp/0', bootstrap: [] },
  api: { port: 0 },
  mqtt: { port: -1 },
})
const node = await startNode({ config, logger: pino({ level: 'warn' }, pino.destination(2)) })
process.stdout.write(JSON.stringify({ height: node.blockStore.height, addresses: node.p2p.addresses() }) + '\n')
const stop = () => {
  void node.stop().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
