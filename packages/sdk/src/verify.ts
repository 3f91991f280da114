import { fromHex, sha256, toHex, verifyMerkleProof } from '@terrane/codec'
import { memoryProofFormat, verifyMemoryStateProof } from '@terrane/api/memory-proof'
import type { BlockHeaderDto, StateProofDto, TxDto } from '@terrane/api/schemas'

/** Verifies a state proof of one format: (root, key, value|null, proof) -> boolean. */
export type StateProofVerifier = (root: Uint8Array, key: Uint8Array, value: Uint8Array | null, proof: Uint8Array) => boolean

/**
 * Verifiers by `proofFormat`. `@terrane/state`'s `verifyProof` registers here under
 * its format name (`registerStateProofVerifier`) once the node serves its proofs.
 */
const verifiers = new Map<string, StateProofVerifier>([[memoryProofFormat, verifyMemoryStateProof]])

export function registerStateProofVerifier(format: string, verifier: StateProofVerifier): void {
  verifiers.set(format, verifier)
}

export type ProofVerdict =
  { isValid: true } | { isValid: false; reason: 'unknown_format' | 'root_mismatch' | 'proof_rejected' | 'hash_mismatch' | 'malformed' }

/**
 * Light verification of a state proof: the proof must hold against `trustedRoot`
 * (a header's stateRoot you trust), not merely against the root the server sent.
 */
export function verifyStateProof(proof: StateProofDto, trustedRoot: string = proof.root): ProofVerdict {
  if (proof.root !== trustedRoot) return { isValid: false, reason: 'root_mismatch' }
  const verifier = verifiers.get(proof.proofFormat)
  if (verifier === undefined) return { isValid: false, reason: 'unknown_format' }
  try {
    const ok = verifier(fromHex(proof.root), fromHex(proof.key), proof.value === null ? null : fromHex(proof.value), fromHex(proof.proof))
    return ok ? { isValid: true } : { isValid: false, reason: 'proof_rejected' }
  } catch {
    return { isValid: false, reason: 'malformed' }
  }
}

/** Checks that a transaction's bytes hash to its id and are included under the header's txRoot. */
export function verifyTxInclusion(tx: TxDto, header: BlockHeaderDto): ProofVerdict {
  try {
    const bytes = fromHex(tx.bytes)
    if (toHex(sha256(bytes)) !== tx.hash) return { isValid: false, reason: 'hash_mismatch' }
    if (tx.proof.txRoot !== header.txRoot || tx.height !== header.height) return { isValid: false, reason: 'root_mismatch' }
    const ok = verifyMerkleProof(fromHex(header.txRoot), bytes, {
      index: tx.proof.index,
      count: tx.proof.count,
      siblings: tx.proof.siblings.map(fromHex),
    })
    return ok ? { isValid: true } : { isValid: false, reason: 'proof_rejected' }
  } catch {
    return { isValid: false, reason: 'malformed' }
  }
}
