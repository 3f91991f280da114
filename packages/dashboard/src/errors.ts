export type DashboardErrorCode = 'DASHBOARD_NOT_BUILT' | 'DASHBOARD_BAD_API_URL' | 'DASHBOARD_LISTEN'

/** Code in the JSON body of the 502 the static server answers when the node API is unreachable. */
export const upstreamErrorCode = 'DASHBOARD_UPSTREAM'

/** Node-side failures of the dashboard helpers (building and serving), matched by `code`. */
export class DashboardError extends Error {
  static override name = 'DashboardError'
  override name = 'DashboardError'
  readonly code: DashboardErrorCode
  constructor(code: DashboardErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
