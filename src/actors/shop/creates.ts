import { BusyError, type BidCall } from '../../interface/index.js'
import { actionIdentity, InvalidSpecError, isDhcp, validateSpec, type VmSpec } from '../../planner/index.js'
import { newRound } from './round.js'
import { plantBudgetMs } from './ordering.js'
import { startRound } from './bidding.js'
import type { ShopComponents, ShopState } from './components.js'
import type { ShopMessage } from './messages.js'
import { answerCreate, type ShopContext } from './events.js'

type CreateMessage = Extract<ShopMessage, { type: 'client.create' }>

/**
 * A guest that waits for its DHCP lease longer than the plant has for the whole VM would end as an
 * expired order, not as the lease's own clear error: refused before any plant is asked.
 */
function checkLeaseFits (spec: VmSpec, orderTimeoutMs: number): void {
  if (spec.network === undefined || !isDhcp(spec.network)) return
  const budgetMs = plantBudgetMs(orderTimeoutMs)
  if (spec.network.leaseTimeoutMs >= budgetMs) {
    throw new InvalidSpecError('network.leaseTimeoutMs', `${spec.network.leaseTimeoutMs} ms is not shorter than the ${budgetMs} ms a plant has for the whole VM under this shop's orderTimeoutMs of ${orderTimeoutMs} ms; ask for a shorter lease wait`)
  }
}

/**
 * A client's create: refused at once past the shop's bound or for a spec that does not hold;
 * otherwise a new round, its call for bids made now, or once the first bidders are known.
 */
export function createHandler (components: ShopComponents): (state: ShopState, message: CreateMessage, ctx: ShopContext) => ShopState {
  const { transport } = components
  const maxPendingCreates = components.maxPendingCreates ?? Infinity
  return (state, message, ctx) => {
    const { rounds } = state
    if (rounds.size >= maxPendingCreates) {
      ctx.log('refused a create from %s: %d creates in flight', message.owner, rounds.size)
      answerCreate(ctx, message.reply, { error: new BusyError(`the shop has ${rounds.size} creates in flight, its limit (shop.maxPendingCreates)`) })
      return state
    }
    let spec: VmSpec
    try {
      spec = validateSpec(message.spec)
      checkLeaseFits(spec, components.orderTimeoutMs)
    } catch (err: unknown) {
      // the client's mistake is answered, not counted as the shop's failure
      answerCreate(ctx, message.reply, { error: err instanceof Error ? err : new Error(String(err)) })
      return state
    }
    const requestId = `r-${ctx.random.hex(12)}`
    const call: BidCall = {
      type: 'bid.call',
      requestId,
      replyTo: transport.self(),
      hardware: spec.hardware,
      domain: message.domain,
      domainKey: message.credential.key,
      actionCount: spec.actions.length,
      dag: spec.actions.map((a) => ({ id: a.id, identity: actionIdentity(a), after: a.after })),
      windowMs: components.bidWindowMs
    }
    const round = newRound({ call, rawSpec: message.spec, spec, owner: message.owner, auth: message.auth, credential: message.credential, reply: message.reply, progress: message.progress }, ctx.clock.now())
    rounds.set(requestId, round)
    if (transport.bidders().length > 0) startRound(components, state, round, ctx)
    else {
      // just started: gossip has not told the shop of its bidders yet; wait for them, briefly
      ctx.log('round %s: no bidder known yet, waiting up to %d ms', requestId, components.bidWindowMs)
      round.progress({ step: 'bidding', phase: 'start', detail: `no bidder known yet; waiting up to ${components.bidWindowMs} ms for one` })
      ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.start', requestId }))
    }
    return state
  }
}
