import type { Behavior } from '../runtime/index.js'
import type { BidAnswer, BidCall, LoadReport, Transport } from '../../interface/index.js'
import { noteReport } from './load-cache.js'
import { finishRound, startBroadcast, startChosen, type BrokerState } from './rounds.js'
import { onAttemptDeadline, onAttemptSent, onBidAnswer } from './answers.js'
import type { BrokerEnv, BrokerTaskMessage } from './context.js'

export type { BrokerState } from './rounds.js'

export type BrokerMessage =
  | { type: 'bid.call', call: BidCall }
  | { type: 'bid.answer', answer: BidAnswer }
  /** `from`: the noise-authenticated sender; the edge checked it is the report's plant */
  | { type: 'load.report', report: LoadReport, from: string }
  | BrokerTaskMessage

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

/**
 * A site's broker: an aggregator. Its plants push their load to it (`load.report`); it answers a
 * call for bids by pricing every live plant with the plant's own cost model from its last report,
 * asks the cheapest one alone to confirm (a direct call carrying the shop's `origin`, so that the
 * plant takes the shop's order later), and forwards that plant's real offer, or asks the next if
 * the plant declines or stays silent. A call costs the site O(1) plant messages, not O(plants).
 */
export function brokerBehavior (components: BrokerComponents): Behavior<BrokerState, BrokerMessage> {
  const env: BrokerEnv = { ...components, confirmAttempts: components.confirmAttempts ?? BROKER_DEFAULTS.confirmAttempts }
  return {
    init: () => ({ rounds: new Map(), attempts: new Map(), cache: new Map() }),
    receive (state, message, ctx) {
      switch (message.type) {
        case 'bid.call': {
          const { call } = message
          const windowMs = Math.max(1, Math.floor(call.windowMs * env.windowShare))
          if (!startChosen(env, state, call, windowMs, ctx)) startBroadcast(env, state, call, windowMs, ctx)
          return state
        }
        case 'bid.answer':
          onBidAnswer(env, state, message.answer, ctx)
          return state
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
        case 'attempt.sent':
          onAttemptSent(env, state, message.requestId, message.outcome, ctx)
          return state
        case 'attempt.deadline':
          onAttemptDeadline(env, state, message.requestId, ctx)
          return state
        case 'round.deadline':
          finishRound(env, state, message.requestId, ctx)
          return state
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
