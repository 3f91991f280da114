/** Largest encoded SignedDeviceReport accepted from the wire (LoRa/MQTT reports are far smaller). */
export const reportBytesMax = 4096
/** Largest encoded kind body inside a report (leaves room for the envelope and signature). */
export const reportBodyBytesMax = 3072
/** Longest chain id mixed into the signing bytes (UTF-8 bytes). */
export const chainIdBytesMax = 64
/** Longest device id string (bech32m `tdev1...` of 20 bytes is 43 characters). */
export const deviceIdCharsMax = 90
/** Longest firmware version string in a heartbeat. */
export const firmwareVersionBytesMax = 64
/** Bytes of a beacon payload: 52, the size of a Helium IoT PoC beacon (LoRa SF9 fits it in one frame). */
export const beaconPayloadBytes = 52
/** Longest beacon payload accepted in a report (future payload sizes stay below it). */
export const beaconPayloadBytesMax = 256
/** Bytes of challenge entropy and of every hash carried in a report. */
export const entropyBytes = 32
/** Longest sensor or unit name in a reading. */
export const readingNameBytesMax = 64
/** Longest session id in a receipt. */
export const sessionIdBytesMax = 64
