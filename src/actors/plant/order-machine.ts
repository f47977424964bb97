import { OrderExpiredError, type Classad } from '../../interface/index.js'
import type { ProductionResult } from './production.js'

/**
 * The life of one order on a plant, as an explicit machine: named states, and a pure transition
 * from a state and an event to the next state and the effects the plant carries out through its
 * context. An order is an agreement that expires: cancel and expiry are answered in every state.
 *
 *   reserved ─start▶ producing ─produced▶ committing ─committed▶ delivered ─cancel▶ ended(cancelled)
 *   producing ─production.failed▶ ended(failed);  committing ─commit.failed▶ ended(failed)
 *   reserved    ─cancel|expire▶ ended(cancelled|expired)
 *   producing   ─cancel|expire▶ aborting    ─produced|production.failed▶ ended(cancelled|expired)
 *   committing  ─cancel|expire▶ withdrawing ─committed▶ ended(cancelled|expired); ─commit.failed▶ ended(failed)
 */

/** What the machine needs of the order to word its errors. */
export interface OrderTerms { vmid: string, requestId: string, budgetMs: number }

/** Why an order ended without delivering: the agreement's budget ran out, the shop cancelled, or a step failed. */
export type EndReason = 'expired' | 'cancelled' | 'failed'

export type OrderState =
  /** admitted: memory and the domain's network reserved, nothing started */
  | { name: 'reserved', terms: OrderTerms }
  /** the production task runs; the expiry timer is armed */
  | { name: 'producing', terms: OrderTerms }
  /** cancelled or expired while producing: the task was aborted, and its end (the half-made VM destroyed) is awaited */
  | { name: 'aborting', terms: OrderTerms, reason: 'expired' | 'cancelled', error: Error }
  /** made: the VM's record is being written */
  | { name: 'committing', terms: OrderTerms }
  /** cancelled or expired while its record was written: once written, the VM is destroyed */
  | { name: 'withdrawing', terms: OrderTerms, reason: 'expired' | 'cancelled', error: Error }
  /** the VM is the client's: recorded, held, answered */
  | { name: 'delivered', terms: OrderTerms }
  | { name: 'ended', terms: OrderTerms, reason: EndReason, error: Error }

export type OrderEvent =
  | { type: 'start' }
  | { type: 'produced', result: ProductionResult }
  | { type: 'production.failed', error: Error }
  | { type: 'committed', classad: Classad }
  | { type: 'commit.failed', error: Error }
  /** the peer that ordered it cancelled (the plant checked who sent it) */
  | { type: 'cancel' }
  /** the order's budget ran out */
  | { type: 'expire' }

export type OrderEffect =
  /** start the production task (abortable) */
  | { type: 'produce' }
  /** start the timer that sends `expire` after the order's budget */
  | { type: 'arm-expiry' }
  /** abort the production task; it destroys what it made and ends with `produced` or `production.failed` */
  | { type: 'abort-production', reason: Error }
  /** write the VM's record (and the domain's network, if this order made it) */
  | { type: 'commit', result: ProductionResult }
  /** the record is written: the plant holds the VM and the domain's network is committed */
  | { type: 'hold' }
  /** free the reservation: its memory and, when no other VM of the domain needs it, the new network */
  | { type: 'release' }
  /** destroy the VM; `recorded`: its record (and the domain's last network) go after it */
  | { type: 'destroy', recorded: boolean }
  | { type: 'resolve', classad: Classad }
  | { type: 'reject', reason: EndReason, error: Error }
  /** count the spec's action prefixes and learn a golden image when one is due */
  | { type: 'learn' }

export interface OrderStep { state: OrderState, effects: OrderEffect[] }

export const ORDER_STATES: ReadonlyArray<OrderState['name']> = ['reserved', 'producing', 'aborting', 'committing', 'withdrawing', 'delivered', 'ended']

/** Admitted orders start here. */
export function reservedOrder (terms: OrderTerms): OrderState {
  return { name: 'reserved', terms }
}

/** delivered and ended orders take no more events that change anything; the plant forgets them */
export function isFinal (state: OrderState): state is Extract<OrderState, { name: 'delivered' | 'ended' }> {
  return state.name === 'delivered' || state.name === 'ended'
}

/** orders that `vm.list` shows as `creating`: nothing made yet, or being unmade */
export function isCreating (state: OrderState): boolean {
  return state.name === 'reserved' || state.name === 'producing' || state.name === 'aborting'
}

/** The next state of an order and what the plant must do; events a state does not expect change nothing. */
export function orderTransition (state: OrderState, event: OrderEvent): OrderStep {
  switch (state.name) {
    case 'reserved': return fromReserved(state, event)
    case 'producing': return fromProducing(state, event)
    case 'aborting': return fromAborting(state, event)
    case 'committing': return fromCommitting(state, event)
    case 'withdrawing': return fromWithdrawing(state, event)
    case 'delivered': return fromDelivered(state, event)
    case 'ended': return stay(state)
    default: {
      const unknown: never = state
      throw new Error(`unknown order state ${(unknown as { name: string }).name}`)
    }
  }
}

function fromReserved (state: Extract<OrderState, { name: 'reserved' }>, event: OrderEvent): OrderStep {
  const { terms } = state
  switch (event.type) {
    case 'start': return { state: { name: 'producing', terms }, effects: [{ type: 'produce' }, { type: 'arm-expiry' }] }
    case 'cancel': case 'expire': {
      const { reason, error } = ending(terms, event.type)
      return { state: { name: 'ended', terms, reason, error }, effects: [{ type: 'release' }, { type: 'reject', reason, error }] }
    }
    default: return stay(state)
  }
}

function fromProducing (state: Extract<OrderState, { name: 'producing' }>, event: OrderEvent): OrderStep {
  const { terms } = state
  switch (event.type) {
    case 'produced': return { state: { name: 'committing', terms }, effects: [{ type: 'commit', result: event.result }] }
    case 'production.failed': return failed(terms, event.error, [{ type: 'release' }])
    case 'cancel': case 'expire': {
      const { reason, error } = ending(terms, event.type)
      return { state: { name: 'aborting', terms, reason, error }, effects: [{ type: 'abort-production', reason: error }] }
    }
    default: return stay(state)
  }
}

function fromAborting (state: Extract<OrderState, { name: 'aborting' }>, event: OrderEvent): OrderStep {
  const { terms, reason, error } = state
  switch (event.type) {
    // the production finished before it saw the abort: what it made goes
    case 'produced': return { state: { name: 'ended', terms, reason, error }, effects: [{ type: 'release' }, { type: 'destroy', recorded: false }, { type: 'reject', reason, error }] }
    case 'production.failed': return { state: { name: 'ended', terms, reason, error }, effects: [{ type: 'release' }, { type: 'reject', reason, error }] }
    default: return stay(state)
  }
}

function fromCommitting (state: Extract<OrderState, { name: 'committing' }>, event: OrderEvent): OrderStep {
  const { terms } = state
  switch (event.type) {
    case 'committed': return { state: { name: 'delivered', terms }, effects: [{ type: 'hold' }, { type: 'resolve', classad: event.classad }, { type: 'learn' }] }
    case 'commit.failed': return failed(terms, event.error, [{ type: 'release' }, { type: 'destroy', recorded: false }])
    // the record is being written and cannot be stopped: the VM goes once it is
    case 'cancel': case 'expire': return { state: { name: 'withdrawing', terms, ...ending(terms, event.type) }, effects: [] }
    default: return stay(state)
  }
}

function fromWithdrawing (state: Extract<OrderState, { name: 'withdrawing' }>, event: OrderEvent): OrderStep {
  const { terms, reason, error } = state
  switch (event.type) {
    case 'committed': return { state: { name: 'ended', terms, reason, error }, effects: [{ type: 'hold' }, { type: 'destroy', recorded: true }, { type: 'reject', reason, error }] }
    case 'commit.failed': return failed(terms, event.error, [{ type: 'release' }, { type: 'destroy', recorded: false }])
    default: return stay(state)
  }
}

function fromDelivered (state: Extract<OrderState, { name: 'delivered' }>, event: OrderEvent): OrderStep {
  const { terms } = state
  // a cancel after delivery (the client stopped waiting) destroys the VM; a kept agreement does not expire
  if (event.type === 'cancel') return { state: { name: 'ended', terms, ...ending(terms, 'cancel') }, effects: [{ type: 'destroy', recorded: true }] }
  return stay(state)
}

function failed (terms: OrderTerms, error: Error, before: OrderEffect[]): OrderStep {
  return { state: { name: 'ended', terms, reason: 'failed', error }, effects: [...before, { type: 'reject', reason: 'failed', error }] }
}

function stay (state: OrderState): OrderStep {
  return { state, effects: [] }
}

/** the reason and the error the shop gets for a cancel or an expiry */
function ending (terms: OrderTerms, event: 'cancel' | 'expire'): { reason: 'expired' | 'cancelled', error: Error } {
  return event === 'expire'
    ? { reason: 'expired', error: new OrderExpiredError(`order ${terms.requestId} expired after ${terms.budgetMs} ms before ${terms.vmid} was ready; the VM was destroyed`) }
    : { reason: 'cancelled', error: new OrderExpiredError(`order ${terms.requestId} was cancelled by the shop; ${terms.vmid} was destroyed`) }
}
