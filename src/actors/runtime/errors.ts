export class ActorStoppedError extends Error {
  static override name = 'ActorStoppedError'
  constructor (actor: string, options?: ErrorOptions) {
    super(`actor ${actor} is stopped`, options)
    this.name = ActorStoppedError.name
  }
}

export class ActorFailedError extends Error {
  static override name = 'ActorFailedError'
  constructor (actor: string, messageType: string, cause: unknown) {
    super(`actor ${actor} failed while handling ${messageType}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = ActorFailedError.name
  }
}

export class MailboxFullError extends Error {
  static override name = 'MailboxFullError'
  constructor (actor: string, limit: number) {
    super(`actor ${actor} has ${limit} messages waiting; refusing more`)
    this.name = MailboxFullError.name
  }
}

/** The requester's deadline passed before the actor replied. */
export class DeadlineExceededError extends Error {
  static override name = 'DeadlineExceededError'
  constructor (message = 'no reply before the deadline', options?: ErrorOptions) {
    super(message, options)
    this.name = DeadlineExceededError.name
  }
}
