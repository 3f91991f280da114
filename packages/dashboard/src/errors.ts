export type DashboardErrorCode = 'DASHBOARD_NOT_BUILT' | 'DASHBOARD_BAD_API_URL' | 'DASHBOARD_LISTEN'

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
