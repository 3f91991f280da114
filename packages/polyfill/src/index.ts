import '../register.js'

/** True once `Promise.withResolvers` is available (natively or through the polyfill). */
export function hasPromiseWithResolvers(): boolean {
  return typeof Promise.withResolvers === 'function'
}
