export * from './types.ts'
export type * from './app.ts'
