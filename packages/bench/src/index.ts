export { measure, measureAsync, percentile, type MeasureInit, type Measurement } from './measure.ts'
export { ed25519VerifyLimitPerSecond, p256VerifyLimitPerSecond } from './limits.ts'
export { report, type BenchRow } from './report.ts'
