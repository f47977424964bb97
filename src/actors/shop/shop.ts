import type { Behavior } from '../runtime/index.js'
import {
  answerBidder, classadSchema, destroyResultSchema, BusyError, NoBidsError, WIRE_ERROR_CODES, type BidCall, type Transport
} from '../../interface/index.js'
import { actionIdentity, InvalidSpecError, isDhcp, validateSpec, type VmSpec } from '../../planner/index.js'
import { chooseAtRandom } from './select.js'
import { rankOffers } from '../../pricing/index.js'
import { expectedBidders, noteMissed, noteRound, type Liveness } from './liveness.js'
import { createResult, everyoneAnswered, newRound, noOffersError, type Round } from './round.js'
import { orderInTurn, plantBudgetMs } from './ordering.js'
import { forward, listAll, plantOf, sendCancel } from './forwarding.js'
import type { ShopMessage } from './messages.js'
import { answerCreate, type ShopContext, type ShopEvent } from './events.js'

export { plantBudgetMs } from './ordering.js'
export { plantOf } from './forwarding.js'

export interface ShopComponents {
  transport: Transport
  /** how long a round waits for bids, in ms; @default 2000 */
  bidWindowMs: number
  /** how long one plant may take to produce a VM, in ms: the order's agreed expiry; @default 120000 */
  orderTimeoutMs: number
  /**
   * Power of d choices: call only this many bidders, drawn at random among the expected ones, on
   * streams of their own, instead of publishing the call to all. @default undefined (call all)
   */
  choices?: number | undefined
  /**
   * creates in flight (bidding or ordering) past which a create is refused at once with a
   * BusyError, rather than queued without bound. @default undefined (no bound: the simulator's
   * shop); a node's config gives 1024 (`shop.maxPendingCreates`)
   */
  maxPendingCreates?: number | undefined
}

export const SHOP_DEFAULTS = { bidWindowMs: 2000, orderTimeoutMs: 120_000 } as const

/** a plant that was unreachable when the shop gave up on its order is told again, this many times */
const CANCEL_ATTEMPTS = 8
const CANCEL_BACKOFF_MS = 1000
const CANCEL_BACKOFF_MAX_MS = 30_000
/** how long a round that waited for its first bidders waits once they appear */
const FIRST_BIDDERS_SETTLE_MS = 200

export interface ShopState {
  rounds: Map<string, Round>
  liveness: Liveness
}

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
 * The shop: one call for bids per create, the cheapest offer ordered first and the next ones
 * tried if it fails, each order an agreement that expires; a plant given up on is told to
 * cancel. Queries, destroys and lists go to the plants that hold the VMs.
 */
export function shopBehavior (components: ShopComponents): Behavior<ShopState, ShopMessage, ShopEvent> {
  const { transport } = components
  const maxPendingCreates = components.maxPendingCreates ?? Infinity

  const startRound = (state: ShopState, round: Round, ctx: ShopContext): void => {
    round.waiting = false
    round.startedAt = ctx.clock.now()
    round.expected = expectedBidders(state.liveness, transport.bidders())
    const requestId = round.call.requestId
    const choices = components.choices
    const chosen = choices !== undefined && choices < round.expected.size ? chooseAtRandom([...round.expected].sort(), choices, ctx.random) : undefined
    if (chosen !== undefined) round.expected = new Set(chosen)
    ctx.log('round %s: calling %d %sbidders for %s', requestId, round.expected.size, chosen !== undefined ? 'chosen ' : '', round.call.domain)
    round.progress({ step: 'bidding', phase: 'start', detail: `calling ${round.expected.size} ${chosen !== undefined ? 'chosen ' : ''}bidder(s) for ${components.bidWindowMs} ms at most` })
    // resolves with the chosen bidders the call could not reach; a published call reaches whoever listens
    const send = async (signal: AbortSignal): Promise<string[]> => {
      if (chosen !== undefined) return await transport.callBidders(chosen, round.call, { signal })
      await transport.publishCall(round.call, { signal })
      return []
    }
    ctx.task(send, (outcome) => ({ type: 'round.published', requestId, outcome }))
    ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.deadline', requestId }))
  }

  const close = (state: ShopState, round: Round, ctx: ShopContext): void => {
    if (round.closed) return
    round.closed = true
    round.biddingMs = ctx.clock.now() - round.startedAt
    noteRound(state.liveness, round.expected, round.answered)
    const requestId = round.call.requestId
    if (round.offers.length === 0) {
      state.rounds.delete(requestId)
      answerCreate(ctx, round.reply, { requestId, error: noOffersError(round) })
      return
    }
    const { ranked, tie } = rankOffers(round.offers, ctx.random)
    round.ranked = ranked
    round.tie = tie
    round.progress({ step: 'bidding', phase: 'done', detail: `${round.offers.length} offer(s), ${round.declines.length} decline(s) from ${round.answered.size} of ${round.expected.size} bidder(s) in ${round.biddingMs} ms; cheapest ${ranked[0]?.cost}` })
    ctx.task((signal) => orderInTurn(transport, components.orderTimeoutMs, round, ctx, signal), (outcome) => ({ type: 'round.ordered', requestId, outcome }))
  }

  return {
    init: () => ({ rounds: new Map(), liveness: new Map() }),

    receive (state, message, ctx) {
      const { rounds } = state
      switch (message.type) {
        case 'client.create': {
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
          if (transport.bidders().length > 0) startRound(state, round, ctx)
          else {
            // just started: gossip has not told the shop of its bidders yet; wait for them, briefly
            ctx.log('round %s: no bidder known yet, waiting up to %d ms', requestId, components.bidWindowMs)
            round.progress({ step: 'bidding', phase: 'start', detail: `no bidder known yet; waiting up to ${components.bidWindowMs} ms for one` })
            ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.start', requestId }))
          }
          return state
        }
        case 'bidders.changed': {
          if (transport.bidders().length === 0) return state
          // bidders that connect together become reachable one after another: the waiting rounds
          // start a moment after the first, so that they call more than the first one
          for (const round of rounds.values()) {
            if (!round.waiting || round.settling) continue
            round.settling = true
            const requestId = round.call.requestId
            ctx.task((signal) => ctx.clock.sleep(FIRST_BIDDERS_SETTLE_MS, { signal }), () => ({ type: 'round.start', requestId }))
          }
          return state
        }
        case 'round.start': {
          const round = rounds.get(message.requestId)
          if (round?.waiting === true) startRound(state, round, ctx)
          return state
        }
        case 'round.published': {
          const round = rounds.get(message.requestId)
          if (round === undefined || round.closed) return state
          if (!message.outcome.ok) {
            rounds.delete(message.requestId)
            round.closed = true
            answerCreate(ctx, round.reply, { requestId: message.requestId, error: new NoBidsError(`could not publish the call for bids: ${message.outcome.error.message}`) })
            return state
          }
          // a chosen bidder the call did not reach will not answer: not waited for, and missed a round
          const unreachable = message.outcome.value.filter((peer) => round.expected.delete(peer))
          if (unreachable.length === 0) return state
          for (const peer of unreachable) {
            noteMissed(state.liveness, peer)
            round.declines.push({ bidder: peer, reason: 'unreachable: the call for bids could not be sent to it' })
          }
          if (everyoneAnswered(round) || round.expected.size === 0) close(state, round, ctx)
          return state
        }
        case 'bid.answer': {
          const { answer } = message
          const bidder = answerBidder(answer)
          // even a late answer shows the bidder is alive again
          state.liveness.set(bidder, { misses: 0 })
          const round = rounds.get(answer.requestId)
          if (round === undefined || round.closed || round.waiting) return state
          if (round.answered.has(bidder)) return state
          round.answered.add(bidder)
          if (answer.type === 'bid.offer') round.offers.push(answer)
          else round.declines.push({ bidder: answer.bidder, reason: answer.reason, ...(answer.code === WIRE_ERROR_CODES.busy ? { busy: true as const } : {}) })
          if (everyoneAnswered(round)) close(state, round, ctx)
          return state
        }
        case 'round.deadline': {
          const round = rounds.get(message.requestId)
          if (round !== undefined) close(state, round, ctx)
          return state
        }
        case 'round.ordered': {
          const round = rounds.get(message.requestId)
          rounds.delete(message.requestId)
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
        case 'order.abandoned': {
          ctx.log('round %s: telling %s to cancel', message.requestId, message.plant.peer)
          sendCancel(transport, ctx, message.plant, message.requestId, 1)
          return state
        }
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
        case 'cancel.retry': {
          sendCancel(transport, ctx, message.plant, message.requestId, message.attempt)
          return state
        }
        case 'client.query': {
          forward(transport, ctx, message.reply, plantOf(message.vmid), { type: 'vm.query', vmid: message.vmid, auth: message.auth, credentials: message.credentials }, (v) => classadSchema.parse(v))
          return state
        }
        case 'client.destroy': {
          forward(transport, ctx, message.reply, plantOf(message.vmid), { type: 'vm.destroy', vmid: message.vmid, auth: message.auth, credentials: message.credentials }, (v) => destroyResultSchema.parse(v))
          return state
        }
        case 'client.list': {
          listAll(transport, ctx, message.reply, message.auth, message.credentials)
          return state
        }
        case 'forward.done': {
          if (message.outcome.ok) message.reply.resolve(message.outcome.value)
          else message.reply.reject(message.outcome.error)
          return state
        }
        default: {
          const unknown: never = message
          throw new Error(`shop got an unknown message ${(unknown as { type: string }).type}`)
        }
      }
    },

    stop (state, ctx) {
      for (const [requestId, round] of state.rounds) answerCreate(ctx, round.reply, { requestId, error: new Error('shop is stopping') })
      state.rounds.clear()
    }
  }
}
