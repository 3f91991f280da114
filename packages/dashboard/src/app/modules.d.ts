// Assets Vite bundles: the stylesheet and the TopoJSON outlines (typed where they are used).
declare module '*.css'
declare module 'world-atlas/*.json' {
  const topology: unknown
  export default topology
}
