import type { Reply, TaskOutcome } from '../runtime/index.js'
import type { BidAnswer, BidCall, Classad, DomainRef, Order, WarehouseRequest } from '../../interface/index.js'
import type { ProductionResult } from './production.js'
import type { CostRequest } from '../../pricing/index.js'
import type { Reconciliation } from './reconcile.js'
import type { LoadReportMessage } from './load-report.js'
import type { ProductionStep } from './progress.js'

export type PlantMessage =
  /** `from`: the peer that published the call (the edge checked it is the call's replyTo) */
  | { type: 'bid.call', call: BidCall, from: string }
  | { type: 'bid.priced', call: BidCall, outcome: TaskOutcome<Pick<CostRequest, 'image'>> }
  | { type: 'bid.sent', answer: BidAnswer, outcome: TaskOutcome<void> }
  /** `from`: the noise-authenticated sender; the edge verified the client's signature. `progress` sees the production's steps */
  | { type: 'order.produce', order: Order, from: string, reply: Reply<Classad>, progress?: (step: ProductionStep) => void }
  | { type: 'order.cancel', requestId: string, from: string }
  | { type: 'order.expired', vmid: string }
  | { type: 'production.done', vmid: string, outcome: TaskOutcome<ProductionResult> }
  | { type: 'commit.done', vmid: string, classad: Classad, outcome: TaskOutcome<void> }
  /**
   * `owner`: the client whose signature the edge verified; `domains`: those whose credentials for
   * it the edge verified, which reach their VMs
   */
  | { type: 'vm.query', vmid: string, owner: string, domains: DomainRef[], reply: Reply<Classad> }
  | { type: 'query.done', vmid: string, outcome: TaskOutcome<Classad>, reply: Reply<Classad> }
  | { type: 'vm.destroy', vmid: string, owner: string, domains: DomainRef[], reply: Reply<{ vmid: string, destroyed: true }> }
  /** `domain`: the destroyed VM's domain as its record names it (a crashed VM is no longer among the plant's held VMs) */
  | { type: 'destroy.done', vmid: string, outcome: TaskOutcome<void>, domain?: string, reply?: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'record.removed', vmid: string, outcome: TaskOutcome<void>, reply?: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'vm.list', owner: string, domains: DomainRef[], reply: Reply<Classad[]> }
  | { type: 'warehouse.read', request: WarehouseRequest, reply: Reply<unknown> }
  | { type: 'plant.status', reply: Reply<PlantStatus> }
  | { type: 'learning.done', outcome: TaskOutcome<{ learned?: string, evicted: string[] }> }
  | { type: 'background.done', what: string, outcome: TaskOutcome<unknown> }
  | { type: 'task.reply', outcome: TaskOutcome<any>, reply: Reply<any> }
  | LoadReportMessage

/** What a plant reports of itself, for operators and tests. */
export interface PlantStatus {
  vms: number
  producing: number
  networks: number
  /** the plant's host-only networks: real bridges, none (why), or modelled */
  networkMode?: string
  reconciled: Reconciliation
}

export const plantMessages = {
  bidCall: (call: BidCall, from: string): PlantMessage => ({ type: 'bid.call', call, from }),
  order: (order: Order, from: string, progress?: (step: ProductionStep) => void) => (reply: Reply<Classad>): PlantMessage => ({ type: 'order.produce', order, from, reply, ...(progress !== undefined ? { progress } : {}) }),
  cancel: (requestId: string, from: string): PlantMessage => ({ type: 'order.cancel', requestId, from }),
  query: (vmid: string, owner: string, domains: DomainRef[]) => (reply: Reply<Classad>): PlantMessage => ({ type: 'vm.query', vmid, owner, domains, reply }),
  destroy: (vmid: string, owner: string, domains: DomainRef[]) => (reply: Reply<{ vmid: string, destroyed: true }>): PlantMessage => ({ type: 'vm.destroy', vmid, owner, domains, reply }),
  list: (owner: string, domains: DomainRef[]) => (reply: Reply<Classad[]>): PlantMessage => ({ type: 'vm.list', owner, domains, reply }),
  warehouse: (request: WarehouseRequest) => (reply: Reply<unknown>): PlantMessage => ({ type: 'warehouse.read', request, reply }),
  status: () => (reply: Reply<PlantStatus>): PlantMessage => ({ type: 'plant.status', reply }),
  /** a broker appeared on the plant's site: report the load now */
  loadWanted: (): PlantMessage => ({ type: 'load.wanted' })
}

/** A task's outcome as the reply it settles. */
export function settle<T> (reply: Reply<T>, outcome: TaskOutcome<T>): PlantMessage {
  return { type: 'task.reply', reply, outcome }
}
