import type { Behavior } from '../runtime/index.js'
import { createHandler } from './creates.js'
import { biddingHandler } from './bidding.js'
import { orderedHandler } from './ordering.js'
import { cancelHandler } from './cancels.js'
import { forwardingHandler } from './forwarding.js'
import type { ShopComponents, ShopState } from './components.js'
import type { ShopMessage } from './messages.js'
import { answerCreate, type ShopContext, type ShopEvent } from './events.js'

export { SHOP_DEFAULTS, type ShopComponents, type ShopState } from './components.js'
export { plantBudgetMs } from './ordering.js'
export { plantOf } from './forwarding.js'

/**
 * The shop: one call for bids per create, the cheapest offer ordered first and the next ones
 * tried if it fails, each order an agreement that expires; a plant given up on is told to
 * cancel. Queries, destroys and lists go to the plants that hold the VMs. This module only routes
 * each message to the part that owns it: creates, bidding, the orders' outcome, cancels, forwarding.
 */
export function shopBehavior (components: ShopComponents): Behavior<ShopState, ShopMessage, ShopEvent> {
  const { transport } = components
  const creates = createHandler(components)
  const bidding = biddingHandler(components)
  const ordered = orderedHandler(transport)
  const cancels = cancelHandler(transport)
  const forwarding = forwardingHandler(transport)

  const route = (state: ShopState, message: ShopMessage, ctx: ShopContext): ShopState => {
    switch (message.type) {
      case 'client.create':
        return creates(state, message, ctx)
      case 'bidders.changed': case 'round.start': case 'round.published': case 'bid.answer': case 'round.deadline':
        return bidding(state, message, ctx)
      case 'round.ordered':
        return ordered(state, message, ctx)
      case 'order.abandoned': case 'cancel.sent': case 'cancel.retry':
        return cancels(state, message, ctx)
      case 'client.query': case 'client.destroy': case 'client.list': case 'forward.done':
        return forwarding(state, message, ctx)
      default: {
        const unknown: never = message
        throw new Error(`shop got an unknown message ${(unknown as { type: string }).type}`)
      }
    }
  }

  return {
    init: () => ({ rounds: new Map(), liveness: new Map() }),
    receive: route,
    stop (state, ctx) {
      for (const [requestId, round] of state.rounds) answerCreate(ctx, round.reply, { requestId, error: new Error('shop is stopping') })
      state.rounds.clear()
    }
  }
}
