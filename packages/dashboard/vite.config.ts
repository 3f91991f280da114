// `npx vite` in packages/dashboard: a dev server with hot reload. Requests to /v1 and
// /graphql are proxied to TERRANE_API_URL (default: a devnet node's API), so the app
// runs same-origin as it does when the node serves it; `?api=` points it elsewhere.
import { defineConfig } from 'vite'
import { viteConfig } from './src/build.ts'

const target = process.env.TERRANE_API_URL ?? 'http://127.0.0.1:26601'

export default defineConfig({
  ...viteConfig({ isVerbose: true }),
  server: {
    proxy: {
      '/v1/ws': { target: target.replace(/^http/, 'ws'), ws: true },
      '/v1': { target, changeOrigin: true },
      '/graphql': { target, changeOrigin: true },
    },
  },
})
