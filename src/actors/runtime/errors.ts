export class ActorStoppedError extends Error {
  static override name = 'ActorStoppedError'
  constructor (actor: string, options?: ErrorOptions) {
    super(`actor ${actor} is stopped`, options)
    this.name = ActorStoppedError.name
  }
}

function describe (cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

/** An actor threw while handling a message (or while being rebuilt after that); `cause` is what it threw. */
export class ActorFailedError extends Error {
  static override name = 'ActorFailedError'
  readonly actor: string
  /** the type of the message being handled, or `restart` when the actor's init threw during a restart */
  readonly messageType: string
  constructor (actor: string, messageType: string, cause: unknown, message = `actor ${actor} failed while handling ${messageType}: ${describe(cause)}`) {
    super(message, { cause })
    this.name = ActorFailedError.name
    this.actor = actor
    this.messageType = messageType
  }
}

/**
 * An actor failed more often than its restart budget allows (more than `maxRestarts` failures
 * within `restartWindowMs`) and was stopped for good. `cause` is the last failure.
 */
export class RestartBudgetExhaustedError extends ActorFailedError {
  static override name = 'RestartBudgetExhaustedError'
  /** failures counted inside the window, the last one included */
  readonly failures: number
  readonly maxRestarts: number
  readonly restartWindowMs: number
  constructor (actor: string, budget: { failures: number, maxRestarts: number, restartWindowMs: number }, last: ActorFailedError) {
    super(actor, last.messageType, last,
      `actor ${actor} failed ${budget.failures} time${budget.failures === 1 ? '' : 's'} within ${budget.restartWindowMs} ms, more than its restart budget ` +
      `(${budget.maxRestarts} restarts per ${budget.restartWindowMs} ms) allows, and was stopped; last failure: ${last.message}`)
    this.name = RestartBudgetExhaustedError.name
    this.failures = budget.failures
    this.maxRestarts = budget.maxRestarts
    this.restartWindowMs = budget.restartWindowMs
  }
}

export class MailboxFullError extends Error {
  static override name = 'MailboxFullError'
  constructor (actor: string, limit: number) {
    super(`actor ${actor} has ${limit} messages waiting; refusing more`)
    this.name = MailboxFullError.name
  }
}

export { DeadlineExceededError } from '../../interface/errors.js'
