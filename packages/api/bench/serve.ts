// A populated MemoryBackend API server for the benchmark: prints its URL on stdout.
import { MemoryBackend, createApiServer, populateMemoryBackend } from '../src/index.ts'

const backend = new MemoryBackend()
populateMemoryBackend(backend, { seed: 1, devices: 10_000, blocks: 50 })
const server = await createApiServer({ backend }, { rateLimit: false, hasDocs: false })
console.log(await server.start({ port: 0 }))
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)))
