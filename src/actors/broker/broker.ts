import type { ActorContext, Behavior, TaskOutcome } from '../runtime/index.js'
import { answerBidder, type BidAnswer, type BidCall, type BidOffer, type LoadReport, type PeerRef, type Transport } from '../../interface/index.js'
import { callRequest, rankOffers } from '../../pricing/index.js'
import { estimate, livePlants, noteReport, type LoadCache } from './load-cache.js'

export type BrokerMessage =
  | { type: 'bid.call', call: BidCall }
  | { type: 'bid.answer', answer: BidAnswer }
  /** `from`: the noise-authenticated sender; the edge checked it is the report's plant */
  | { type: 'load.report', report: LoadReport, from: string }
  | { type: 'round.deadline', requestId: string }
  | { type: 'attempt.deadline', requestId: string }
  | { type: 'sent', what: string, outcome: TaskOutcome<void> }
  /** a confirmation went out; `outcome.value`: empty, or the plant it could not reach */
  | { type: 'attempt.sent', requestId: string, outcome: TaskOutcome<string[]> }

export interface BrokerComponents {
  transport: Transport
  site: string
  /** share of the caller's window the broker gives its plants, leaving time to forward; @default 0.6 */
  windowShare: number
  /**
   * how many plants, cheapest first by their load reports, the broker asks in turn to confirm a
   * call before it declines it; each is given an equal share of the window. @default 3
   */
  confirmAttempts?: number
}

export const BROKER_DEFAULTS = { windowShare: 0.6, confirmAttempts: 3 } as const

/** A round the old way: the call republished to every plant of the site, the best answer forwarded. */
interface BroadcastRound {
  kind: 'broadcast'
  upstream: BidCall
  expected: Set<string>
  answered: Set<string>
  offers: BidOffer[]
  declines: string[]
}

/** A round priced from the load reports: the cheapest plant is asked to confirm, then the next. */
interface ChosenRound {
  kind: 'chosen'
  upstream: BidCall
  /** the plants that would bid, cheapest first, by their reports; those not yet asked */
  candidates: BidOffer[]
  /** how many plants would bid, for the forwarded offer's reason */
  priced: number
  attemptsLeft: number
  attemptMs: number
  /** the confirmation under way: its request id and the plant asked */
  attempt?: { id: string, plant: string }
  declines: string[]
}

export interface BrokerState {
  /** by the broker's own request id (a broadcast round's call, a chosen round's round id) */
  rounds: Map<string, BroadcastRound | ChosenRound>
  /** a confirmation's request id to its round's */
  attempts: Map<string, string>
  cache: LoadCache
}

/**
 * A site's broker: an aggregator. Its plants push their load to it (`load.report`); it answers a
 * call for bids by pricing every live plant with the plant's own cost model from its last report,
 * asks the cheapest one alone to confirm (a direct call carrying the shop's `origin`, so that the
 * plant takes the shop's order later), and forwards that plant's real offer, or asks the next if
 * the plant declines or stays silent. A call costs the site O(1) plant messages, not O(plants).
 */
export function brokerBehavior (components: BrokerComponents): Behavior<BrokerState, BrokerMessage> {
  const { transport, site } = components
  const confirmAttempts = components.confirmAttempts ?? BROKER_DEFAULTS.confirmAttempts

  const forward = (ctx: ActorContext<BrokerMessage>, to: PeerRef, answer: BidAnswer): void => {
    ctx.task((signal) => transport.answer(to, answer, { signal }), (outcome) => ({ type: 'sent', what: `answer to ${answer.requestId}`, outcome }))
  }
  const decline = (ctx: ActorContext<BrokerMessage>, upstream: BidCall, reason: string): void => {
    forward(ctx, upstream.replyTo, { type: 'bid.decline', requestId: upstream.requestId, bidder: transport.self().peer, reason: `site ${site}: ${reason}` })
  }
  const offer = (ctx: ActorContext<BrokerMessage>, upstream: BidCall, best: BidOffer, why: string): void => {
    forward(ctx, upstream.replyTo, { ...best, requestId: upstream.requestId, via: transport.self().peer, reason: `${best.reason} (${why})` })
  }
  /** the call as the broker's plants get it: answers come to the broker, the origin lets the shop order */
  const localCall = (upstream: BidCall, requestId: string, windowMs: number): BidCall =>
    ({ ...upstream, requestId, replyTo: transport.self(), windowMs, origin: { requestId: upstream.requestId, caller: upstream.replyTo.peer } })

  const finish = (state: BrokerState, id: string, ctx: ActorContext<BrokerMessage>): void => {
    const round = state.rounds.get(id)
    if (round === undefined) return
    state.rounds.delete(id)
    if (round.kind === 'broadcast') {
      const best = rankOffers(round.offers, ctx.random).ranked[0]
      if (best !== undefined) {
        offer(ctx, round.upstream, best, `best of ${round.offers.length} at site ${site}`)
        return
      }
    } else if (round.attempt !== undefined) state.attempts.delete(round.attempt.id)
    decline(ctx, round.upstream, round.declines.length > 0 ? round.declines.join('; ') : 'no plant answered')
  }

  /** asks the next candidate of a chosen round to confirm, or declines when none is left */
  const confirmNext = (state: BrokerState, id: string, round: ChosenRound, ctx: ActorContext<BrokerMessage>): void => {
    if (round.attempt !== undefined) state.attempts.delete(round.attempt.id)
    round.attempt = undefined
    const next = round.attemptsLeft > 0 ? round.candidates.shift() : undefined
    if (next === undefined) {
      finish(state, id, ctx)
      return
    }
    round.attemptsLeft--
    const attemptId = `b-${ctx.random.hex(12)}`
    round.attempt = { id: attemptId, plant: next.plant.peer }
    state.attempts.set(attemptId, id)
    const call = localCall(round.upstream, attemptId, round.attemptMs)
    ctx.task((signal) => transport.callBidders([next.plant.peer], call, { signal }), (outcome) => ({ type: 'attempt.sent', requestId: attemptId, outcome }))
    ctx.task((signal) => ctx.clock.sleep(round.attemptMs, { signal }), () => ({ type: 'attempt.deadline', requestId: attemptId }))
  }

  /** prices the call for every live plant from its report; false when some plant of the site has not reported */
  const startChosen = (state: BrokerState, upstream: BidCall, windowMs: number, ctx: ActorContext<BrokerMessage>): boolean => {
    const live = livePlants(state.cache, ctx.clock.now())
    if (live.length === 0) return false
    // a plant of the site that has not reported yet (it just joined, or its first report was lost)
    // would be left out of the choice: until it reports, the site is asked as a whole
    const reported = new Set(live.map((plant) => plant.ref.peer))
    if (transport.siteBidders(site).some((peer) => !reported.has(peer))) return false
    const request = callRequest(upstream)
    const offers: BidOffer[] = []
    const declines: string[] = []
    for (const plant of live) {
      const verdict = estimate(plant, upstream, request, ctx.random)
      if (verdict.bid) offers.push({ type: 'bid.offer', requestId: upstream.requestId, plant: plant.ref, cost: verdict.cost, reason: verdict.reason })
      else declines.push(`${plant.ref.peer.slice(-8)}: ${verdict.reason}`)
    }
    if (offers.length === 0) {
      // the reports say no plant can take it: no plant needs to hear of the call
      decline(ctx, upstream, declines.join('; '))
      return true
    }
    const id = `r-${ctx.random.hex(12)}`
    const round: ChosenRound = {
      kind: 'chosen',
      upstream,
      candidates: rankOffers(offers, ctx.random).ranked,
      priced: offers.length,
      attemptsLeft: confirmAttempts,
      attemptMs: Math.max(1, Math.floor(windowMs / Math.min(confirmAttempts, offers.length))),
      declines: []
    }
    state.rounds.set(id, round)
    ctx.task((signal) => ctx.clock.sleep(windowMs, { signal }), () => ({ type: 'round.deadline', requestId: id }))
    confirmNext(state, id, round, ctx)
    return true
  }

  return {
    init: () => ({ rounds: new Map(), attempts: new Map(), cache: new Map() }),
    receive (state, message, ctx) {
      switch (message.type) {
        case 'bid.call': {
          const { call } = message
          const windowMs = Math.max(1, Math.floor(call.windowMs * components.windowShare))
          if (startChosen(state, call, windowMs, ctx)) return state
          // A plant of the site has not reported (the broker or the plant just started, or the
          // plants predate load reports): the call goes to all of the site's plants, as before
          // brokers aggregated.
          const id = `b-${ctx.random.hex(12)}`
          state.rounds.set(id, { kind: 'broadcast', upstream: call, expected: new Set(transport.siteBidders(site)), answered: new Set(), offers: [], declines: [] })
          ctx.task((signal) => transport.publishSiteCall(site, localCall(call, id, windowMs), { signal }), (outcome) => ({ type: 'sent', what: `site call ${id}`, outcome }))
          ctx.task((signal) => ctx.clock.sleep(windowMs, { signal }), () => ({ type: 'round.deadline', requestId: id }))
          return state
        }
        case 'bid.answer': {
          const { answer } = message
          const bidder = answerBidder(answer)
          const chosenId = state.attempts.get(answer.requestId)
          if (chosenId !== undefined) {
            const round = state.rounds.get(chosenId)
            if (round?.kind !== 'chosen' || round.attempt?.plant !== bidder) return state
            if (answer.type === 'bid.offer') {
              state.rounds.delete(chosenId)
              state.attempts.delete(answer.requestId)
              offer(ctx, round.upstream, answer, `best of ${round.priced} at site ${site}, by load reports`)
            } else {
              round.declines.push(`${bidder.slice(-8)}: ${answer.reason}`)
              confirmNext(state, chosenId, round, ctx)
            }
            return state
          }
          const round = state.rounds.get(answer.requestId)
          // answers to calls this broker did not make (a shop on the same node runs its own rounds) are not its business
          if (round?.kind !== 'broadcast' || round.answered.has(bidder)) return state
          round.answered.add(bidder)
          if (answer.type === 'bid.offer') round.offers.push(answer)
          else round.declines.push(`${bidder.slice(-8)}: ${answer.reason}`)
          if (round.expected.size > 0 && [...round.expected].every((p) => round.answered.has(p))) finish(state, answer.requestId, ctx)
          return state
        }
        case 'load.report': {
          const { report, from } = message
          if (report.plant !== from) {
            ctx.log('dropped a load report naming %s from %s', report.plant, from)
            return state
          }
          const refused = noteReport(state.cache, report, ctx.clock.now())
          if (refused !== undefined) ctx.log('ignored a load report: %s', refused)
          return state
        }
        case 'attempt.sent': {
          // a plant the confirmation could not reach will not confirm: the next is asked at once
          const unreachable = message.outcome.ok ? message.outcome.value.length > 0 : true
          const id = state.attempts.get(message.requestId)
          const round = id !== undefined ? state.rounds.get(id) : undefined
          if (!unreachable || id === undefined || round?.kind !== 'chosen' || round.attempt?.id !== message.requestId) return state
          round.declines.push(`${round.attempt.plant.slice(-8)}: unreachable (${message.outcome.ok ? 'the confirmation could not be sent' : message.outcome.error.message})`)
          confirmNext(state, id, round, ctx)
          return state
        }
        case 'attempt.deadline': {
          const id = state.attempts.get(message.requestId)
          const round = id !== undefined ? state.rounds.get(id) : undefined
          if (id === undefined || round?.kind !== 'chosen' || round.attempt?.id !== message.requestId) return state
          round.declines.push(`${round.attempt.plant.slice(-8)}: did not confirm within ${round.attemptMs} ms`)
          confirmNext(state, id, round, ctx)
          return state
        }
        case 'round.deadline': {
          finish(state, message.requestId, ctx)
          return state
        }
        case 'sent': {
          if (!message.outcome.ok) ctx.log('could not send %s: %s', message.what, message.outcome.error.message)
          return state
        }
        default: {
          const unknown: never = message
          throw new Error(`broker got an unknown message ${(unknown as { type: string }).type}`)
        }
      }
    }
  }
}
