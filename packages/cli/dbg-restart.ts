import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalDevnet } from './src/index.ts'
const dir = await mkdtemp(join(tmpdir(), 'terrane-rs-'))
const devnet = await LocalDevnet.open({ dir, validators: 4, basePort: 37000 })
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a)
try {
  devnet.start([0, 1, 2, 3])
  await devnet.waitForHeight(4, 200_000, [0, 1, 2, 3])
  log(
    'all at 4',
    devnet.nodes.map((n) => n.height),
  )
  const v3 = devnet.node(3)
  await v3.kill()
  log('killed v3 at', v3.height)
  await devnet.waitForHeight(v3.height + 3, 90_000, [0, 1, 2])
  log(
    'others progressed',
    devnet.nodes.map((n) => n.height),
  )
  v3.start()
  const target = Math.max(...devnet.nodes.slice(0, 3).map((n) => n.height)) + 2
  await devnet.waitForHeight(target, 200_000, [3])
  log(
    'v3 caught up',
    devnet.nodes.map((n) => n.height),
  )
} catch (err) {
  log(
    'FAILED',
    (err as Error).message,
    devnet.nodes.map((n) => n.height),
  )
} finally {
  await devnet.stop(10_000).catch(() => devnet.killAll())
  console.log('dir', dir)
}
