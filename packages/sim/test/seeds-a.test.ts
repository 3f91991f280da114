// Seeds 1-75 of the 300 that `npm test` runs (the real chain app), split over files that run in parallel.
import { range, seedSuite } from './seed-suite.ts'

seedSuite(range(1, 75), 'chain')
