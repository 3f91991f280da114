import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

/** The package root (where index.html and vite.config.ts live). */
export const dashboardRootDir: string = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Absolute path of the built static files (`build/`, gitignored). */
export function dashboardAssetsDir(): string {
  return join(dashboardRootDir, 'build')
}
