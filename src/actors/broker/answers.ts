import type { TaskOutcome } from '../runtime/index.js'
import { answerBidder, type BidAnswer } from '../../interface/index.js'
import { confirmNext, finishRound, type BrokerState } from './rounds.js'
import { offerUpstream } from './upstream.js'
import type { BrokerContext, BrokerEnv } from './context.js'

/** a plant's answer: to a confirmation of a chosen round, or to a broadcast round's call */
export function onBidAnswer (env: BrokerEnv, state: BrokerState, answer: BidAnswer, ctx: BrokerContext): void {
  const chosenId = state.attempts.get(answer.requestId)
  if (chosenId !== undefined) onConfirmation(env, state, chosenId, answer, ctx)
  else onBroadcastAnswer(env, state, answer, ctx)
}

/** the asked plant's offer is forwarded; its decline sends the round on to the next candidate */
function onConfirmation (env: BrokerEnv, state: BrokerState, chosenId: string, answer: BidAnswer, ctx: BrokerContext): void {
  const bidder = answerBidder(answer)
  const round = state.rounds.get(chosenId)
  if (round?.kind !== 'chosen' || round.attempt?.plant !== bidder) return
  if (answer.type === 'bid.offer') {
    state.rounds.delete(chosenId)
    state.attempts.delete(answer.requestId)
    offerUpstream(env, ctx, round.upstream, answer, `best of ${round.priced} at site ${env.site}, by load reports`)
  } else {
    round.declines.push(`${bidder.slice(-8)}: ${answer.reason}`)
    confirmNext(env, state, chosenId, round, ctx)
  }
}

/** one plant's answer counted once; the round ends when every plant expected has answered */
function onBroadcastAnswer (env: BrokerEnv, state: BrokerState, answer: BidAnswer, ctx: BrokerContext): void {
  const bidder = answerBidder(answer)
  const round = state.rounds.get(answer.requestId)
  // answers to calls this broker did not make (a shop on the same node runs its own rounds) are not its business
  if (round?.kind !== 'broadcast' || round.answered.has(bidder)) return
  round.answered.add(bidder)
  if (answer.type === 'bid.offer') round.offers.push(answer)
  else round.declines.push(`${bidder.slice(-8)}: ${answer.reason}`)
  if (round.expected.size > 0 && [...round.expected].every((p) => round.answered.has(p))) finishRound(env, state, answer.requestId, ctx)
}

/** a plant the confirmation could not reach will not confirm: the next is asked at once */
export function onAttemptSent (env: BrokerEnv, state: BrokerState, requestId: string, outcome: TaskOutcome<string[]>, ctx: BrokerContext): void {
  const unreachable = outcome.ok ? outcome.value.length > 0 : true
  const id = state.attempts.get(requestId)
  const round = id !== undefined ? state.rounds.get(id) : undefined
  if (!unreachable || id === undefined || round?.kind !== 'chosen' || round.attempt?.id !== requestId) return
  round.declines.push(`${round.attempt.plant.slice(-8)}: unreachable (${outcome.ok ? 'the confirmation could not be sent' : outcome.error.message})`)
  confirmNext(env, state, id, round, ctx)
}

/** the asked plant stayed silent for its share of the window: the next is asked */
export function onAttemptDeadline (env: BrokerEnv, state: BrokerState, requestId: string, ctx: BrokerContext): void {
  const id = state.attempts.get(requestId)
  const round = id !== undefined ? state.rounds.get(id) : undefined
  if (id === undefined || round?.kind !== 'chosen' || round.attempt?.id !== requestId) return
  round.declines.push(`${round.attempt.plant.slice(-8)}: did not confirm within ${round.attemptMs} ms`)
  confirmNext(env, state, id, round, ctx)
}
