export { CodecError, type CodecErrorCode } from './errors.ts'
export { encodeCanonical, decodeCanonical, bytesEqual, messageBytesMax, type DecodeInit } from './cbor.ts'
export {
  t,
  encode,
  decode,
  fieldBytesMax,
  arrayLengthMax,
  type Schema,
  type OptionalSchema,
  type Infer,
  type InferShape,
  type IntInit,
  type BytesInit,
  type StringInit,
  type ArrayInit,
} from './schema.ts'
export { sha256, hashOf, cidOf, contentIdOf, merkleRoot, merkleProof, verifyMerkleProof, hashBytes, type MerkleProof } from './hash.ts'
export { toHex, fromHex } from './hex.ts'
