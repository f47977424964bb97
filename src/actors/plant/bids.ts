import type { BidAnswer } from '../../interface/index.js'
import { admissionView, admitCall } from './admission.js'
import { imageFit } from './image-fit.js'
import { forgetOldCalls, type PlantState } from './plant-state.js'
import type { PlantMessage } from './messages.js'
import type { PlantComponents, PlantContext } from './components.js'

type BidMessage = Extract<PlantMessage, { type: 'bid.call' | 'bid.priced' | 'bid.sent' }>

const DEFAULT_CALL_MEMORY_MS = 10 * 60_000

/**
 * The plant's bidding: a call is remembered (an order may name it), the fit of the plant's images
 * is found in a task, admission decides offer or decline, and the answer goes back to the caller.
 */
export function bidHandler (components: PlantComponents): (state: PlantState, message: BidMessage, ctx: PlantContext) => PlantState {
  const { line, images, transport, faults } = components
  const callMemoryMs = components.callMemoryMs ?? DEFAULT_CALL_MEMORY_MS
  return (state, message, ctx) => {
    switch (message.type) {
      case 'bid.call': {
        const { call } = message
        const now = ctx.clock.now()
        forgetOldCalls(state, now, callMemoryMs)
        // an order may name the shop's request when a broker republished the call
        state.calls.set(call.requestId, { caller: message.from, at: now })
        if (call.origin !== undefined) state.calls.set(call.origin.requestId, { caller: call.origin.caller, at: now })
        const peers = images.peers !== undefined && components.imageFetch !== undefined ? { images: images.peers, config: components.imageFetch, clock: ctx.clock } : undefined
        ctx.task(async (signal) => await imageFit(images.catalog, line.kind, call, peers, { signal }), (outcome) => ({ type: 'bid.priced', call, outcome }))
        return state
      }
      case 'bid.priced': {
        const { call, outcome } = message
        const me = transport.self()
        const verdict = admitCall(admissionView(components, state, me.peer), state.orders.size, call, outcome.ok ? outcome.value : {})
        const answer: BidAnswer = verdict.bid
          ? { type: 'bid.offer', requestId: call.requestId, plant: me, cost: verdict.cost, reason: verdict.reason }
          : { type: 'bid.decline', requestId: call.requestId, bidder: me.peer, reason: verdict.reason, ...('code' in verdict ? { code: verdict.code } : {}) }
        ctx.task((signal) => transport.answer(call.replyTo, answer, { signal }), (sent) => ({ type: 'bid.sent', answer, outcome: sent }))
        return state
      }
      case 'bid.sent': {
        if (!message.outcome.ok) {
          ctx.log('could not answer call %s: %s', message.answer.requestId, message.outcome.error.message)
          return state
        }
        ctx.emit({ type: 'bid.answered', answer: message.answer })
        faults?.hit('after-bid')
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`unknown bid message ${(unknown as { type: string }).type}`)
      }
    }
  }
}
