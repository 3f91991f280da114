// Node 20 lacks Promise.withResolvers (added in Node 22); libp2p 3 and its
// dependencies call it on every connection. Loaded with `node --import` before
// anything else, so it must stay plain JavaScript with no imports.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers() {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
