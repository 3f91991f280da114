/**
 * Node-side entry of @terrane/dashboard: where the built single-page app lives,
 * how to build it, and a static server with API forwarding. The app itself is
 * under src/app/ and runs in the browser (it is bundled by Vite, not imported).
 */
export { dashboardAssetsDir, dashboardRootDir } from './config.ts'
export { buildDashboard, viteConfig, type BuildDashboardInit } from './build.ts'
export { startDashboardServer, isApiPath, apiPathPrefixes, type DashboardServer, type DashboardServerInit } from './server.ts'
export { DashboardError, upstreamErrorCode, type DashboardErrorCode } from './errors.ts'
