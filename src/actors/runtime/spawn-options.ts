import type { ActorFailedError } from './errors.js'

export interface SpawnOptions {
  /** the most messages allowed to wait in the mailbox; @default 10000 */
  mailboxLimit?: number
  /**
   * Restarts allowed within any `restartWindowMs`, as an Erlang supervisor's intensity: the
   * failure after that many within the window stops the actor for good. Failures older than the
   * window no longer count, so an actor that fails now and then is restarted for as long as the
   * process lives. 0 stops it at its first failure.
   * @default 10
   */
  maxRestarts?: number
  /** the window, on the system's clock, over which restarts are counted (Erlang's period); @default 60000 */
  restartWindowMs?: number
  /** how a failure that stops the actor reaches its parent */
  onFailure?: (error: ActorFailedError) => void
}

/** The restart budget an actor gets when its spawn options do not say. */
export const DEFAULT_RESTART_BUDGET = { maxRestarts: 10, restartWindowMs: 60_000 } as const

export const DEFAULT_MAILBOX_LIMIT = 10_000

/** Checks spawn options; the error names the offending option. */
export function validateSpawnOptions (options: SpawnOptions): void {
  const { mailboxLimit, maxRestarts, restartWindowMs } = options
  if (mailboxLimit !== undefined && !(Number.isInteger(mailboxLimit) && mailboxLimit >= 1)) throw new RangeError(`mailboxLimit: must be a whole number of at least 1 (got ${mailboxLimit})`)
  if (maxRestarts !== undefined && !(Number.isInteger(maxRestarts) && maxRestarts >= 0)) throw new RangeError(`maxRestarts: must be a whole number of at least 0 (got ${maxRestarts})`)
  if (restartWindowMs !== undefined && !(Number.isFinite(restartWindowMs) && restartWindowMs > 0)) throw new RangeError(`restartWindowMs: must be a positive number of milliseconds (got ${restartWindowMs})`)
}

