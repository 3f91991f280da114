/**
 * Topic layout of the ingest (MQTT). Devices publish signed reports to their own
 * `reports` topic and read their own `commands` topic; nothing else.
 *
 *   terrane/v1/devices/<deviceId>/reports    device -> network (signed DeviceReport)
 *   terrane/v1/devices/<deviceId>/commands   network -> device
 */
export const topicPrefix = 'terrane/v1/devices'
/** What an ingest consumer subscribes to: every device's reports. */
export const reportsTopicFilter = `${topicPrefix}/+/reports`

/** Bech32m device ids (`tdev1` + data + checksum); no MQTT wildcard or separator can match. */
export const deviceIdPattern = /^tdev1[02-9ac-hj-np-z]{6,100}$/
/** MQTT shared-subscription group names: letters, digits, `-` and `_` (no `/`, `+`, `#`). */
export const shareGroupPattern = /^[A-Za-z0-9_-]{1,64}$/

export type DeviceChannel = 'reports' | 'commands'

export function reportsTopic(deviceId: string): string {
  return `${topicPrefix}/${deviceId}/reports`
}

export function commandsTopic(deviceId: string): string {
  return `${topicPrefix}/${deviceId}/commands`
}

/**
 * The MQTT 5 shared subscription (`$share/<group>/<filter>`) that splits the report stream
 * among every consumer in `group`: each message goes to exactly one member.
 */
export function sharedReportsTopicFilter(group: string): string {
  if (!shareGroupPattern.test(group)) throw new RangeError(`share group must match ${shareGroupPattern}`)
  return `$share/${group}/${reportsTopicFilter}`
}

/** Splits a concrete device topic into its device id and channel, or undefined if it is not one. */
export function parseDeviceTopic(topic: string): { deviceId: string; channel: DeviceChannel } | undefined {
  if (!topic.startsWith(`${topicPrefix}/`)) return undefined
  const rest = topic.slice(topicPrefix.length + 1)
  const slash = rest.indexOf('/')
  if (slash < 0) return undefined
  const deviceId = rest.slice(0, slash)
  const channel = rest.slice(slash + 1)
  if (channel !== 'reports' && channel !== 'commands') return undefined
  if (!deviceIdPattern.test(deviceId)) return undefined
  return { deviceId, channel }
}
