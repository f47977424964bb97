/** A message that is too large, not JSON, or not of its protocol's shape. */
export class MalformedMessageError extends Error {
  static override name = 'MalformedMessageError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = MalformedMessageError.name
  }
}

/** The remote side answered with an error. `code` is the remote error's name. */
export class RemoteError extends Error {
  static override name = 'RemoteError'
  readonly code: string
  constructor (code: string, message: string) {
    super(message.trim() !== '' ? message : `the remote side failed with ${code !== '' ? code : 'an error'} and gave no reason`)
    this.name = RemoteError.name
    this.code = code
  }
}

/** The caller of a request went away before it was answered. */
export class RemoteGoneError extends Error {
  static override name = 'RemoteGoneError'
  constructor (message: string) {
    super(message)
    this.name = RemoteGoneError.name
  }
}

export class KeyFileError extends Error {
  static override name = 'KeyFileError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = KeyFileError.name
  }
}

/** A swarm key file (the federation's pre-shared key) that is missing, unreadable or not in pnet's format. */
export class SwarmKeyError extends Error {
  static override name = 'SwarmKeyError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = SwarmKeyError.name
  }
}
