import type { AbortOptions } from './abort.js'
import type {
  Auth, BidAnswer, BidCall, Classad, CreateProgress, CreateResult, DomainCredential, DomainRef, ListResult, LoadReport, Order, WarehouseRequest
} from './messages.js'

/**
 * What arrives at a node, as the edges give it to the actors: decoded, checked, and bound to its
 * noise-authenticated sender (`from`). The libp2p protocols and the simulator's in-memory network
 * produce the same commands into one `Inbox` (src/edges/), which turns each into its actor's message.
 */

/** Where a long request's steps go, in order, ahead of its answer. */
export type ProgressSink = (event: CreateProgress) => void

export type DestroyResult = { vmid: string, destroyed: true }

export type PlantCommand =
  /** a call to price; `from` is its caller, which the edge checked is the call's replyTo */
  | { to: 'plant', type: 'bid.call', call: BidCall, from: string }
  /** the edge verified the client's signature over spec and domain, and the domain credential for the client */
  | { to: 'plant', type: 'order.produce', order: Order, from: string, progress: ProgressSink }
  | { to: 'plant', type: 'order.cancel', requestId: string, from: string }
  /** `owner`: the client whose signature the edge verified; `domains`: those whose credentials for it verified */
  | { to: 'plant', type: 'vm.query', vmid: string, owner: string, domains: DomainRef[], from: string }
  | { to: 'plant', type: 'vm.destroy', vmid: string, owner: string, domains: DomainRef[], from: string }
  | { to: 'plant', type: 'vm.list', owner: string, domains: DomainRef[], from: string }
  /** anyone may read a plant's catalogue: no sender to bind */
  | { to: 'plant', type: 'warehouse.read', request: WarehouseRequest }
  /** a broker of the plant's site appeared: it wants the plant's load */
  | { to: 'plant', type: 'load.wanted', from: string }

export type ShopCommand =
  /** `from`: the client, whose signature (`auth`) and domain credential the edge verified */
  | { to: 'shop', type: 'client.create', spec: unknown, domain: string, from: string, auth: Auth, credential: DomainCredential, progress: ProgressSink }
  | { to: 'shop', type: 'client.query', vmid: string, from: string, auth: Auth, credentials: DomainCredential[] }
  | { to: 'shop', type: 'client.destroy', vmid: string, from: string, auth: Auth, credentials: DomainCredential[] }
  | { to: 'shop', type: 'client.list', from: string, auth: Auth, credentials: DomainCredential[] }
  | { to: 'shop', type: 'bid.answer', answer: BidAnswer, from: string }
  /** the peers a call reaches changed (a subscription, or a subscriber became reachable): no sender */
  | { to: 'shop', type: 'bidders.changed' }

export type BrokerCommand =
  | { to: 'broker', type: 'bid.call', call: BidCall, from: string }
  | { to: 'broker', type: 'bid.answer', answer: BidAnswer, from: string }
  /** `from`: the edge checked it is the report's plant */
  | { to: 'broker', type: 'load.report', report: LoadReport, from: string }

export type Command = PlantCommand | ShopCommand | BrokerCommand
export type Role = Command['to']
export type CommandOf<R extends Role> = Extract<Command, { to: R }>

/** Each command's answer; `void` for those nobody waits on (gossip, cancels, events). */
export interface CommandAnswers {
  plant: {
    'bid.call': void
    'order.produce': Classad
    'order.cancel': void
    'vm.query': Classad
    'vm.destroy': DestroyResult
    'vm.list': Classad[]
    'warehouse.read': unknown
    'load.wanted': void
  }
  shop: {
    'client.create': CreateResult
    'client.query': Classad
    'client.destroy': DestroyResult
    'client.list': ListResult
    'bid.answer': void
    'bidders.changed': void
  }
  broker: {
    'bid.call': void
    'bid.answer': void
    'load.report': void
  }
}

export type AnswerOf<C extends Command> = CommandAnswers[C['to']][C['type'] & keyof CommandAnswers[C['to']]]

/** The inbound port: a command to one of the node's roles, and its answer. */
export interface Inbox {
  /** whether this node has the role now (its actor is running) */
  serves(role: Role): boolean
  /**
   * Delivers the command to its role's actor. A command nobody waits on goes to the actor's
   * mailbox and resolves at once; one with an answer resolves with it. A role the node does not
   * have drops the first kind, and rejects the second with a RoleNotServedError.
   */
  deliver<C extends Command>(command: C, options?: AbortOptions): Promise<AnswerOf<C>>
}
