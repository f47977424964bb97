import type { Message, Reply } from '../actors/runtime/index.js'
import { plantMessages, type PlantMessage } from '../actors/plant/messages.js'
import { shopMessages, type ShopMessage } from '../actors/shop/messages.js'
import { brokerMessages } from '../actors/broker/messages.js'
import type { BrokerMessage } from '../actors/broker/broker.js'
import type { CommandAnswers, CommandOf, Role } from '../interface/index.js'

/** Each role's actor message. */
export interface RoleMessages { plant: PlantMessage, shop: ShopMessage, broker: BrokerMessage }

/** A command nobody waits on: it becomes one message in the actor's mailbox. */
export interface SendRow<C, M extends Message> { kind: 'send', message: (command: C) => M }
/** A command with an answer: it becomes a message that carries the reply. */
export interface AskRow<C, M extends Message, A> { kind: 'ask', message: (command: C) => (reply: Reply<A>) => M }

type RowOf<R extends Role, T extends string> = CommandAnswers[R][T & keyof CommandAnswers[R]] extends void
  ? SendRow<Extract<CommandOf<R>, { type: T }>, RoleMessages[R]>
  : AskRow<Extract<CommandOf<R>, { type: T }>, RoleMessages[R], CommandAnswers[R][T & keyof CommandAnswers[R]]>

/** One row per command of every role: a command without a row does not compile. */
export type EdgeRows = { [R in Role]: { [T in CommandOf<R>['type']]: RowOf<R, T> } }

const send = <C, M extends Message>(message: (command: C) => M): SendRow<C, M> => ({ kind: 'send', message })
const ask = <C, M extends Message, A>(message: (command: C) => (reply: Reply<A>) => M): AskRow<C, M, A> => ({ kind: 'ask', message })

/**
 * The edge table: how each command from the wire (libp2p or the simulator's network) becomes its
 * actor's message, through the actors' own message builders. Adding a message adds one row here.
 */
export const EDGE_ROWS: EdgeRows = {
  plant: {
    'bid.call': send((c) => plantMessages.bidCall(c.call, c.from)),
    'order.produce': ask((c) => plantMessages.order(c.order, c.from, c.progress)),
    'order.cancel': send((c) => plantMessages.cancel(c.requestId, c.from)),
    'vm.query': ask((c) => plantMessages.query(c.vmid, c.owner, c.domains)),
    'vm.destroy': ask((c) => plantMessages.destroy(c.vmid, c.owner, c.domains)),
    'vm.list': ask((c) => plantMessages.list(c.owner, c.domains)),
    'warehouse.read': ask((c) => plantMessages.warehouse(c.request)),
    'load.wanted': send(() => plantMessages.loadWanted())
  },
  shop: {
    'client.create': ask((c) => shopMessages.create(c.spec, c.domain, c.from, c.auth, c.credential, c.progress)),
    'client.query': ask((c) => shopMessages.query(c.vmid, c.auth, c.credentials)),
    'client.destroy': ask((c) => shopMessages.destroy(c.vmid, c.auth, c.credentials)),
    'client.list': ask((c) => shopMessages.list(c.auth, c.credentials)),
    'bid.answer': send((c) => shopMessages.answer(c.answer)),
    'bidders.changed': send(() => shopMessages.biddersChanged())
  },
  broker: {
    'bid.call': send((c) => brokerMessages.call(c.call)),
    'bid.answer': send((c) => brokerMessages.answer(c.answer)),
    'load.report': send((c) => brokerMessages.loadReport(c.report, c.from))
  }
}
