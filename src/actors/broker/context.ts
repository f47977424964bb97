import type { ActorContext, TaskOutcome } from '../runtime/index.js'
import type { Transport } from '../../interface/index.js'

/** What every part of the broker works with: its transport, its site, and its settled options. */
export interface BrokerEnv {
  transport: Transport
  site: string
  windowShare: number
  confirmAttempts: number
}

/** The messages the broker sends itself: its tasks' outcomes and its deadlines. */
export type BrokerTaskMessage =
  | { type: 'round.deadline', requestId: string }
  | { type: 'attempt.deadline', requestId: string }
  | { type: 'sent', what: string, outcome: TaskOutcome<void> }
  /** a confirmation went out; `outcome.value`: empty, or the plant it could not reach */
  | { type: 'attempt.sent', requestId: string, outcome: TaskOutcome<string[]> }

/** The broker's context as its parts use it: they start tasks whose outcomes come back as task messages. */
export type BrokerContext = ActorContext<BrokerTaskMessage>
