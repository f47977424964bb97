import type { BidCall, BidOffer } from '../../interface/index.js'
import { callRequest, rankOffers } from '../../pricing/index.js'
import { estimate, livePlants, type LoadCache, type CachedPlant } from './load-cache.js'
import { declineUpstream, localCall, offerUpstream } from './upstream.js'
import type { BrokerContext, BrokerEnv } from './context.js'

/** A round the old way: the call republished to every plant of the site, the best answer forwarded. */
export interface BroadcastRound {
  kind: 'broadcast'
  upstream: BidCall
  expected: Set<string>
  answered: Set<string>
  offers: BidOffer[]
  declines: string[]
}

/** A round priced from the load reports: the cheapest plant is asked to confirm, then the next. */
export interface ChosenRound {
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

/** ends a round: a broadcast round forwards its best offer, else the site declines with what its plants said */
export function finishRound (env: BrokerEnv, state: BrokerState, id: string, ctx: BrokerContext): void {
  const round = state.rounds.get(id)
  if (round === undefined) return
  state.rounds.delete(id)
  if (round.kind === 'broadcast') {
    const best = rankOffers(round.offers, ctx.random).ranked[0]
    if (best !== undefined) {
      offerUpstream(env, ctx, round.upstream, best, `best of ${round.offers.length} at site ${env.site}`)
      return
    }
  } else if (round.attempt !== undefined) state.attempts.delete(round.attempt.id)
  declineUpstream(env, ctx, round.upstream, round.declines.length > 0 ? round.declines.join('; ') : 'no plant answered')
}

/** asks the next candidate of a chosen round to confirm, or declines when none is left */
export function confirmNext (env: BrokerEnv, state: BrokerState, id: string, round: ChosenRound, ctx: BrokerContext): void {
  if (round.attempt !== undefined) state.attempts.delete(round.attempt.id)
  round.attempt = undefined
  const next = round.attemptsLeft > 0 ? round.candidates.shift() : undefined
  if (next === undefined) {
    finishRound(env, state, id, ctx)
    return
  }
  round.attemptsLeft--
  const attemptId = `b-${ctx.random.hex(12)}`
  round.attempt = { id: attemptId, plant: next.plant.peer }
  state.attempts.set(attemptId, id)
  const call = localCall(env, round.upstream, attemptId, round.attemptMs)
  ctx.task((signal) => env.transport.callBidders([next.plant.peer], call, { signal }), (outcome) => ({ type: 'attempt.sent', requestId: attemptId, outcome }))
  ctx.task((signal) => ctx.clock.sleep(round.attemptMs, { signal }), () => ({ type: 'attempt.deadline', requestId: attemptId }))
}

/** each live plant's would-be offer for the call, by its own cost model from its last report, and the reasons of those that would decline */
function priceLivePlants (live: CachedPlant[], upstream: BidCall, ctx: BrokerContext): { offers: BidOffer[], declines: string[] } {
  const request = callRequest(upstream)
  const offers: BidOffer[] = []
  const declines: string[] = []
  for (const plant of live) {
    const verdict = estimate(plant, upstream, request, ctx.random)
    if (verdict.bid) offers.push({ type: 'bid.offer', requestId: upstream.requestId, plant: plant.ref, cost: verdict.cost, reason: verdict.reason })
    else declines.push(`${plant.ref.peer.slice(-8)}: ${verdict.reason}`)
  }
  return { offers, declines }
}

/** prices the call for every live plant from its report; false when some plant of the site has not reported */
export function startChosen (env: BrokerEnv, state: BrokerState, upstream: BidCall, windowMs: number, ctx: BrokerContext): boolean {
  const live = livePlants(state.cache, ctx.clock.now())
  if (live.length === 0) return false
  // a plant of the site that has not reported yet (it just joined, or its first report was lost)
  // would be left out of the choice: until it reports, the site is asked as a whole
  const reported = new Set(live.map((plant) => plant.ref.peer))
  if (env.transport.siteBidders(env.site).some((peer) => !reported.has(peer))) return false
  const { offers, declines } = priceLivePlants(live, upstream, ctx)
  if (offers.length === 0) {
    // the reports say no plant can take it: no plant needs to hear of the call
    declineUpstream(env, ctx, upstream, declines.join('; '))
    return true
  }
  const id = `r-${ctx.random.hex(12)}`
  const round: ChosenRound = {
    kind: 'chosen',
    upstream,
    candidates: rankOffers(offers, ctx.random).ranked,
    priced: offers.length,
    attemptsLeft: env.confirmAttempts,
    attemptMs: Math.max(1, Math.floor(windowMs / Math.min(env.confirmAttempts, offers.length))),
    declines: []
  }
  state.rounds.set(id, round)
  ctx.task((signal) => ctx.clock.sleep(windowMs, { signal }), () => ({ type: 'round.deadline', requestId: id }))
  confirmNext(env, state, id, round, ctx)
  return true
}

/**
 * A plant of the site has not reported (the broker or the plant just started, or the plants
 * predate load reports): the call goes to all of the site's plants, as before brokers aggregated.
 */
export function startBroadcast (env: BrokerEnv, state: BrokerState, call: BidCall, windowMs: number, ctx: BrokerContext): void {
  const { transport, site } = env
  const id = `b-${ctx.random.hex(12)}`
  state.rounds.set(id, { kind: 'broadcast', upstream: call, expected: new Set(transport.siteBidders(site)), answered: new Set(), offers: [], declines: [] })
  ctx.task((signal) => transport.publishSiteCall(site, localCall(env, call, id, windowMs), { signal }), (outcome) => ({ type: 'sent', what: `site call ${id}`, outcome }))
  ctx.task((signal) => ctx.clock.sleep(windowMs, { signal }), () => ({ type: 'round.deadline', requestId: id }))
}
