/** Display helpers: amounts in TRN, short hashes, durations. Pure, tested in node. */

const microPerTrn = 1_000_000n

/** '1234567' micro-TRN -> '1.234567 TRN'; thousands grouped, trailing zeros trimmed. */
export function formatTrn(micro: string): string {
  const value = BigInt(micro)
  const whole = (value / microPerTrn).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const fraction = (value % microPerTrn).toString().padStart(6, '0').replace(/0+$/, '')
  return `${whole}${fraction === '' ? '' : `.${fraction}`} TRN`
}

/** abcdef...123456 */
export function shortHash(hash: string, chars = 8): string {
  return hash.length <= chars * 2 + 1 ? hash : `${hash.slice(0, chars)}…${hash.slice(-chars)}`
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  return `${(ms / 60_000).toFixed(1)} min`
}

export function formatAgo(timeMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - timeMs) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86_400)}d ago`
}

export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`
}
