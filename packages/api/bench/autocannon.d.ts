// The few autocannon 9 fields the benchmark reads (the package ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number
    p50: number
    p99: number
  }
  interface Result {
    requests: Histogram
    latency: Histogram
    non2xx: number
    errors: number
  }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    method?: string
    body?: string
    headers?: Record<string, string>
  }
  export default function autocannon(options: Options): Promise<Result>
}
