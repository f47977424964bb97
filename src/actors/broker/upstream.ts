import type { BidAnswer, BidCall, BidOffer, PeerRef } from '../../interface/index.js'
import type { BrokerContext, BrokerEnv } from './context.js'

/** sends an answer to a caller; a failure to send comes back as a `sent` message */
export function forward (env: BrokerEnv, ctx: BrokerContext, to: PeerRef, answer: BidAnswer): void {
  ctx.task((signal) => env.transport.answer(to, answer, { signal }), (outcome) => ({ type: 'sent', what: `answer to ${answer.requestId}`, outcome }))
}

/** the site's decline of the caller's call */
export function declineUpstream (env: BrokerEnv, ctx: BrokerContext, upstream: BidCall, reason: string): void {
  forward(env, ctx, upstream.replyTo, { type: 'bid.decline', requestId: upstream.requestId, bidder: env.transport.self().peer, reason: `site ${env.site}: ${reason}` })
}

/** a plant's offer forwarded to the caller, as an answer to the caller's call, through this broker */
export function offerUpstream (env: BrokerEnv, ctx: BrokerContext, upstream: BidCall, best: BidOffer, why: string): void {
  forward(env, ctx, upstream.replyTo, { ...best, requestId: upstream.requestId, via: env.transport.self().peer, reason: `${best.reason} (${why})` })
}

/** the call as the broker's plants get it: answers come to the broker, the origin lets the shop order */
export function localCall (env: BrokerEnv, upstream: BidCall, requestId: string, windowMs: number): BidCall {
  return { ...upstream, requestId, replyTo: env.transport.self(), windowMs, origin: { requestId: upstream.requestId, caller: upstream.replyTo.peer } }
}
