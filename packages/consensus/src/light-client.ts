import { bytesEqual } from './validator-set.ts'
import { blockHash, validatorSetHash, type Commit, type Header, type Validator } from './types.ts'
import { verifyCommit, type VerifySignature } from './verify.ts'

export type LightClientErrorCode =
  | 'LIGHT_WRONG_CHAIN'
  | 'LIGHT_NOT_LATER'
  | 'LIGHT_TRUST_EXPIRED'
  | 'LIGHT_TIME_NOT_INCREASING'
  | 'LIGHT_HEADER_FROM_FUTURE'
  | 'LIGHT_VALIDATORS_MISMATCH'
  | 'LIGHT_NEXT_VALIDATORS_MISMATCH'
  | 'LIGHT_INVALID_COMMIT'
  | 'LIGHT_NOT_ENOUGH_TRUST'
  | 'LIGHT_INVALID_ARGUMENT'

/** Why a header was not accepted: each check has its own code. */
export class LightClientError extends Error {
  static override name = 'LightClientError'
  override name = 'LightClientError'
  readonly code: LightClientErrorCode
  constructor(code: LightClientErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

export interface LightClientInit {
  chainId: string
  /** How long a trusted header may be relied on; keep it below the unbonding period (CometBFT suggests 2/3 of it). */
  trustingPeriodMs: number
  /** Share of the trusted set that must sign a skipped-to header. @default 1/3 (CometBFT DefaultTrustLevel) */
  trustLevel?: { numerator: number; denominator: number }
  /** Tolerated clock difference for headers from the future. @default 10_000 (CometBFT: 10 s) */
  clockDriftMaxMs?: number
  verify?: VerifySignature
}

/** What the light client already trusts: a header and the validator set it names for the next height. */
export interface TrustedBlock {
  header: Header
  nextValidators: Validator[]
}

/** A header to check, with its commit and its own validator set (in canonical order). */
export interface LightBlock {
  header: Header
  commit: Commit
  validators: Validator[]
}

export type LightVerdict = 'adjacent' | 'skipping'

/**
 * Verifies a later header against a trusted one (CometBFT light/verifier.go).
 * Adjacent (height + 1): its validator set must be the trusted header's next set, and
 * more than 2/3 of it must sign. Skipping: more than the trust level (1/3) of the trusted
 * next set must have signed (so at least one honest validator vouches for it), and more
 * than 2/3 of its own set. Throws a {@link LightClientError} naming the failed check.
 */
export function verifyLightBlock(trusted: TrustedBlock, untrusted: LightBlock, nowMs: number, init: LightClientInit): LightVerdict {
  const trustLevel = init.trustLevel ?? { numerator: 1, denominator: 3 }
  if (trustLevel.denominator <= 0 || 3 * trustLevel.numerator < trustLevel.denominator || trustLevel.numerator > trustLevel.denominator) {
    throw new LightClientError('LIGHT_INVALID_ARGUMENT', 'trust level must be within [1/3, 1]')
  }
  const driftMs = init.clockDriftMaxMs ?? 10_000
  const t = trusted.header
  const u = untrusted.header
  if (u.chainId !== init.chainId || t.chainId !== init.chainId)
    throw new LightClientError('LIGHT_WRONG_CHAIN', `expected chain ${init.chainId}`)
  if (nowMs - t.timeMs > init.trustingPeriodMs) {
    throw new LightClientError('LIGHT_TRUST_EXPIRED', `trusted header at ${t.height} is older than the trusting period`)
  }
  if (u.height <= t.height) throw new LightClientError('LIGHT_NOT_LATER', `header ${u.height} is not after trusted ${t.height}`)
  if (u.timeMs <= t.timeMs) throw new LightClientError('LIGHT_TIME_NOT_INCREASING', 'header time is not after the trusted header time')
  if (u.timeMs > nowMs + driftMs) throw new LightClientError('LIGHT_HEADER_FROM_FUTURE', 'header time is ahead of the local clock')
  if (!bytesEqual(validatorSetHash(untrusted.validators), u.validatorsHash)) {
    throw new LightClientError('LIGHT_VALIDATORS_MISMATCH', 'validator set does not match the header validatorsHash')
  }
  const hash = blockHash(u)
  const isAdjacent = u.height === t.height + 1
  if (isAdjacent) {
    if (!bytesEqual(u.validatorsHash, t.nextValidatorsHash)) {
      throw new LightClientError('LIGHT_NEXT_VALIDATORS_MISMATCH', 'adjacent header validators are not the trusted next validators')
    }
  } else {
    const trust = verifyCommit(trusted.nextValidators, untrusted.commit, {
      chainId: init.chainId,
      height: u.height,
      blockHash: hash,
      isUnknownAllowed: true,
      threshold: trustLevel,
      ...(init.verify === undefined ? {} : { verify: init.verify }),
    })
    if (trust === 'insufficient-power') throw new LightClientError('LIGHT_NOT_ENOUGH_TRUST', 'not enough of the trusted validators signed')
    if (typeof trust === 'string') throw new LightClientError('LIGHT_INVALID_COMMIT', `commit refused: ${trust}`)
  }
  const tally = verifyCommit(untrusted.validators, untrusted.commit, {
    chainId: init.chainId,
    height: u.height,
    blockHash: hash,
    ...(init.verify === undefined ? {} : { verify: init.verify }),
  })
  if (typeof tally === 'string') throw new LightClientError('LIGHT_INVALID_COMMIT', `commit refused: ${tally}`)
  return isAdjacent ? 'adjacent' : 'skipping'
}
