import { domainIdOf, hardwareProblem, type BidCall, type LineCapabilities } from '../interface/index.js'
import type { CostModel, CostRequest, CostVerdict, PlantLoad } from './cost-models.js'

/** What pricing a call needs of a plant: its line's limits, its cost model and its load. */
export interface PricingInput {
  lineKind: string
  capabilities: Pick<LineCapabilities, 'minMemoryMB' | 'os' | 'arch'>
  /** what a VM of this much guest memory costs the host (ProductionLine.memoryCostMB) */
  memoryCostMB: (memoryMB: number) => number
  cost: CostModel
  load: PlantLoad
}

/**
 * A plant's verdict on a call: no bid for hardware its line cannot make, else its cost model's
 * price. The one pricing of a call: the plant bids with it, and a broker picks a plant with it
 * from the plant's load report.
 */
export function priceCall (input: PricingInput, call: BidCall, fit: Pick<CostRequest, 'image'>): CostVerdict {
  const problem = hardwareProblem(input.capabilities, input.lineKind, call.hardware)
  if (problem !== undefined) return { bid: false, reason: problem }
  // a domain is its name and its key: a namesake with another key gets no share of its network
  return input.cost(input.load, { domain: domainIdOf(call.domain, call.domainKey), memoryMB: input.memoryCostMB(call.hardware.memoryMB), ...fit })
}
