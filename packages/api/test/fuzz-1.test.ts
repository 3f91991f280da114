import { runFuzz } from './fuzz.ts'

runFuzz(0, 2)
