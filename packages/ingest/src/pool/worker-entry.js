// Plain-JavaScript entry of a signature-pool worker: workers do not inherit the parent's module
// hooks, so register the TypeScript loader before loading the worker (as @terrane/crypto's pool).
import { register } from 'tsx/esm/api'

register()
await import('./worker.ts')
