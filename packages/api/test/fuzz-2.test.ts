import { runFuzz } from './fuzz.ts'

runFuzz(1, 2)
