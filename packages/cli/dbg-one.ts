import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalDevnet } from './src/index.ts'
const dir = await mkdtemp(join(tmpdir(), 'terrane-one-'))
const devnet = await LocalDevnet.open({ dir, validators: 1, basePort: 37500 })
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a)
try {
  devnet.start([0])
  await devnet.waitForHeight(5, 200_000, [0])
  const v = devnet.node(0)
  await v.kill()
  log('killed at', v.height)
  v.start()
  await devnet.waitForHeight(v.height + 3, 120_000, [0])
  log('resumed', v.height)
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
