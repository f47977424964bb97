import type { Random } from '../src/interface/index.js'
import type { Scenario } from './scenario.js'

/** One request of the workload, fixed before the run so that the federation cannot change it. */
export interface PlannedRequest {
  /** `r1`, `r2`, ... in arrival order */
  id: string
  /** virtual ms after the start */
  atMs: number
  domain: string
  /** index into the scenario's mix */
  spec: number
  /** how long the VM lives before it is destroyed; absent: to the end */
  lifetimeMs?: number
}

/**
 * The requests of a scenario's workload, drawn from `random` alone (its own stream, not the
 * actors'): the same seed gives the same requests whatever the federation does with them.
 */
export function planWorkload (workload: Scenario['workload'], random: Random): PlannedRequest[] {
  if (workload.trace !== undefined) return workload.trace.requests.map((r, i) => ({ id: `r${i + 1}`, ...r }))
  if (workload.arrivals === undefined || workload.domains === undefined) throw new Error('a workload without a trace needs arrivals and domains')
  const times = arrivalTimes(workload.arrivals, random)
  const domains = workload.domains.names ?? Array.from({ length: workload.domains.count ?? 1 }, (_, k) => `domain-${k + 1}`)
  const zipf = workload.domains.zipf
  const pickDomain = weightedPicker(domains.map((_, k) => 1 / Math.pow(k + 1, zipf)))
  const pickSpec = weightedPicker(workload.mix.map((m) => m.weight))
  return times.map((atMs, i) => {
    const domain = domains[pickDomain(random.next())] as string
    const spec = pickSpec(random.next())
    const lifetimeMs = lifetime(workload.lifetime, random)
    return { id: `r${i + 1}`, atMs, domain, spec, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) }
  })
}

function arrivalTimes (arrivals: NonNullable<Scenario['workload']['arrivals']>, random: Random): number[] {
  switch (arrivals.kind) {
    case 'fixed': return [...arrivals.atMs].sort((a, b) => a - b)
    case 'periodic': return Array.from({ length: arrivals.requests }, (_, i) => i * arrivals.everyMs)
    case 'poisson': {
      // exponential gaps; whole ms keep the CSV short and the event order free of float noise
      const times: number[] = []
      let t = 0
      for (let i = 0; i < arrivals.requests; i++) {
        times.push(Math.round(t))
        t += exponential(1000 / arrivals.ratePerSec, random)
      }
      return times
    }
    case 'bursty': {
      // Poisson while on; a gap that runs past the end of an on period is dropped (the process is
      // memoryless), and arrivals resume after an off period
      const times: number[] = []
      const gap = 1000 / arrivals.ratePerSec
      let t = 0
      let onUntil = exponential(arrivals.onMs, random)
      while (times.length < arrivals.requests) {
        const next = t + exponential(gap, random)
        if (next <= onUntil) {
          times.push(Math.round(next))
          t = next
        } else {
          t = onUntil + exponential(arrivals.offMs, random)
          onUntil = t + exponential(arrivals.onMs, random)
        }
      }
      return times
    }
    case 'batch': return Array.from({ length: arrivals.requests }, (_, i) => Math.floor(i / arrivals.size) * arrivals.everyMs)
    default: {
      const unknown: never = arrivals
      throw new Error(`unknown arrivals ${(unknown as { kind: string }).kind}`)
    }
  }
}

function lifetime (spec: Scenario['workload']['lifetime'], random: Random): number | undefined {
  if (spec === undefined) return undefined
  switch (spec.kind) {
    case 'fixed': return spec.ms
    case 'exponential': return Math.max(1, Math.round(exponential(spec.meanMs, random)))
    default: {
      const unknown: never = spec
      throw new Error(`unknown lifetime ${(unknown as { kind: string }).kind}`)
    }
  }
}

function exponential (mean: number, random: Random): number {
  return -Math.log(1 - random.next()) * mean
}

/** index k chosen with probability weights[k] / sum, from a uniform u in [0, 1) */
function weightedPicker (weights: number[]): (u: number) => number {
  const cumulative: number[] = []
  let total = 0
  for (const w of weights) cumulative.push(total += w)
  return (u) => {
    const x = u * total
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cumulative[mid] as number) > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
