// The device-facing wire protocol of the ingest (topics, session tokens), importable without the
// broker: `@terrane/ingest/protocol` is what @terrane/device depends on.
export {
  topicPrefix,
  reportsTopicFilter,
  deviceIdPattern,
  shareGroupPattern,
  reportsTopic,
  commandsTopic,
  sharedReportsTopicFilter,
  parseDeviceTopic,
  type DeviceChannel,
} from './topics.ts'
export {
  sessionDomainTag,
  sessionNonceBytes,
  sessionTokenBytesMax,
  sessionTokenSchema,
  sessionSigningBytes,
  encodeSessionToken,
  decodeSessionToken,
  createSessionToken,
  type SessionToken,
} from './session.ts'
export { IngestError, type IngestErrorCode } from './errors.ts'
