/** Percentiles of a sample of latencies, in ms. */
export interface Summary { p50: number, p99: number, mean: number, min: number, max: number }

export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const index = Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)
  return sorted[Math.max(0, index)] as number
}

export function summarize (samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN }
}

export function formatRow (lead: Array<string | number>, s: Summary, ...tail: string[]): string {
  return [...lead.map(String), s.p50.toFixed(1), s.p99.toFixed(1), s.mean.toFixed(1), ...tail].join(' | ')
}

/** A command-line option that must be a whole number in [min, max]; a bad one ends the bench with status 2, naming it. */
export function wholeOption (name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`)
    process.exit(2)
  }
  return n
}
