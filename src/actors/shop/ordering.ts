import type { ActorContext } from '../runtime/index.js'
import { errorMessage, isBusy, BusyError, NoBidsError, type Order, type Transport } from '../../interface/index.js'
import type { OrderOutcome, ShopMessage } from './messages.js'
import { createResult, type Round } from './round.js'
import { sendCancel } from './cancels.js'
import type { ShopState } from './components.js'
import { answerCreate, type ShopContext } from './events.js'

type OrderedMessage = Extract<ShopMessage, { type: 'round.ordered' }>

/**
 * The time a plant is given: less than the shop waits, so that a plant out of time says so
 * (and destroys the VM) before the shop stops listening.
 */
export function plantBudgetMs (orderTimeoutMs: number): number {
  return Math.max(1, orderTimeoutMs - Math.min(2000, Math.floor(orderTimeoutMs / 10)))
}

/**
 * Orders the ranked offers in turn until one plant delivers: each order an agreement that
 * expires after `orderTimeoutMs`; whatever happened to an order that failed, the plant is told to
 * cancel it (`order.abandoned`), except a "busy" refusal, for which it reserved nothing. Runs as
 * the round's task; the plant's steps go on to the client with the plant named.
 */
export async function orderInTurn (transport: Transport, orderTimeoutMs: number, round: Round, ctx: ActorContext<ShopMessage>, signal: AbortSignal): Promise<OrderOutcome> {
  const attempts: OrderOutcome['attempts'] = []
  let everyFailureBusy = true
  // the client stopped waiting (its connection went, or its deadline passed): no VM is made for nobody
  const gone = round.reply.signal
  const requestId = round.call.requestId
  for (const offer of round.ranked) {
    if (gone.aborted) throw new NoBidsError(`request ${requestId}: the client stopped waiting; nothing was ordered`)
    const order: Order = {
      type: 'order.produce',
      requestId,
      spec: round.rawSpec,
      domain: round.call.domain,
      owner: round.owner,
      auth: round.auth,
      credential: round.credential,
      biddingMs: round.biddingMs,
      cost: offer.cost,
      budgetMs: plantBudgetMs(orderTimeoutMs)
    }
    const plant = offer.plant.peer
    round.progress({ step: 'order', phase: 'start', detail: `at cost ${offer.cost}`, plant })
    const deadline = ctx.clock.timeout(orderTimeoutMs)
    try {
      const classad = await transport.order(offer.plant, order, { signal: AbortSignal.any([signal, deadline, gone]), onProgress: (event) => { round.progress({ ...event, plant }) } })
      attempts.push({ plant })
      round.progress({ step: 'order', phase: 'done', detail: `delivered ${classad.vmid.slice(0, classad.vmid.indexOf('.'))}`, plant })
      return { classad, attempts }
    } catch (err: unknown) {
      // whatever the plant did, the agreement is off: it must not keep a VM nobody will know of.
      // A plant that answered "busy" reserved nothing, so there is nothing to cancel.
      if (!isBusy(err)) ctx.self.send({ type: 'order.abandoned', plant: offer.plant, requestId })
      signal.throwIfAborted()
      if (gone.aborted) throw new NoBidsError(`request ${requestId}: the client stopped waiting; the order to ${plant} was cancelled`)
      const error = deadline.aborted ? `no VM within the order's ${orderTimeoutMs} ms; the order was cancelled` : errorMessage(err)
      attempts.push({ plant, error })
      if (deadline.aborted || !isBusy(err)) everyFailureBusy = false
      round.progress({ step: 'order', phase: 'done', detail: `failed: ${error}`, plant })
    }
  }
  const failures = attempts.map((a) => `${a.plant.slice(-8)}: ${a.error}`).join('; ')
  if (everyFailureBusy) throw new BusyError(`every plant that bid is busy (${failures})`)
  throw new NoBidsError(`every plant that bid failed: ${failures}`)
}

/**
 * A round's orders are over: the client gets its VM, or why there is none. A VM made for a client
 * that stopped waiting is given up: its plant is told to destroy it.
 */
export function orderedHandler (transport: Transport): (state: ShopState, message: OrderedMessage, ctx: ShopContext) => ShopState {
  return (state, message, ctx) => {
    const round = state.rounds.get(message.requestId)
    state.rounds.delete(message.requestId)
    if (round === undefined) return state
    if (!message.outcome.ok) {
      answerCreate(ctx, round.reply, { requestId: message.requestId, error: message.outcome.error })
      return state
    }
    const { classad, attempts } = message.outcome.value
    if (round.reply.signal.aborted) {
      // made, but the client is gone and will never learn its VMID: the plant destroys it
      ctx.log('round %s: the client stopped waiting; telling %s to destroy %s', message.requestId, classad.plant, classad.vmid)
      const offer = round.ranked.find((o) => o.plant.peer === classad.plant)
      if (offer !== undefined) sendCancel(transport, ctx, offer.plant, message.requestId, 1)
      answerCreate(ctx, round.reply, { requestId: message.requestId, error: new Error(`the client stopped waiting; ${classad.vmid} is destroyed`) })
      return state
    }
    answerCreate(ctx, round.reply, { requestId: message.requestId, result: createResult(round, classad, attempts) })
    return state
  }
}
