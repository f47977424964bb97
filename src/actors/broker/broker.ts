import type { Behavior, TaskOutcome } from '../runtime/index.js'
import { answerBidder, type BidAnswer, type BidCall, type BidOffer, type PeerRef, type Transport } from '../../interface/index.js'
import { rankOffers } from '../shop/select.js'

export type BrokerMessage =
  | { type: 'bid.call', call: BidCall }
  | { type: 'bid.answer', answer: BidAnswer }
  | { type: 'round.deadline', requestId: string }
  | { type: 'sent', what: string, outcome: TaskOutcome<void> }

export interface BrokerComponents {
  transport: Transport
  site: string
  /** share of the caller's window the broker gives its plants, leaving time to forward; @default 0.6 */
  windowShare: number
}

interface SiteRound {
  upstream: BidCall
  expected: Set<string>
  answered: Set<string>
  offers: BidOffer[]
  declines: string[]
}


/**
 * A site's broker: republishes a federation call on its site's topic, gathers its plants'
 * answers, and forwards only the best offer (or one decline) to the caller.
 */
export function brokerBehavior (components: BrokerComponents): Behavior<Map<string, SiteRound>, BrokerMessage> {
  const { transport, site } = components
  return {
    init: () => new Map(),
    receive (rounds, message, ctx) {
      const forward = (to: PeerRef, answer: BidAnswer): void => {
        ctx.task((signal) => transport.answer(to, answer, { signal }), (outcome) => ({ type: 'sent', what: `answer to ${answer.requestId}`, outcome }))
      }
      const finish = (id: string): void => {
        const round = rounds.get(id)
        if (round === undefined) return
        rounds.delete(id)
        const self = transport.self()
        const best = rankOffers(round.offers, ctx.random).ranked[0]
        if (best !== undefined) forward(round.upstream.replyTo, { ...best, requestId: round.upstream.requestId, via: self.peer, reason: `${best.reason} (best of ${round.offers.length} at site ${site})` })
        else forward(round.upstream.replyTo, { type: 'bid.decline', requestId: round.upstream.requestId, bidder: self.peer, reason: round.declines.length > 0 ? `site ${site}: ${round.declines.join('; ')}` : `site ${site}: no plant answered` })
      }
      switch (message.type) {
        case 'bid.call': {
          const id = `b-${ctx.random.hex(12)}`
          const windowMs = Math.max(1, Math.floor(message.call.windowMs * components.windowShare))
          // the origin lets a plant accept the shop's order, which names the shop's request, not the broker's
          const local: BidCall = { ...message.call, requestId: id, replyTo: transport.self(), windowMs, origin: { requestId: message.call.requestId, caller: message.call.replyTo.peer } }
          rounds.set(id, { upstream: message.call, expected: new Set(transport.siteBidders(site)), answered: new Set(), offers: [], declines: [] })
          ctx.task((signal) => transport.publishSiteCall(site, local, { signal }), (outcome) => ({ type: 'sent', what: `site call ${id}`, outcome }))
          ctx.task((signal) => ctx.clock.sleep(windowMs, { signal }), () => ({ type: 'round.deadline', requestId: id }))
          return rounds
        }
        case 'bid.answer': {
          const { answer } = message
          const round = rounds.get(answer.requestId)
          // answers to calls this broker did not make (a shop on the same node runs its own rounds) are not its business
          if (round === undefined) return rounds
          const bidder = answerBidder(answer)
          if (round.answered.has(bidder)) return rounds
          round.answered.add(bidder)
          if (answer.type === 'bid.offer') round.offers.push(answer)
          else round.declines.push(`${bidder.slice(-8)}: ${answer.reason}`)
          if (round.expected.size > 0 && [...round.expected].every((p) => round.answered.has(p))) finish(answer.requestId)
          return rounds
        }
        case 'round.deadline': {
          finish(message.requestId)
          return rounds
        }
        case 'sent': {
          if (!message.outcome.ok) ctx.log('could not send %s: %s', message.what, message.outcome.error.message)
          return rounds
        }
        default: {
          const unknown: never = message
          throw new Error(`broker got an unknown message ${(unknown as { type: string }).type}`)
        }
      }
    }
  }
}
