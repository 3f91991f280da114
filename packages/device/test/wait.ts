import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * Waits until `condition` holds, yielding to the event loop between checks (no fixed sleeps);
 * fails after `timeoutMs` so a broken test ends instead of hanging.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await nextTurn()
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
