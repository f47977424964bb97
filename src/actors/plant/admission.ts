import { BusyError, BUSY_PREFIX, WIRE_ERROR_CODES, hardwareProblem, OrderRefusedError, type BidCall, type LineCapabilities, type Order } from '../../interface/index.js'
import { InvalidSpecError, isHostAction, validateSpec, type VmSpec } from '../../planner/index.js'
import { priceCall, type CostModel, type CostRequest, type CostVerdict, type PlantLoad } from '../../pricing/index.js'
import { orderDomain, plantLoad, type PlantState } from './plant-state.js'
import type { PlantComponents } from './components.js'

/** What admission reads of the plant: its line, its cost model, its load now and its queue bound. */
export interface AdmissionView {
  /** the plant's peer id, for the reasons it gives */
  self: string
  lineKind: string
  capabilities: LineCapabilities
  /** what a VM of this much guest memory costs the host (ProductionLine.memoryCostMB) */
  memoryCostMB: (memoryMB: number) => number
  cost: CostModel
  /** the plant's load now; read only when a verdict needs it (the host's free memory is a file read) */
  load: () => PlantLoad
  /** orders in production past which the plant takes no more; Infinity for no bound */
  maxQueuedOrders: number
}

/** What the plant has promised: the calls it answered, the orders it took and the VMs it holds. */
export type Commitments = Pick<PlantState, 'calls' | 'orders' | 'vms'>

export type OrderAdmission =
  | { admitted: true, spec: VmSpec, memoryMB: number, domain: string }
  | { admitted: false, error: Error }

/** Why the plant takes no more work now (its queue of orders is full), or undefined. */
export function busyReason (view: Pick<AdmissionView, 'self' | 'maxQueuedOrders'>, ordersInProduction: number): string | undefined {
  return ordersInProduction >= view.maxQueuedOrders
    ? `plant ${view.self} has ${ordersInProduction} orders in production, its limit (plant.maxQueuedOrders)`
    : undefined
}

/** The cost model's verdict, or a busy decline that carries the wire's busy code. */
export type CallAdmission = CostVerdict | { bid: false, reason: string, code: typeof WIRE_ERROR_CODES.busy }

/** Can the plant take this call: a busy plant declines as busy; otherwise the cost model prices it (memory, slots, networks). */
export function admitCall (view: AdmissionView, ordersInProduction: number, call: BidCall, fit: Pick<CostRequest, 'image'>): CallAdmission {
  const busy = busyReason(view, ordersInProduction)
  if (busy !== undefined) return { bid: false, reason: `${BUSY_PREFIX}${busy}`, code: WIRE_ERROR_CODES.busy }
  return priceCall({ lineKind: view.lineKind, capabilities: view.capabilities, memoryCostMB: view.memoryCostMB, cost: view.cost, load: view.load() }, call, fit)
}

/**
 * Can the plant take this order: it must come from the peer the plant answered, not be taken
 * already, find the queue open, ask for hardware and host actions the line has, and fit the
 * plant's memory and networks now (the cost model's verdict).
 */
export function admitOrder (view: AdmissionView, plant: Commitments, order: Order, from: string): OrderAdmission {
  const refused = (why: string): OrderAdmission => ({ admitted: false, error: new OrderRefusedError(why) })
  if (plant.calls.get(order.requestId)?.caller !== from) return refused(`order ${order.requestId} comes from ${from}, which did not call plant ${view.self} for bids`)
  if ([...plant.orders.values()].some((o) => o.order.requestId === order.requestId) || [...plant.vms.values()].some((v) => v.requestId === order.requestId)) {
    return refused(`order ${order.requestId} is already taken by plant ${view.self}`)
  }
  const busy = busyReason(view, plant.orders.size)
  if (busy !== undefined) return { admitted: false, error: new BusyError(busy) }
  let spec: VmSpec
  try {
    spec = validateSpec(order.spec)
  } catch (err: unknown) {
    if (err instanceof InvalidSpecError) return { admitted: false, error: err }
    throw err
  }
  const caps = view.capabilities
  const problem = hardwareProblem(caps, view.lineKind, spec.hardware) ??
    spec.actions.filter(isHostAction).map((a) => caps.hostActions.includes(a.host.attach) ? undefined : `the ${view.lineKind} line cannot attach ${a.host.attach} (action ${a.id})`).find((p) => p !== undefined)
  if (problem !== undefined) return refused(`plant ${view.self} refuses: ${problem}`)
  const memoryMB = view.memoryCostMB(spec.hardware.memoryMB)
  const domain = orderDomain(order)
  const verdict = view.cost(view.load(), { domain, memoryMB })
  if (!verdict.bid) return refused(`plant ${view.self} refuses: ${verdict.reason}`)
  return { admitted: true, spec, memoryMB, domain }
}

/** The view admission takes of a plant's components and state, now. */
export function admissionView (components: PlantComponents, state: PlantState, self: string): AdmissionView {
  const { line } = components
  return {
    self,
    lineKind: line.kind,
    capabilities: line.capabilities(),
    memoryCostMB: (m) => line.memoryCostMB(m),
    cost: components.cost,
    load: () => plantLoad(state, line, components.memoryCapacityMB, components.hostFreeMB),
    maxQueuedOrders: components.maxQueuedOrders ?? Infinity
  }
}
