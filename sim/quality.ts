/** what the paper cost needs of a request's row (report.ts's RequestRow has it) */
interface PlacedRow { outcome: string, plant?: string, domain: string, arrivalMs: number, latencyMs?: number, destroyedMs?: number }

/** each plant's paper prices (section 3.4), by its scenario name */
export type Pricing = ReadonlyMap<string, { computeCost: number, networkCost: number }>

/**
 * What the run's placements cost in the paper's terms, whichever model the plants bid with: each
 * VM made is priced computeCost x the VMs its plant held when the VM was committed, plus
 * networkCost when its domain had no VM there then. Cost models price in their own units; this
 * puts every policy's decisions on one scale, the exhaustive policy's included.
 */
export function paperCostOf (rows: PlacedRow[], pricing: Pricing): number {
  const events: Array<{ at: number, made: boolean, plant: string, domain: string, order: number }> = []
  rows.forEach((r, order) => {
    if (r.outcome !== 'ok' || r.plant === undefined) return
    events.push({ at: r.arrivalMs + (r.latencyMs ?? 0), made: true, plant: r.plant, domain: r.domain, order })
    if (r.destroyedMs !== undefined) events.push({ at: r.destroyedMs, made: false, plant: r.plant, domain: r.domain, order })
  })
  // in time order; at the same ms destroys first (they free what a create may reuse), then by request
  events.sort((a, b) => a.at - b.at || Number(a.made) - Number(b.made) || a.order - b.order)
  const vms = new Map<string, number>()
  const domainVms = new Map<string, number>()
  let total = 0
  for (const e of events) {
    const key = `${e.plant}\n${e.domain}`
    const step = e.made ? 1 : -1
    if (e.made) {
      const price = pricing.get(e.plant) ?? { computeCost: 4, networkCost: 50 }
      total += price.computeCost * (vms.get(e.plant) ?? 0) + ((domainVms.get(key) ?? 0) === 0 ? price.networkCost : 0)
    }
    vms.set(e.plant, (vms.get(e.plant) ?? 0) + step)
    domainVms.set(key, (domainVms.get(key) ?? 0) + step)
  }
  return total
}

/** the coefficient of variation (standard deviation over mean) of values; 0 when the mean is 0 */
export function coefficientOfVariation (values: number[]): number {
  if (values.length === 0) return 0
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  if (mean === 0) return 0
  const variance = values.reduce((sum, v) => sum + (v - mean) * (v - mean), 0) / values.length
  return Math.sqrt(variance) / mean
}

/** `value` over the baseline's; 1 when both are 0 */
export function ratio (value: number, baseline: number): number {
  if (baseline === 0) return value === 0 ? 1 : Number.POSITIVE_INFINITY
  return value / baseline
}
