import { domainIdOf, type NetworkAllocation, type ProductionLine } from '../../interface/index.js'
import type { PlantLoad } from '../../pricing/index.js'
import type { Reconciliation } from './reconcile.js'
import type { LoadReportState } from './load-report.js'
import type { NetworkMode } from './networks.js'
import type { Reply } from '../runtime/index.js'
import type { Classad, Order } from '../../interface/index.js'
import type { VmSpec } from '../../planner/index.js'
import type { OrderState } from './order-machine.js'
import type { ProductionStep } from './progress.js'

/** An order the plant took and has not finished: an agreement until it is delivered, cancelled or expired. */
export interface PlantOrder {
  vmid: string
  order: Order
  spec: VmSpec
  /** the peer that ordered it; only it may cancel */
  orderedBy: string
  memoryMB: number
  /** where the order is in its life (order-machine.ts) */
  machine: OrderState
  /** aborts the production task and the expiry timer: the order expired or the shop cancelled */
  abort: AbortController
  reply: Reply<Classad>
  /** sees the production's steps, for the person who ordered the VM */
  progress?: ((step: ProductionStep) => void) | undefined
}

/** What the plant keeps of a committed VM to price bids and honour cancels; the record itself is in the store. */
export interface HeldVm { domain: string, memoryMB: number, requestId: string, orderedBy: string }

/** A domain's network on this plant; `committed` is false while only a production under way holds it. */
export interface HeldNetwork { allocation: NetworkAllocation, committed: boolean }

export interface PlantState {
  /** orders taken and not yet delivered or ended, by vmid */
  orders: Map<string, PlantOrder>
  /** committed, live VMs by vmid: an index of the store loaded at start */
  vms: Map<string, HeldVm>
  /** host-only networks by domain */
  networks: Map<string, HeldNetwork>
  /** calls for bids this plant answered, by request id: who may order against them */
  calls: Map<string, { caller: string, at: number }>
  reconciled: Reconciliation
  /** what the plant's host-only networks are (decided at start) */
  network: NetworkMode
  /** the load reports to the site's broker, for a plant behind one */
  report?: LoadReportState
  /** keys of action prefixes being learned right now, so that two productions do not build the same image */
  learning: Set<string>
}

export function plantLoad (state: PlantState, line: ProductionLine, memoryCapacityMB: number, hostFreeMB?: () => number): PlantLoad {
  // a warm pool is memory the plant has spent, and counts against what it can offer
  let memoryUsedMB = line.reservedMB()
  for (const vm of state.vms.values()) memoryUsedMB += vm.memoryMB
  for (const o of state.orders.values()) memoryUsedMB += o.memoryMB
  return {
    runningVms: state.vms.size + state.orders.size,
    domains: new Set(state.networks.keys()),
    networksInUse: state.networks.size,
    memoryUsedMB,
    memoryCapacityMB,
    ...(hostFreeMB !== undefined ? { hostFreeMB: hostFreeMB() } : {}),
    ...(state.network.kind === 'none' ? { networkless: state.network.detail } : {})
  }
}

export function allocateNetwork (state: PlantState, domain: string, maxNetworks: number, now: number, name: (index: number) => string = (i) => `hostonly-${i}`): NetworkAllocation {
  const used = new Set([...state.networks.values()].map((n) => n.allocation.index))
  let index = 0
  while (used.has(index) && index < maxNetworks) index++
  return { domain, index, name: name(index), allocatedAt: new Date(now).toISOString() }
}

/** The domain an order is for, as the plant keys its networks: the name and the key whose credential the edge verified. */
export function orderDomain (order: Order): string {
  return domainIdOf(order.domain, order.credential?.key)
}

/** True while a VM or an order of the domain, other than `except`, still uses its network. */
export function domainInUse (state: PlantState, domain: string, except: string): boolean {
  for (const [vmid, vm] of state.vms) if (vmid !== except && vm.domain === domain) return true
  for (const [vmid, o] of state.orders) if (vmid !== except && orderDomain(o.order) === domain) return true
  return false
}

/** Forgets calls older than `maxAgeMs`; the map is in arrival order, so the old ones are first. */
export function forgetOldCalls (state: PlantState, now: number, maxAgeMs: number): void {
  for (const [id, call] of state.calls) {
    if (now - call.at <= maxAgeMs) break
    state.calls.delete(id)
  }
}
