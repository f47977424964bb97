import type { Reply, TaskOutcome } from '../runtime/index.js'
import type { Auth, BidAnswer, CreateResult, ListResult, Classad } from '../../net/wire.js'
import type { VmSpec } from '../../planner/index.js'

export interface OrderOutcome { classad: Classad, attempts: Array<{ plant: string, error?: string }> }

export type ShopMessage =
  | { type: 'client.create', spec: VmSpec, domain: string, owner: string, reply: Reply<CreateResult> }
  | { type: 'client.query', vmid: string, auth: Auth, reply: Reply<Classad> }
  | { type: 'client.destroy', vmid: string, auth: Auth, reply: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'client.list', auth: Auth, reply: Reply<ListResult> }
  | { type: 'bid.answer', answer: BidAnswer }
  | { type: 'round.published', requestId: string, outcome: TaskOutcome<void> }
  | { type: 'round.deadline', requestId: string }
  | { type: 'round.ordered', requestId: string, outcome: TaskOutcome<OrderOutcome> }
  | { type: 'forward.done', outcome: TaskOutcome<unknown>, reply: Reply<any> }

export const shopMessages = {
  create: (spec: VmSpec, domain: string, owner: string) => (reply: Reply<CreateResult>): ShopMessage => ({ type: 'client.create', spec, domain, owner, reply }),
  query: (vmid: string, auth: Auth) => (reply: Reply<Classad>): ShopMessage => ({ type: 'client.query', vmid, auth, reply }),
  destroy: (vmid: string, auth: Auth) => (reply: Reply<{ vmid: string, destroyed: true }>): ShopMessage => ({ type: 'client.destroy', vmid, auth, reply }),
  list: (auth: Auth) => (reply: Reply<ListResult>): ShopMessage => ({ type: 'client.list', auth, reply }),
  answer: (answer: BidAnswer): ShopMessage => ({ type: 'bid.answer', answer })
}
