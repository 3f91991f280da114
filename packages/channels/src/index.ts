/**
 * @terrane/channels: unidirectional payment channels in the style of Filecoin's paych actor, as the
 * chain module 'channels', plus the pure voucher rules shared with offline payees and hubs.
 */
export { ChannelError, channelRejectReasons, channelRejectReasonOf, type ChannelRejectReason } from './errors.ts'
export {
  applyVoucher,
  channelIdBytes,
  checkVoucher,
  creditedMicro,
  lanesMax,
  signedVoucherSchema,
  signVoucher,
  verifyVoucher,
  voucherPayloadBytes,
  voucherSchema,
  voucherSigningBytes,
  type ChannelView,
  type LaneState,
  type SignedVoucher,
  type Voucher,
  type VoucherVerdict,
} from './voucher.ts'
export {
  channelIdOf,
  channelIds,
  channelIndexEntrySchema,
  channelIndexKeys,
  channelKey,
  channelOf,
  channelRecordSchema,
  channelsMessages,
  channelsModule,
  channelsParamsSchema,
  channelStatuses,
  defaultChannelsParams,
  laneStateSchema,
  readChannel,
  readModuleValue,
  seqOfIndexKey,
  type ChannelIdQuery,
  type ChannelRecord,
  type ChannelsModuleInit,
  type ChannelsParams,
  type ChannelStatus,
} from './module.ts'
export { createHub, type Hub, type HubChannel, type HubInit, type RouteRequest, type RouteVerdict } from './hub.ts'
