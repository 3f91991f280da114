function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Epochs as 12 decimal digits so keys sort by epoch. */
function epochKey(epoch: number): string {
  return String(epoch).padStart(12, '0')
}

/** Key layout inside the module's scope (ASCII). */
export const coverageKeys = {
  params: (): string => 'params', //                                   -> CoverageParamsOnChain
  schedule: (): string => 'schedule', //                               -> { steps }
  reviewers: (): string => 'reviewers', //                             -> { keys }
  reserve: (): string => 'reserve', //                                 -> { forfeitedMicro, slashedMicro }
  verifier: (address: Uint8Array): string => `v/${hex(address)}`, //  -> VerifierState
  verifiers: (): string => 'v/',
  submission: (epoch: number, verifier: Uint8Array): string => `s/${epochKey(epoch)}/${hex(verifier)}`, // -> Submission
  submissions: (epoch: number): string => `s/${epochKey(epoch)}/`,
  epoch: (epoch: number): string => `e/${epochKey(epoch)}`, //         -> EpochState
  epochs: (): string => 'e/',
  queue: (epoch: number): string => `q/${epochKey(epoch)}`, //         -> marker: complete, not yet paid
  queued: (): string => 'q/',
  upload: (epoch: number, uploader: Uint8Array): string => `u/${epochKey(epoch)}/${hex(uploader)}`, // -> { chunks, payouts }
  chunk: (epoch: number, uploader: Uint8Array, index: number): string =>
    `c/${epochKey(epoch)}/${hex(uploader)}/${String(index).padStart(6, '0')}`, // -> { payouts }
  escrow: (deviceId: string): string => `x/${deviceId}`, //            -> DeviceEscrow
  escrows: (): string => 'x/',
  appeal: (rulingHash: Uint8Array): string => `a/${hex(rulingHash)}`, // -> marker (single use)
}
