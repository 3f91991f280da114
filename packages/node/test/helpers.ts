import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeDevnet, loadNodeConfig } from '../src/index.ts'

/** Polls `predicate` every `pollMs` until it holds, or fails naming `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** A one-validator devnet in a fresh temporary directory, with its node's config on loopback and OS-assigned ports. */
export async function oneValidatorDevnet(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0 })
  const home = (layout.nodes[0] as { home: string }).home
  const config = await loadNodeConfig(home, { p2p: { listen: '/ip4/127.0.0.1/tcp/0' }, api: { port: 0 } })
  return { dir, layout, config }
}
