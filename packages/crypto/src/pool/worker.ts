// Runs in a worker thread of the verifier pool.
/* eslint-disable no-restricted-imports */
import { parentPort } from 'node:worker_threads'
import { verifySignature } from '../ed25519.ts'

export interface BatchRequest {
  id: number
  /** Concatenated public keys (32 bytes each). */
  publicKeys: Uint8Array
  signatures: Uint8Array
  messages: Uint8Array[]
}

parentPort?.on('message', (request: BatchRequest) => {
  const count = request.messages.length
  const results = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const ok = verifySignature(
      request.publicKeys.subarray(i * 32, i * 32 + 32),
      request.messages[i] as Uint8Array,
      request.signatures.subarray(i * 64, i * 64 + 64),
    )
    results[i] = ok ? 1 : 0
  }
  parentPort?.postMessage({ id: request.id, results }, [results.buffer])
})
