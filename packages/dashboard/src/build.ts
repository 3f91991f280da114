import { build, type InlineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { dashboardAssetsDir, dashboardRootDir } from './config.ts'

export interface BuildDashboardInit {
  /** Where to write the static files. @default dashboardAssetsDir() */
  outDir?: string
  /** Print Vite's progress. @default false */
  isVerbose?: boolean
}

/** The Vite configuration shared by `buildDashboard` and `vite.config.ts` (dev server). */
export function viteConfig(init: BuildDashboardInit = {}): InlineConfig {
  return {
    configFile: false,
    root: dashboardRootDir,
    // Relative asset URLs: the files work when served at `/` or under any prefix.
    base: './',
    plugins: [react()],
    logLevel: init.isVerbose === true ? 'info' : 'error',
    build: {
      outDir: init.outDir ?? dashboardAssetsDir(),
      emptyOutDir: true,
      // The outline chunks (1:50m 0.8 MB, 1:10m 3.7 MB of TopoJSON) load only on the map page, the second only when zoomed in.
      chunkSizeWarningLimit: 4096,
    },
  }
}

/** Builds the single-page app with Vite's build API (a few seconds). */
export async function buildDashboard(init: BuildDashboardInit = {}): Promise<void> {
  await build(viteConfig(init))
}
