import type { P2PNode } from '@terrane/p2p'

/** How often missing bootstrap peers are dialled again. */
export const bootstrapRedialIntervalMs = 2_000

/**
 * Local adapter until @terrane/p2p does it itself: libp2p's bootstrap module
 * dials each bootstrap peer once, and the DHT self-lookup runs only with at
 * least one connection, so a node whose first dials fail (the peer not up yet,
 * or too busy to finish the handshake in time) stays alone forever. This dials
 * every configured bootstrap peer we are not connected to, every
 * `intervalMs`, until stopped. Returns the stop function.
 */
export function keepBootstrapPeers(
  p2p: Pick<P2PNode, 'peers' | 'dial'>,
  addresses: readonly string[],
  log: (message: string, context: Record<string, unknown>) => void,
  intervalMs = bootstrapRedialIntervalMs,
): () => void {
  const dialing = new Set<string>()
  const controller = new AbortController()
  const tick = () => {
    const connected = new Set(p2p.peers().map((p) => p.peerId))
    for (const address of addresses) {
      const peerId = address.split('/p2p/')[1]
      if (peerId === undefined || connected.has(peerId) || dialing.has(address)) continue
      dialing.add(address)
      p2p
        .dial(address, { signal: controller.signal })
        .then(() => log('Dialled bootstrap peer again', { address }))
        .catch(() => undefined) // tried again next tick
        .finally(() => dialing.delete(address))
    }
  }
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    controller.abort()
  }
}
