import { answerBidder, NoBidsError, WIRE_ERROR_CODES } from '../../interface/index.js'
import { rankOffers } from '../../pricing/index.js'
import { chooseAtRandom } from './select.js'
import { expectedBidders, noteMissed, noteRound } from './liveness.js'
import { everyoneAnswered, noOffersError, type Round } from './round.js'
import { orderInTurn } from './ordering.js'
import type { ShopComponents, ShopState } from './components.js'
import type { ShopMessage } from './messages.js'
import { answerCreate, type ShopContext } from './events.js'

type BiddingMessage = Extract<ShopMessage, { type: 'bidders.changed' | 'round.start' | 'round.published' | 'bid.answer' | 'round.deadline' }>

/** how long a round that waited for its first bidders waits once they appear */
const FIRST_BIDDERS_SETTLE_MS = 200

/** Calls the round's bidders (all, or `choices` of them drawn at random) and arms its bid window. */
export function startRound (components: ShopComponents, state: ShopState, round: Round, ctx: ShopContext): void {
  const { transport } = components
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

/** Ends a round's bidding: no offers answer the client; otherwise the offers, ranked, are ordered in turn. */
function closeRound (components: ShopComponents, state: ShopState, round: Round, ctx: ShopContext): void {
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
  ctx.task((signal) => orderInTurn(components.transport, components.orderTimeoutMs, round, ctx, signal), (outcome) => ({ type: 'round.ordered', requestId, outcome }))
}

/**
 * The shop's rounds until they close: started when bidders are known, the call's sending, the
 * bidders' answers, the bid window's end. Each bidder's liveness is kept as it answers or not.
 */
export function biddingHandler (components: ShopComponents): (state: ShopState, message: BiddingMessage, ctx: ShopContext) => ShopState {
  const close = (state: ShopState, round: Round, ctx: ShopContext): void => { closeRound(components, state, round, ctx) }

  const published = (state: ShopState, message: Extract<BiddingMessage, { type: 'round.published' }>, ctx: ShopContext): void => {
    const round = state.rounds.get(message.requestId)
    if (round === undefined || round.closed) return
    if (!message.outcome.ok) {
      state.rounds.delete(message.requestId)
      round.closed = true
      answerCreate(ctx, round.reply, { requestId: message.requestId, error: new NoBidsError(`could not publish the call for bids: ${message.outcome.error.message}`) })
      return
    }
    // a chosen bidder the call did not reach will not answer: not waited for, and missed a round
    const unreachable = message.outcome.value.filter((peer) => round.expected.delete(peer))
    if (unreachable.length === 0) return
    for (const peer of unreachable) {
      noteMissed(state.liveness, peer)
      round.declines.push({ bidder: peer, reason: 'unreachable: the call for bids could not be sent to it' })
    }
    if (everyoneAnswered(round) || round.expected.size === 0) close(state, round, ctx)
  }

  const answered = (state: ShopState, message: Extract<BiddingMessage, { type: 'bid.answer' }>, ctx: ShopContext): void => {
    const { answer } = message
    const bidder = answerBidder(answer)
    // even a late answer shows the bidder is alive again
    state.liveness.set(bidder, { misses: 0 })
    const round = state.rounds.get(answer.requestId)
    if (round === undefined || round.closed || round.waiting) return
    if (round.answered.has(bidder)) return
    round.answered.add(bidder)
    if (answer.type === 'bid.offer') round.offers.push(answer)
    else round.declines.push({ bidder: answer.bidder, reason: answer.reason, ...(answer.code === WIRE_ERROR_CODES.busy ? { busy: true as const } : {}) })
    if (everyoneAnswered(round)) close(state, round, ctx)
  }

  return (state, message, ctx) => {
    switch (message.type) {
      case 'bidders.changed': {
        if (components.transport.bidders().length === 0) return state
        // bidders that connect together become reachable one after another: the waiting rounds
        // start a moment after the first, so that they call more than the first one
        for (const round of state.rounds.values()) {
          if (!round.waiting || round.settling) continue
          round.settling = true
          const requestId = round.call.requestId
          ctx.task((signal) => ctx.clock.sleep(FIRST_BIDDERS_SETTLE_MS, { signal }), () => ({ type: 'round.start', requestId }))
        }
        return state
      }
      case 'round.start': {
        const round = state.rounds.get(message.requestId)
        if (round?.waiting === true) startRound(components, state, round, ctx)
        return state
      }
      case 'round.published':
        published(state, message, ctx)
        return state
      case 'bid.answer':
        answered(state, message, ctx)
        return state
      case 'round.deadline': {
        const round = state.rounds.get(message.requestId)
        if (round !== undefined) close(state, round, ctx)
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`unknown bidding message ${(unknown as { type: string }).type}`)
      }
    }
  }
}
