import type { Reply, TaskOutcome } from '../runtime/index.js'
import type { Auth, BidAnswer, Classad, CreateProgress, CreateResult, DomainCredential, ListResult, PeerRef } from '../../interface/index.js'

export interface OrderOutcome { classad: Classad, attempts: Array<{ plant: string, error?: string }> }

export type ShopMessage =
  /**
   * `spec` exactly as the client signed it; `owner` and `auth` verified at the edge. The domain
   * credentials are passed on to the plants, which decide.
   */
  | { type: 'client.create', spec: unknown, domain: string, owner: string, auth: Auth, credential: DomainCredential, progress?: (event: CreateProgress) => void, reply: Reply<CreateResult> }
  | { type: 'client.query', vmid: string, auth: Auth, credentials: DomainCredential[], reply: Reply<Classad> }
  | { type: 'client.destroy', vmid: string, auth: Auth, credentials: DomainCredential[], reply: Reply<{ vmid: string, destroyed: true }> }
  | { type: 'client.list', auth: Auth, credentials: DomainCredential[], reply: Reply<ListResult> }
  | { type: 'bid.answer', answer: BidAnswer }
  | { type: 'bidders.changed' }
  | { type: 'round.start', requestId: string }
  /** the call went out; `outcome.value`: the chosen bidders it could not reach */
  | { type: 'round.published', requestId: string, outcome: TaskOutcome<string[]> }
  | { type: 'round.deadline', requestId: string }
  | { type: 'round.ordered', requestId: string, outcome: TaskOutcome<OrderOutcome> }
  | { type: 'order.abandoned', plant: PeerRef, requestId: string }
  | { type: 'cancel.sent', plant: PeerRef, requestId: string, attempt: number, outcome: TaskOutcome<void> }
  | { type: 'cancel.retry', plant: PeerRef, requestId: string, attempt: number }
  | { type: 'forward.done', outcome: TaskOutcome<unknown>, reply: Reply<any> }

export const shopMessages = {
  create: (spec: unknown, domain: string, owner: string, auth: Auth, credential: DomainCredential, progress?: (event: CreateProgress) => void) => (reply: Reply<CreateResult>): ShopMessage =>
    ({ type: 'client.create', spec, domain, owner, auth, credential, ...(progress !== undefined ? { progress } : {}), reply }),
  query: (vmid: string, auth: Auth, credentials: DomainCredential[]) => (reply: Reply<Classad>): ShopMessage => ({ type: 'client.query', vmid, auth, credentials, reply }),
  destroy: (vmid: string, auth: Auth, credentials: DomainCredential[]) => (reply: Reply<{ vmid: string, destroyed: true }>): ShopMessage => ({ type: 'client.destroy', vmid, auth, credentials, reply }),
  list: (auth: Auth, credentials: DomainCredential[]) => (reply: Reply<ListResult>): ShopMessage => ({ type: 'client.list', auth, credentials, reply }),
  answer: (answer: BidAnswer): ShopMessage => ({ type: 'bid.answer', answer }),
  biddersChanged: (): ShopMessage => ({ type: 'bidders.changed' })
}
