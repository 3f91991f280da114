// Seeds 151-225 of the 300 that `npm test` runs (the key-value app), split over files that run in parallel.
import { range, seedSuite } from './seed-suite.ts'

seedSuite(range(151, 225), 'kv')
