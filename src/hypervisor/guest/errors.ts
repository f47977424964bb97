/** The guest image could not be built (a package missing, a download or extraction failing). */
export class GuestImageBuildError extends Error {
  static override name = 'GuestImageBuildError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = GuestImageBuildError.name
  }
}

/** The guest agent answered something the protocol does not allow, or the channel closed. */
export class GuestAgentError extends Error {
  static override name = 'GuestAgentError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = GuestAgentError.name
  }
}

/** The guest agent did not answer before the deadline. */
export class GuestAgentTimeoutError extends Error {
  static override name = 'GuestAgentTimeoutError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = GuestAgentTimeoutError.name
  }
}

/** A host command (apt-get, dpkg-deb, qemu-img) exited with an error. */
export class CommandFailedError extends Error {
  static override name = 'CommandFailedError'
  readonly stderr: string
  constructor (command: string, stderr: string, options?: ErrorOptions) {
    super(`${command} failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`, options)
    this.name = CommandFailedError.name
    this.stderr = stderr
  }
}
