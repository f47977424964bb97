import type { ActorContext } from '../runtime/index.js'
import type { PeerRef, Transport } from '../../interface/index.js'
import { FORWARD_TIMEOUT_MS } from './forwarding.js'
import type { ShopState } from './components.js'
import type { ShopMessage } from './messages.js'
import type { ShopContext } from './events.js'

type CancelMessage = Extract<ShopMessage, { type: 'order.abandoned' | 'cancel.sent' | 'cancel.retry' }>

/** a plant that was unreachable when the shop gave up on its order is told again, this many times */
const CANCEL_ATTEMPTS = 8
const CANCEL_BACKOFF_MS = 1000
const CANCEL_BACKOFF_MAX_MS = 30_000

/** Tells a plant the shop gave up on an order; its outcome comes back as `cancel.sent`, to retry. */
export function sendCancel (transport: Transport, ctx: ActorContext<ShopMessage>, plant: PeerRef, requestId: string, attempt: number): void {
  ctx.task((signal) => transport.cancel(plant, requestId, { signal: AbortSignal.any([signal, ctx.clock.timeout(FORWARD_TIMEOUT_MS)]) }),
    (outcome) => ({ type: 'cancel.sent', plant, requestId, attempt, outcome }))
}

/** An order the shop gave up on: its plant told to cancel, again with a growing backoff while it cannot be reached. */
export function cancelHandler (transport: Transport): (state: ShopState, message: CancelMessage, ctx: ShopContext) => ShopState {
  return (state, message, ctx) => {
    switch (message.type) {
      case 'order.abandoned':
        ctx.log('round %s: telling %s to cancel', message.requestId, message.plant.peer)
        sendCancel(transport, ctx, message.plant, message.requestId, 1)
        return state
      case 'cancel.sent': {
        if (message.outcome.ok) return state
        if (message.attempt >= CANCEL_ATTEMPTS) {
          ctx.log.error('round %s: plant %s did not take the cancel after %d attempts: %s', message.requestId, message.plant.peer, message.attempt, message.outcome.error.message)
          return state
        }
        const { plant, requestId, attempt } = message
        const delay = Math.min(CANCEL_BACKOFF_MAX_MS, CANCEL_BACKOFF_MS * 2 ** (attempt - 1))
        ctx.task((signal) => ctx.clock.sleep(delay, { signal }), () => ({ type: 'cancel.retry', plant, requestId, attempt: attempt + 1 }))
        return state
      }
      case 'cancel.retry':
        sendCancel(transport, ctx, message.plant, message.requestId, message.attempt)
        return state
      default: {
        const unknown: never = message
        throw new Error(`unknown cancel message ${(unknown as { type: string }).type}`)
      }
    }
  }
}
