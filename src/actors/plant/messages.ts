import type { Reply, TaskOutcome } from '../runtime/index.js'
import type { Auth, BidCall, Classad, Order, WarehouseRequest } from '../../net/wire.js'
import type { ProductionResult } from './production.js'
import type { VmSpec } from '../../planner/index.js'

export type PlantMessage =
  | { type: 'bid.call', call: BidCall }
  | { type: 'bid.sent', requestId: string, outcome: TaskOutcome<void> }
  | { type: 'order.produce', order: Order, reply: Reply<Classad> }
  | { type: 'production.done', order: Order, spec: VmSpec, vmid: string, outcome: TaskOutcome<ProductionResult>, reply: Reply<Classad> }
  | { type: 'vm.query', vmid: string, auth: Auth, reply: Reply<Classad> }
  | { type: 'vm.destroy', vmid: string, auth: Auth, reply: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'destroy.done', vmid: string, outcome: TaskOutcome<void>, reply: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'vm.list', auth: Auth, reply: Reply<Classad[]> }
  | { type: 'learning.done', outcome: TaskOutcome<{ learned?: string, evicted: string[] }> }
  | { type: 'warehouse.read', request: WarehouseRequest, reply: Reply<unknown> }

export const plantMessages = {
  bidCall: (call: BidCall): PlantMessage => ({ type: 'bid.call', call }),
  order: (order: Order) => (reply: Reply<Classad>): PlantMessage => ({ type: 'order.produce', order, reply }),
  query: (vmid: string, auth: Auth) => (reply: Reply<Classad>): PlantMessage => ({ type: 'vm.query', vmid, auth, reply }),
  destroy: (vmid: string, auth: Auth) => (reply: Reply<{ vmid: string, destroyed: true }>): PlantMessage => ({ type: 'vm.destroy', vmid, auth, reply }),
  list: (auth: Auth) => (reply: Reply<Classad[]>): PlantMessage => ({ type: 'vm.list', auth, reply }),
  warehouse: (request: WarehouseRequest) => (reply: Reply<unknown>): PlantMessage => ({ type: 'warehouse.read', request, reply })
}
