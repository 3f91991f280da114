// Runs in a worker thread of the signature pool: verifies one packed batch per message.
import { parentPort } from 'node:worker_threads'
import { verifyDeviceSignature } from '@terrane/attestation'
import { unpackBatch } from './packing.ts'

export interface BatchRequest {
  id: number
  count: number
  packed: Uint8Array
}

export interface BatchResponse {
  id: number
  /** 1 = valid, 0 = invalid, one byte per item in request order. */
  results: Uint8Array
}

// Loaded (TypeScript compiled, attestation imported): the pool's ready() waits for this.
parentPort?.postMessage({ ready: true })

parentPort?.on('message', (request: BatchRequest) => {
  const results = new Uint8Array(request.count)
  let i = 0
  // verifyDeviceSignature keeps this thread's own LRU of parsed KeyObjects: a device's key is
  // parsed once per worker, not once per report.
  unpackBatch(request.packed, (item) => {
    results[i++] = verifyDeviceSignature(item.publicKey, item.message, item.signature) ? 1 : 0
  })
  const response: BatchResponse = { id: request.id, results }
  parentPort?.postMessage(response, [results.buffer])
})
