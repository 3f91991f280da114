export { FirmwareError, type FirmwareErrorCode } from './errors.ts'
export { ed25519Signer, tufKeyId, type TufSigner, type TufPublicKey } from './tuf/keys.ts'
export {
  FirmwareRepository,
  tufSpecVersion,
  firmwareBytesMax,
  targetsCountMax,
  tufRoleNames,
  type TufRoleName,
  type RoleKeys,
  type FirmwareRepositoryInit,
  type FirmwareTarget,
  type PublishInit,
} from './tuf/repository.ts'
export { FirmwareUpdater, type FirmwareUpdaterInit, type FirmwareImage } from './tuf/client.ts'
export {
  verifyMeasuredBoot,
  replayBootEvents,
  extendPcr,
  bootEventsMax,
  pcrIndexMax,
  type BootEvent,
  type BootComponent,
  type MeasuredBootReport,
  type AllowedRelease,
  type MeasuredBootRejectReason,
  type MeasuredBootVerdict,
} from './measured-boot.ts'
