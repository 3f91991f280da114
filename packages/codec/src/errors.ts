/** Stable codes for every way untrusted bytes can be refused. */
export type CodecErrorCode =
  | 'CODEC_MALFORMED' // not valid DAG-CBOR at all
  | 'CODEC_NON_CANONICAL' // valid CBOR, but not the one canonical encoding of its value
  | 'CODEC_TRAILING_BYTES' // a value followed by more bytes
  | 'CODEC_TOO_LARGE' // the whole message exceeds its size limit
  | 'CODEC_SCHEMA' // decodes, but has the wrong shape, type, range or field size

/** Raised for bytes or values that do not fit the canonical encoding or a schema. */
export class CodecError extends Error {
  static override name = 'CodecError'
  override name = 'CodecError'
  readonly code: CodecErrorCode
  /** Where in the value the problem is, e.g. `tx.body.amount`. */
  readonly path: string

  constructor(code: CodecErrorCode, message: string, path = '') {
    super(path === '' ? message : `${path}: ${message}`)
    this.code = code
    this.path = path
  }
}
